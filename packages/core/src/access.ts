import { KeysmithError, forbidden, notFound } from './errors';
import type { Actor, RequestContext, User } from './model';
import { can, type Permission, type Role } from './permissions';
import type { Store } from './ports';

/** Who is calling: a signed-in person or a service token. */
export type Principal =
  | { type: 'user'; user: User; sessionId: string }
  | { type: 'service'; tokenId: string; label: string };

/** A caller resolved to one team, with the role it holds there. */
export interface TeamAccess extends RequestContext {
  teamId: string;
  role: Role | 'service';
}

export function actorOf(principal: Principal): Actor {
  return principal.type === 'user'
    ? { type: 'user', id: principal.user.id, label: principal.user.email }
    : { type: 'service', id: principal.tokenId, label: principal.label };
}

/**
 * Resolves the team a request acts on: the `X-Team-Id` header, or a person's personal team.
 * A team the caller is not a member of is NOT_FOUND, never FORBIDDEN.
 */
export async function resolveTeamAccess(
  store: Store,
  principal: Principal,
  teamIdHeader: string | undefined,
  context: { ip: string | null; userAgent: string | null },
): Promise<TeamAccess> {
  const base = { actor: actorOf(principal), ip: context.ip, userAgent: context.userAgent };
  if (principal.type === 'service') {
    if (!teamIdHeader) {
      throw new KeysmithError('VALIDATION_FAILED', 'X-Team-Id: is required with a service token', {
        details: [{ path: 'X-Team-Id', message: 'is required with a service token' }],
      });
    }
    const team = await store.teams.findById(teamIdHeader);
    if (!team) throw notFound('Team');
    return { ...base, teamId: team.id, role: 'service' };
  }
  const teams = await store.teams.listForUser(principal.user.id);
  if (teamIdHeader) {
    const member = teams.find((t) => t.id === teamIdHeader);
    if (!member) throw notFound('Team');
    return { ...base, teamId: member.id, role: member.role };
  }
  const personal = await store.teams.personalTeamOf(principal.user.id);
  const membership = personal ? teams.find((t) => t.id === personal) : undefined;
  if (!membership) throw notFound('Team');
  return { ...base, teamId: membership.id, role: membership.role };
}

/** Throws FORBIDDEN unless the caller's role holds the permission (deny by default). */
export function requirePermission(access: TeamAccess, permission: Permission): void {
  if (!can(access.role, permission)) throw forbidden(`Your role does not allow ${permission}`);
}
