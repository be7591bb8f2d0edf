import type {
  Actor,
  ApiKey,
  AuditAction,
  AuditEntry,
  Invitation,
  KeyStatus,
  MemberView,
  Membership,
  Millis,
  RateLimitSetting,
  ServiceToken,
  Session,
  Team,
  TeamWithRole,
  UsagePoint,
  User,
  UserWithPassword,
} from './model';
import type { PageRequest } from './pagination';
import type { ProviderKeyRepository } from './provider-keys.service';
import type { WebhookRepository } from './webhooks/model';
import type { AlertRepository } from './alerts/model';
import type { UsageBatch } from './verify/usage-buffer';
import type { Role } from './permissions';

export interface UserRepository {
  /** Inserts a user; returns false when the normalised e-mail is already taken. */
  insert(user: UserWithPassword): Promise<boolean>;
  findByEmail(email: string): Promise<UserWithPassword | undefined>;
  findById(id: string): Promise<User | undefined>;
}

export interface SessionRepository {
  insert(session: Session & { tokenHash: string }): Promise<void>;
  /** The session whose token has this hash, if it has not been deleted. */
  findByTokenHash(tokenHash: string): Promise<Session | undefined>;
  touch(id: string, lastSeenAt: Millis): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface LoginThrottle {
  /**
   * Atomically counts one attempt for `email` in a fixed window that starts at its first attempt
   * and lasts `windowMs`, and returns the count including this one (1 for a fresh window).
   * Concurrent callers get distinct counts, so no more than the limit ever pass.
   */
  hit(email: string, now: Millis, windowMs: number): Promise<{ count: number; windowStart: Millis }>;
  /** Takes back one attempt (a successful login does not count as a failure). */
  release(email: string): Promise<void>;
}

export interface TeamRepository {
  insert(team: Team): Promise<void>;
  /** The team; `creditsBalance` includes what open credit leases of its current generation still hold. */
  findById(id: string): Promise<Team | undefined>;
  /** Changes it; setting `creditsBalance` bumps the balance's credits generation in the same statement. */
  update(id: string, changes: { name?: string; creditsBalance?: number | null }): Promise<void>;
  listForUser(userId: string): Promise<TeamWithRole[]>;
  /** The id of the personal team of this user, if it still exists. */
  personalTeamOf(userId: string): Promise<string | undefined>;
}

export interface MemberRepository {
  insert(membership: Membership): Promise<void>;
  find(teamId: string, userId: string): Promise<Membership | undefined>;
  list(teamId: string): Promise<MemberView[]>;
  setRole(teamId: string, userId: string, role: Role): Promise<void>;
  delete(teamId: string, userId: string): Promise<void>;
  countOwners(teamId: string): Promise<number>;
  /** Locks the team's member rows until the transaction ends (PostgreSQL); no-op on SQLite. */
  lockTeam(teamId: string): Promise<void>;
}

export interface InvitationRepository {
  insert(invitation: Invitation & { tokenHash: string }): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<Invitation | undefined>;
  /** Marks it accepted only if it was not yet; returns whether this call did. */
  markAccepted(id: string, at: Millis): Promise<boolean>;
}

export type KeySort = 'createdAt' | '-createdAt' | 'name' | '-name' | 'lastUsedAt' | '-lastUsedAt';

export interface ListKeysQuery {
  teamId: string;
  page: PageRequest;
  sort: KeySort;
  q: string | null;
  status: KeyStatus | null;
  now: Millis;
}

/** A key record as the verifier sees it. */
export interface KeyForVerification extends ApiKey {
  /** Set when the secret presented is an old one kept after a regenerate. */
  oldSecret: { validUntil: Millis } | null;
  /** Whether the key's team has a credit balance to charge (null balance: unlimited). */
  teamHasBalance: boolean;
}

export interface KeyRepository {
  /** Inserts a key with the hash of its secret; the hash is unique across all keys. */
  insert(key: ApiKey, hash: string): Promise<void>;
  /**
   * The key in this team, or undefined (another team's key is not found). Here and in
   * `findForUpdate` and `list`, `credits.remaining` includes what open credit leases of the
   * current credits generation still hold, as their holders last reported (see `CreditLeaseStore`).
   */
  find(teamId: string, id: string): Promise<ApiKey | undefined>;
  /** Like find, but locks the row until the transaction ends (PostgreSQL). */
  findForUpdate(teamId: string, id: string): Promise<ApiKey | undefined>;
  list(query: ListKeysQuery): Promise<ApiKey[]>;
  count(query: Omit<ListKeysQuery, 'page' | 'sort'>): Promise<number>;
  update(id: string, changes: Partial<Omit<ApiKey, 'id' | 'teamId' | 'createdAt' | 'createdBy'>>): Promise<void>;
  /**
   * Replaces the key's secret hash. The old hash is kept as an old secret valid until
   * `oldValidUntil` (now, for no grace), after which it answers REVOKED.
   */
  replaceSecret(id: string, oldHash: string, newHash: string, prefix: string, oldValidUntil: Millis, now: Millis): Promise<void>;
  currentHash(id: string): Promise<string | undefined>;
  /** Ends every grace period of old secrets of this key (on revoke). */
  expireOldSecrets(id: string, now: Millis): Promise<void>;
  delete(id: string): Promise<void>;
  /** The key whose current or old secret has this hash; `credits.remaining` is what is not leased. */
  findByHash(hash: string): Promise<KeyForVerification | undefined>;
  /** How many secret hashes exist (current and old). */
  countHashes(): Promise<number>;
  /** Calls `add` with every secret hash (current and old), reading in pages; returns how many. */
  scanHashes(add: (hash: string) => void): Promise<number>;
  /**
   * Refills the key's credits to the refill amount if they were last refilled before
   * `periodStart`; atomic and idempotent. A refill bumps the credits generation (see
   * `CreditLeaseStore`), as does every `update` that sets `credits`, in the same statement.
   */
  refillCredits(id: string, periodStart: Millis): Promise<void>;
  /**
   * Lowers `remaining` by `cost` only while it stays ≥ 0, atomically; returns the new
   * remaining, or null when it would go below zero.
   */
  consumeCredits(id: string, cost: number): Promise<number | null>;
}

export interface TeamCredits {
  /**
   * Lowers the team balance by `cost` only while it stays ≥ 0, atomically. Returns the new
   * balance, `null` when it would go below zero, or `'unlimited'` when the team has no balance.
   */
  consume(teamId: string, cost: number): Promise<number | null | 'unlimited'>;
}

/** Reads of the usage series; it is written only through `Store.writeUsage` (exactly once per batch). */
export interface UsageRepository {
  /** Hourly buckets of one key, or of the whole team when keyId is null, in [from, to). */
  series(teamId: string, keyId: string | null, from: Millis, to: Millis): Promise<UsagePoint[]>;
  byKey(teamId: string, from: Millis, to: Millis): Promise<Array<{ keyId: string; valid: number; rejected: number; creditsUsed: number }>>;
}

export interface AuditQuery {
  teamId: string;
  page: PageRequest;
  action: AuditAction | null;
  targetId: string | null;
}

export interface AuditRepository {
  insert(entry: AuditEntry): Promise<void>;
  list(query: AuditQuery): Promise<AuditEntry[]>;
  count(query: Omit<AuditQuery, 'page'>): Promise<number>;
}

export interface ServiceTokenRepository {
  insert(token: ServiceToken & { tokenHash: string }): Promise<void>;
  findActiveByHash(tokenHash: string): Promise<ServiceToken | undefined>;
  list(): Promise<ServiceToken[]>;
  /** Revokes it; returns false if there is no such active token. */
  revoke(id: string, at: Millis): Promise<boolean>;
}

/** A change other instances must drop from their key caches. */
export type CacheEvent = { type: 'key'; id: string } | { type: 'hash'; hash: string } | { type: 'team'; id: string };

export interface CacheEvents {
  /**
   * Announces a change to every instance. Inside a transaction it is delivered only if the
   * transaction commits, and only after it has (PostgreSQL NOTIFY); a no-op where there is
   * only one instance (SQLite).
   */
  publish(event: CacheEvent): Promise<void>;
}

export interface Repositories {
  cacheEvents: CacheEvents;
  providerKeys: ProviderKeyRepository;
  webhooks: WebhookRepository;
  alerts: AlertRepository;
  users: UserRepository;
  sessions: SessionRepository;
  throttle: LoginThrottle;
  teams: TeamRepository;
  members: MemberRepository;
  invitations: InvitationRepository;
  keys: KeyRepository;
  teamCredits: TeamCredits;
  usage: UsageRepository;
  audit: AuditRepository;
  serviceTokens: ServiceTokenRepository;
}

/** Where an instance hears of other instances' changes (PostgreSQL LISTEN). */
export interface CacheEventSource {
  /**
   * Starts listening. `onHealth(false)` when the channel drops (events may be lost from then
   * on), `onHealth(true)` once it listens again. Returns a function that stops it.
   */
  start(onEvent: (event: CacheEvent) => void, onHealth: (healthy: boolean) => void): Promise<() => Promise<void>>;
}

/** What a credit lease takes from: a key's credits or a team's balance. */
export interface CreditSubject {
  kind: 'key' | 'team';
  id: string;
}

/** The unspent rest of a lease, to give back. */
export interface CreditLeaseReturn {
  leaseId: string;
  /** Credits of the lease its holder did not spend (its exact count: the holder spent the rest). */
  rest: number;
}

export interface CreditLeaseGrantRequest {
  /** The new lease's id (`lse_…`). */
  leaseId: string;
  /** The instance that will hold it. */
  instanceId: string;
  subject: CreditSubject;
  /** How many credits to take when `remaining` are not leased; 0 takes none. */
  size(remaining: number): number;
  now: Millis;
  expiresAt: Millis;
  /** A lease of the same holder to give back first, in the same transaction, as `giveBack` does. */
  giveBack: CreditLeaseReturn | null;
}

/**
 * Credit leases: blocks of a key's credits or a team's balance granted to one instance, which
 * spends them in memory and gives back the rest. Every subject carries a credits generation,
 * bumped in the same statement by every owner change of its credits and by every refill.
 */
export interface CreditLeaseStore {
  /**
   * In one transaction: gives back `giveBack`; deletes the subject's expired leases (giving
   * nothing back); then takes `size(remaining)` credits from the subject only while its remaining
   * stays ≥ 0, and records the lease with the subject's current generation. Keys with a refill and
   * subjects without credits are never leased. Returns how many were granted (0: none) and the
   * remaining left in the database after it (null: the subject has no credits to lease).
   */
  grant(request: CreditLeaseGrantRequest): Promise<{ granted: number; remaining: number | null }>;
  /**
   * In one transaction, for each lease: deletes its row and, only if the row still existed and
   * the subject's generation is still the lease's, adds `rest` back. So a rest is applied at most
   * once, and never to credits an owner has reset (or a refill has refilled) since the grant.
   */
  giveBack(returns: CreditLeaseReturn[]): Promise<void>;
  /** Records how much of each lease is spent so far, for reads only (never to give credits back). */
  report(spent: Array<{ leaseId: string; spent: number }>): Promise<void>;
  /**
   * Deletes every lease expired at `now`, giving nothing back: its holder may have crashed, so its
   * true rest is unknown. Returns how many.
   */
  sweep(now: Millis): Promise<number>;
}

export interface SpendRequest {
  keyId: string;
  teamId: string;
  cost: number;
  /** Spend from the key's credits (refilled first when `refillPeriodStart` is set). */
  keyCredits: { refillPeriodStart: Millis | null } | null;
  /** Spend from the team's balance too. */
  teamBalance: boolean;
}

export interface SpendResult {
  remaining: number | null;
  teamRemaining: number | null;
}

/** The storage as a whole: repositories, and transactions that give repositories bound to them. */
export interface Store extends Repositories {
  /**
   * Spends `cost` from the key's credits and the team's balance, all or nothing, atomically:
   * each only while it stays ≥ 0. Returns the key's remaining credits (null when it has none) and
   * the team's (null when not charged or unlimited), or null when either could not pay (then
   * neither was charged). Only what is not leased can be spent here.
   */
  spendCredits(request: SpendRequest): Promise<SpendResult | null>;
  /** Credit leases (see `CreditLeaseStore`); outside `transaction`, each call is its own. */
  creditLeases: CreditLeaseStore;
  /**
   * Applies batched usage counts (usageCount, lastUsedAt, the hourly series): the one way usage
   * is written. Each batch id is applied at most once, so a failed batch may be written again
   * with the same id (see `UsageSink` in usage-buffer.ts for the guarantees).
   */
  writeUsage(batch: UsageBatch): Promise<void>;
  /** Runs `fn` in one transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Whether the database answers. */
  ping(): Promise<boolean>;
}

/** Password hashing (argon2id in production). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

/** Per-key request counting for rate limits. */
export interface RateLimiter {
  /**
   * Counts one request against `keyId`'s window; returns whether it is within the limit,
   * what remains, and when the window resets.
   */
  hit(keyId: string, setting: RateLimitSetting, now: Millis): Promise<{ allowed: boolean; remaining: number; resetAt: Millis }>;
}

export type { Actor };
