import { actorOf, requirePermission, type Principal, type TeamAccess } from './access';
import { createAuditWriter } from './audit';
import type { Clock } from './clock';
import { KeysmithError, conflict, forbidden, notFound, validationError } from './errors';
import { checkEmail } from './auth.service';
import { hashSecret } from './key-format';
import type { Team, TeamWithRole, User } from './model';
import type { Role } from './permissions';
import type { CacheEvent, Store } from './ports';
import { createId, randomBase62, type Random } from './random';

export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface TeamServiceOptions {
  store: Store;
  clock: Clock;
  random: Random;
  /** Drops a change from this instance's key cache; called after the change has committed. */
  invalidate?: (event: CacheEvent) => void;
}

function teamName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw validationError('name', 'must not be empty');
  return trimmed;
}

/** Teams, members, invitations. */
export function createTeamService({ store, clock, random, invalidate = () => {} }: TeamServiceOptions) {
  const audit = createAuditWriter(clock, random);
  const iso = (ms: number) => new Date(ms).toISOString();

  /** Only an owner may grant or take away the owner role. */
  function checkRoleChange(access: TeamAccess, from: Role | null, to: Role | null): void {
    if ((from === 'owner' || to === 'owner') && access.role !== 'owner' && access.role !== 'service') {
      throw forbidden('Only an owner can grant or remove the owner role');
    }
  }

  return {
    async listTeams(user: User): Promise<TeamWithRole[]> {
      return store.teams.listForUser(user.id);
    },

    async createTeam(principal: Principal & { type: 'user' }, input: { name: string }, context: { ip: string | null; userAgent: string | null }): Promise<TeamWithRole> {
      const now = clock.now();
      const team: Team = { id: createId(random, 'team'), name: teamName(input.name), creditsBalance: null, personalOf: null, createdAt: now };
      await store.transaction(async (tx) => {
        await tx.teams.insert(team);
        await tx.members.insert({ teamId: team.id, userId: principal.user.id, role: 'owner', joinedAt: now });
        await audit(tx, { teamId: team.id, role: 'owner', actor: actorOf(principal), ...context }, 'team.created', { type: 'team', id: team.id, label: team.name });
      });
      return { id: team.id, name: team.name, role: 'owner' };
    },

    async getTeam(access: TeamAccess) {
      const team = await store.teams.findById(access.teamId);
      if (!team) throw notFound('Team');
      return {
        id: team.id,
        name: team.name,
        credits: team.creditsBalance === null ? null : { balance: team.creditsBalance },
        createdAt: iso(team.createdAt),
      };
    },

    async updateTeam(access: TeamAccess, input: { name?: string; credits?: { balance: number } | null }) {
      requirePermission(access, 'team.manage');
      const changes: { name?: string; creditsBalance?: number | null } = {};
      if (input.name !== undefined) changes.name = teamName(input.name);
      if (input.credits !== undefined) changes.creditsBalance = input.credits === null ? null : input.credits.balance;
      await store.transaction(async (tx) => {
        const team = await tx.teams.findById(access.teamId);
        if (!team) throw notFound('Team');
        await tx.teams.update(access.teamId, changes);
        // Whether the team has a balance decides if verification charges it: caches must learn of it.
        if (changes.creditsBalance !== undefined) await tx.cacheEvents.publish({ type: 'team', id: access.teamId });
        await audit(tx, access, 'team.updated', { type: 'team', id: team.id, label: changes.name ?? team.name }, { fields: Object.keys(input) });
      });
      if (changes.creditsBalance !== undefined) invalidate({ type: 'team', id: access.teamId });
      return this.getTeam(access);
    },

    async listMembers(access: TeamAccess) {
      requirePermission(access, 'keys.read');
      const members = await store.members.list(access.teamId);
      return members.map((m) => ({ userId: m.userId, email: m.email, name: m.name, role: m.role, joinedAt: iso(m.joinedAt) }));
    },

    async invite(access: TeamAccess, input: { email: string; role: Role }) {
      requirePermission(access, 'members.manage');
      checkRoleChange(access, null, input.role);
      const email = checkEmail(input.email);
      const now = clock.now();
      const token = randomBase62(random, 40);
      const invitation = { id: createId(random, 'inv'), teamId: access.teamId, email, role: input.role, expiresAt: now + INVITATION_TTL_MS, createdBy: access.actor.id, createdAt: now, acceptedAt: null };
      await store.transaction(async (tx) => {
        await tx.invitations.insert({ ...invitation, tokenHash: hashSecret(token) });
        await audit(tx, access, 'member.invited', { type: 'invitation', id: invitation.id, label: email }, { role: input.role });
      });
      return { data: { id: invitation.id, email, role: input.role, expiresAt: iso(invitation.expiresAt) }, inviteToken: token };
    },

    async acceptInvitation(principal: Principal & { type: 'user' }, token: string, context: { ip: string | null; userAgent: string | null }): Promise<TeamWithRole> {
      const invitation = await store.invitations.findByTokenHash(hashSecret(token));
      const now = clock.now();
      // An invitation is for the address it was sent to; any other is answered as unknown.
      if (!invitation || invitation.acceptedAt !== null || invitation.expiresAt <= now || invitation.email !== principal.user.email) {
        throw notFound('Invitation');
      }
      const team = await store.teams.findById(invitation.teamId);
      if (!team) throw notFound('Invitation');
      return store.transaction(async (tx) => {
        if (!(await tx.invitations.markAccepted(invitation.id, now))) throw notFound('Invitation');
        if (await tx.members.find(team.id, principal.user.id)) throw conflict('You are already a member of this team');
        await tx.members.insert({ teamId: team.id, userId: principal.user.id, role: invitation.role, joinedAt: now });
        await audit(tx, { teamId: team.id, role: invitation.role, actor: actorOf(principal), ...context }, 'member.joined', { type: 'user', id: principal.user.id, label: principal.user.email }, { role: invitation.role });
        return { id: team.id, name: team.name, role: invitation.role };
      });
    },

    async changeRole(access: TeamAccess, userId: string, role: Role) {
      requirePermission(access, 'members.manage');
      return store.transaction(async (tx) => {
        await tx.members.lockTeam(access.teamId);
        const member = await tx.members.find(access.teamId, userId);
        if (!member) throw notFound('Member');
        checkRoleChange(access, member.role, role);
        if (member.role === 'owner' && role !== 'owner' && (await tx.members.countOwners(access.teamId)) <= 1) {
          throw conflict('A team must keep at least one owner');
        }
        await tx.members.setRole(access.teamId, userId, role);
        const user = await tx.users.findById(userId);
        await audit(tx, access, 'member.role_changed', { type: 'user', id: userId, label: user?.email ?? userId }, { from: member.role, to: role });
        const updated = (await tx.members.list(access.teamId)).find((m) => m.userId === userId);
        if (!updated) throw notFound('Member');
        return { userId, email: updated.email, name: updated.name, role, joinedAt: iso(updated.joinedAt) };
      });
    },

    async removeMember(access: TeamAccess, userId: string): Promise<void> {
      requirePermission(access, 'members.manage');
      await store.transaction(async (tx) => {
        await tx.members.lockTeam(access.teamId);
        const member = await tx.members.find(access.teamId, userId);
        if (!member) throw notFound('Member');
        checkRoleChange(access, member.role, null);
        if (member.role === 'owner' && (await tx.members.countOwners(access.teamId)) <= 1) {
          throw conflict('A team must keep at least one owner');
        }
        const user = await tx.users.findById(userId);
        await tx.members.delete(access.teamId, userId);
        await audit(tx, access, 'member.removed', { type: 'user', id: userId, label: user?.email ?? userId }, { role: member.role });
      });
    },
  };
}

export type TeamService = ReturnType<typeof createTeamService>;
export { KeysmithError };
