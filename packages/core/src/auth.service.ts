import type { Clock } from './clock';
import { KeysmithError, conflict, validationError } from './errors';
import { hashSecret } from './key-format';
import type { Millis, Session, TeamWithRole, User } from './model';
import { permissionsOf, type Permission } from './permissions';
import type { PasswordHasher, Store } from './ports';
import { createId, randomBase62, type Random } from './random';

export interface AuthServiceOptions {
  store: Store;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  /** A session ends after this long without a request. */
  sessionIdleMs?: number;
  /** A session ends this long after login, whatever the activity. */
  sessionAbsoluteMs?: number;
}

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

export interface AuthService {
  signup(input: { email: string; password: string; name: string }, context: { ip: string | null; userAgent: string | null }): Promise<{ user: User; team: TeamWithRole; token: string; session: Session }>;
  login(input: { email: string; password: string }, context: { ip: string | null; userAgent: string | null }): Promise<{ user: User; token: string; session: Session }>;
  logout(sessionId: string): Promise<void>;
  /** The session and user for a cookie token, or undefined if it is unknown or has expired. */
  authenticate(token: string): Promise<{ user: User; session: Session } | undefined>;
  me(user: User): Promise<{ user: User; teams: Array<TeamWithRole & { permissions: Permission[] }> }>;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Trims and lower-cases an e-mail, refusing anything that is not shaped like one. */
export function checkEmail(email: string, path = 'email'): string {
  const normalized = normalizeEmail(email);
  if (normalized.length > 254 || !EMAIL_PATTERN.test(normalized)) throw validationError(path, 'must be an e-mail address');
  return normalized;
}

/** Accounts and sessions. */
export function createAuthService({
  store,
  clock,
  random,
  hasher,
  sessionIdleMs = 7 * 24 * 3600 * 1000,
  sessionAbsoluteMs = 30 * 24 * 3600 * 1000,
}: AuthServiceOptions): AuthService {
  // ASVS 5.0 6.3.8: an unknown e-mail costs one hash verification too, so timing does not tell.
  const dummyHash = hasher.hash(randomBase62(random, 24));

  async function startSession(userId: string): Promise<{ token: string; session: Session }> {
    const token = randomBase62(random, 43);
    const now = clock.now();
    const session: Session = { id: createId(random, 'ses'), userId, createdAt: now, lastSeenAt: now, expiresAt: now + sessionAbsoluteMs };
    await store.sessions.insert({ ...session, tokenHash: hashSecret(token) });
    return { token, session };
  }

  return {
    async signup(input, context) {
      const email = checkEmail(input.email);
      const name = input.name.trim();
      if (!name) throw validationError('name', 'must not be empty');
      const passwordHash = await hasher.hash(input.password);
      const now = clock.now();
      const user: User = { id: createId(random, 'usr'), email, name, createdAt: now };
      const team = { id: createId(random, 'team'), name: `${name}'s team`, creditsBalance: null, personalOf: user.id, createdAt: now };
      await store.transaction(async (tx) => {
        if (!(await tx.users.insert({ ...user, passwordHash }))) throw conflict('This e-mail is already registered');
        await tx.teams.insert(team);
        await tx.members.insert({ teamId: team.id, userId: user.id, role: 'owner', joinedAt: now });
        await tx.audit.insert({
          id: createId(random, 'aud'),
          teamId: team.id,
          action: 'team.created',
          actor: { type: 'user', id: user.id, label: email },
          target: { type: 'team', id: team.id, label: team.name },
          ip: context.ip,
          userAgent: context.userAgent,
          createdAt: now,
          details: { personal: true },
        });
      });
      const { token, session } = await startSession(user.id);
      return { user, team: { id: team.id, name: team.name, role: 'owner' }, token, session };
    },

    async login(input, context) {
      const email = normalizeEmail(input.email);
      const now = clock.now();
      // The attempt is counted before the password is checked, so parallel attempts cannot
      // all slip under the limit; a successful login takes its attempt back.
      const hit = await store.throttle.hit(email, now, LOGIN_WINDOW_MS);
      if (hit.count > LOGIN_MAX_FAILURES) {
        const retryAfterSeconds = Math.max(1, Math.ceil((hit.windowStart + LOGIN_WINDOW_MS - now) / 1000));
        throw new KeysmithError('RATE_LIMITED', 'Too many failed logins; try again later', { retryAfterSeconds });
      }
      const user = await store.users.findByEmail(email);
      const ok = user ? await hasher.verify(user.passwordHash, input.password) : (await hasher.verify(await dummyHash, input.password), false);
      const audit = async (action: 'auth.login' | 'auth.login_failed', userId: string) => {
        const teamId = await store.teams.personalTeamOf(userId);
        if (!teamId) return;
        await store.audit.insert({
          id: createId(random, 'aud'),
          teamId,
          action,
          actor: { type: 'user', id: userId, label: email },
          target: { type: 'user', id: userId, label: email },
          ip: context.ip,
          userAgent: context.userAgent,
          createdAt: clock.now(),
          details: {},
        });
      };
      if (!user || !ok) {
        if (user) await audit('auth.login_failed', user.id);
        throw new KeysmithError('INVALID_CREDENTIALS', 'Wrong e-mail or password');
      }
      await store.throttle.release(email);
      await audit('auth.login', user.id);
      const { token, session } = await startSession(user.id);
      const { passwordHash: _omit, ...publicUser } = user;
      return { user: publicUser, token, session };
    },

    async logout(sessionId) {
      await store.sessions.delete(sessionId);
    },

    async authenticate(token) {
      const session = await store.sessions.findByTokenHash(hashSecret(token));
      if (!session) return undefined;
      const now = clock.now();
      if (session.expiresAt <= now || session.lastSeenAt + sessionIdleMs <= now) {
        await store.sessions.delete(session.id);
        return undefined;
      }
      // Writing the last-seen time at most once a minute keeps reads cheap.
      if (now - session.lastSeenAt > 60_000) await store.sessions.touch(session.id, now);
      const user = await store.users.findById(session.userId);
      if (!user) return undefined;
      return { user, session: { ...session, lastSeenAt: now } };
    },

    async me(user) {
      const teams = await store.teams.listForUser(user.id);
      return { user, teams: teams.map((t) => ({ ...t, permissions: permissionsOf(t.role) })) };
    },
  };
}

export type { Millis };
