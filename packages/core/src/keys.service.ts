import { requirePermission, type TeamAccess } from './access';
import { createAuditWriter } from './audit';
import type { Clock } from './clock';
import { KeysmithError, conflict, notFound, validationError } from './errors';
import { displayPrefix, generateKey, hashSecret, type KeyEnvironment } from './key-format';
import { keyStatus, type ApiKey, type KeyCredits, type KeyStatus, type Millis, type Page, type RateLimitSetting, type RefillInterval, type UsagePoint } from './model';
import { buildPage, decodeCursor, type CursorValueType } from './pagination';
import type { CacheEvent, KeySort, Repositories, Store } from './ports';
import { createId, type Random } from './random';
import { refillPeriodStart } from './verify/decision';
import type { KeyEventType } from './webhooks/model';

export const MAX_GRACE_SECONDS = 7 * 24 * 3600;
export const MAX_METADATA_BYTES = 4096;

export interface CreditsInput {
  limit: number;
  remaining?: number;
  refill?: { amount: number; interval: RefillInterval } | null;
}

export interface CreateKeyInput {
  name: string;
  description?: string | null;
  environment?: KeyEnvironment;
  expiresAt?: Millis | null;
  scopes?: string[];
  credits?: CreditsInput | null;
  rateLimit?: RateLimitSetting | null;
  metadata?: Record<string, unknown>;
}

export interface UpdateKeyInput {
  name?: string;
  description?: string | null;
  enabled?: boolean;
  expiresAt?: Millis | null;
  scopes?: string[];
  credits?: CreditsInput | null;
  rateLimit?: RateLimitSetting | null;
  metadata?: Record<string, unknown>;
}

/** The key as the API shows it: never the raw key or its hash. */
export interface KeyView {
  id: string;
  name: string;
  description: string | null;
  prefix: string;
  environment: KeyEnvironment;
  status: KeyStatus;
  scopes: string[];
  createdAt: string;
  createdBy: { id: string; name: string } | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  usageCount: number;
  credits: { limit: number; remaining: number; refill: { amount: number; interval: RefillInterval } | null } | null;
  rateLimit: RateLimitSetting | null;
  metadata: Record<string, unknown>;
}

export interface UsageSeriesPoint {
  t: string;
  valid: number;
  rejected: number;
  creditsUsed: number;
}

export type UsageInterval = 'hour' | 'day';

export interface KeyServiceOptions {
  store: Store;
  clock: Clock;
  random: Random;
  keyPrefix: string;
  scopeCatalog: readonly string[];
  /** Drops a change from this instance's key cache; called after the change has committed. */
  invalidate?: (event: CacheEvent) => void;
  /** Runs before reads of usage figures (writes this instance's batched counts first). */
  beforeRead?: () => Promise<void>;
  /**
   * Told of key.created, key.revoked and key.regenerated inside the change's transaction (`tx`),
   * so the webhook deliveries it stores commit with the change or not at all.
   */
  events?: { emit(tx: Repositories, teamId: string, type: KeyEventType, data: Record<string, unknown>): Promise<unknown> };
}

const iso = (ms: Millis | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toKeyView(key: ApiKey, now: Millis): KeyView {
  return {
    id: key.id,
    name: key.name,
    description: key.description,
    prefix: key.prefix,
    environment: key.environment,
    status: keyStatus(key, now),
    scopes: key.scopes,
    createdAt: new Date(key.createdAt).toISOString(),
    createdBy: key.createdBy,
    expiresAt: iso(key.expiresAt),
    lastUsedAt: iso(key.lastUsedAt),
    revokedAt: iso(key.revokedAt),
    usageCount: key.usageCount,
    credits: key.credits ? { limit: key.credits.limit, remaining: key.credits.remaining, refill: key.credits.refill } : null,
    rateLimit: key.rateLimit,
    metadata: key.metadata,
  };
}

const SORT_VALUE: Record<KeySort, (key: ApiKey) => string | number> = {
  createdAt: (k) => k.createdAt,
  '-createdAt': (k) => k.createdAt,
  name: (k) => k.name,
  '-name': (k) => k.name,
  lastUsedAt: (k) => k.lastUsedAt ?? 0,
  '-lastUsedAt': (k) => k.lastUsedAt ?? 0,
};

const SORT_VALUE_TYPE: Record<KeySort, CursorValueType> = {
  createdAt: 'integer',
  '-createdAt': 'integer',
  name: 'string',
  '-name': 'string',
  lastUsedAt: 'integer',
  '-lastUsedAt': 'integer',
};

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const MAX_POINTS = 2000;

/** Resolves a usage window: defaults, alignment to the interval, and limits. */
export function usageWindow(now: Millis, from: Millis | undefined, to: Millis | undefined, interval: UsageInterval) {
  const step = interval === 'hour' ? HOUR : DAY;
  // Without `to`, the window ends just after now, so a use at this very moment is counted.
  const end = to ?? now + 1;
  const start = from ?? end - (interval === 'hour' ? DAY : 30 * DAY);
  if (start >= end) throw validationError('from', 'must be before to');
  const alignedStart = Math.floor(start / step) * step;
  if ((end - alignedStart) / step > MAX_POINTS) throw validationError('from', `range spans more than ${MAX_POINTS} ${interval}s`);
  return { start: alignedStart, end, step };
}

/** Sums hourly buckets into a zero-filled series of `step`-wide points. */
export function toSeries(points: UsagePoint[], start: Millis, end: Millis, step: number): UsageSeriesPoint[] {
  const out: UsageSeriesPoint[] = [];
  for (let t = start; t < end; t += step) out.push({ t: new Date(t).toISOString(), valid: 0, rejected: 0, creditsUsed: 0 });
  for (const p of points) {
    const slot = out[Math.floor((p.t - start) / step)];
    if (!slot) continue;
    slot.valid += p.valid;
    slot.rejected += p.rejected;
    slot.creditsUsed += p.creditsUsed;
  }
  return out;
}

/** The whole life of API keys: create, list, change, regenerate, revoke, purge, usage. */
export function createKeyService({ store, clock, random, keyPrefix, scopeCatalog, invalidate = () => {}, beforeRead = async () => {}, events: keyEvents }: KeyServiceOptions) {
  const audit = createAuditWriter(clock, random);

  /** Tells of a change in its transaction: never the raw key or its hash. A failure rolls the change back. */
  async function emitKeyEvent(tx: Repositories, access: TeamAccess, type: KeyEventType, key: { id: string; name: string; prefix: string }) {
    await keyEvents?.emit(tx, access.teamId, type, { key: { id: key.id, name: key.name, prefix: key.prefix }, teamId: access.teamId, actor: access.actor });
  }

  /** Runs a change in a transaction that also tells other instances; then drops it locally. */
  async function change<T>(events: CacheEvent[], fn: (tx: Repositories) => Promise<T>): Promise<T> {
    const result = await store.transaction(async (tx) => {
      const value = await fn(tx);
      for (const event of events) await tx.cacheEvents.publish(event);
      return value;
    });
    // Only after the commit: a read racing the change must not refill the cache with the old row.
    for (const event of events) invalidate(event);
    return result;
  }

  function checkScopes(scopes: string[] | undefined): void {
    if (!scopes) return;
    scopes.forEach((scope, i) => {
      if (!scopeCatalog.includes(scope)) throw validationError(`scopes.${i}`, `unknown scope "${scope}"`);
    });
  }

  function checkMetadata(metadata: Record<string, unknown> | undefined): void {
    if (metadata && Buffer.byteLength(JSON.stringify(metadata), 'utf8') > MAX_METADATA_BYTES) {
      throw validationError('metadata', `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);
    }
  }

  function checkExpiry(expiresAt: Millis | null | undefined, now: Millis): void {
    if (expiresAt !== undefined && expiresAt !== null && expiresAt <= now) throw validationError('expiresAt', 'must be in the future');
  }

  function normalizeName(name: string): string {
    const trimmed = name.trim();
    if (trimmed.length === 0) throw validationError('name', 'must not be empty');
    if ([...trimmed].length > 100) throw validationError('name', 'must be at most 100 characters');
    return trimmed;
  }

  function toCredits(input: CreditsInput | null | undefined, now: Millis): KeyCredits | null {
    if (!input) return null;
    const remaining = input.remaining ?? input.limit;
    if (remaining > input.limit) throw validationError('credits.remaining', 'must not exceed limit');
    const refill = input.refill ?? null;
    return { limit: input.limit, remaining, refill, refilledAt: refill ? refillPeriodStart(refill.interval, now) : null };
  }

  async function loadKey(access: TeamAccess, id: string): Promise<ApiKey> {
    const key = await store.keys.find(access.teamId, id);
    if (!key) throw notFound('Key');
    return key;
  }

  return {
    async create(access: TeamAccess, input: CreateKeyInput): Promise<{ key: KeyView; rawKey: string }> {
      requirePermission(access, 'keys.write');
      const now = clock.now();
      const name = normalizeName(input.name);
      checkScopes(input.scopes);
      checkMetadata(input.metadata);
      checkExpiry(input.expiresAt, now);
      const environment = input.environment ?? 'live';
      const rawKey = generateKey(random, keyPrefix, environment);
      const createdBy = access.actor.type === 'user' ? await store.users.findById(access.actor.id) : undefined;
      const key: ApiKey = {
        id: createId(random, 'key'),
        teamId: access.teamId,
        name,
        description: input.description ?? null,
        prefix: displayPrefix(rawKey),
        environment,
        enabled: true,
        scopes: [...new Set(input.scopes ?? [])],
        createdAt: now,
        createdBy: createdBy ? { id: createdBy.id, name: createdBy.name } : { id: access.actor.id, name: access.actor.label },
        expiresAt: input.expiresAt ?? null,
        lastUsedAt: null,
        revokedAt: null,
        usageCount: 0,
        credits: toCredits(input.credits, now),
        rateLimit: input.rateLimit ?? null,
        metadata: input.metadata ?? {},
        updatedAt: now,
      };
      const hash = hashSecret(rawKey);
      await change([{ type: 'hash', hash }], async (tx) => {
        await tx.keys.insert(key, hash);
        await audit(tx, access, 'key.created', { type: 'key', id: key.id, label: key.name }, { prefix: key.prefix, environment });
        await emitKeyEvent(tx, access, 'key.created', key);
      });
      return { key: toKeyView(key, now), rawKey };
    },

    async list(
      access: TeamAccess,
      query: { limit: number; cursor?: string; q?: string; status?: KeyStatus; sort?: KeySort },
    ): Promise<Page<KeyView>> {
      requirePermission(access, 'keys.read');
      await beforeRead();
      const sort = query.sort ?? '-createdAt';
      const page = { limit: query.limit, cursor: query.cursor ? decodeCursor(query.cursor, sort, SORT_VALUE_TYPE[sort]) : null };
      const now = clock.now();
      const filter = { teamId: access.teamId, q: query.q?.trim() || null, status: query.status ?? null, now };
      const [rows, total] = await Promise.all([store.keys.list({ ...filter, page, sort }), store.keys.count(filter)]);
      const result = buildPage(rows, page, sort, SORT_VALUE[sort], total);
      return { ...result, data: result.data.map((k) => toKeyView(k, now)) };
    },

    async get(access: TeamAccess, id: string): Promise<KeyView> {
      requirePermission(access, 'keys.read');
      await beforeRead();
      return toKeyView(await loadKey(access, id), clock.now());
    },

    async update(access: TeamAccess, id: string, input: UpdateKeyInput): Promise<KeyView> {
      requirePermission(access, 'keys.write');
      const now = clock.now();
      const changes: Partial<ApiKey> = {};
      if (input.name !== undefined) changes.name = normalizeName(input.name);
      if (input.description !== undefined) changes.description = input.description;
      if (input.expiresAt !== undefined) {
        checkExpiry(input.expiresAt, now);
        changes.expiresAt = input.expiresAt;
      }
      if (input.scopes !== undefined) {
        checkScopes(input.scopes);
        changes.scopes = [...new Set(input.scopes)];
      }
      if (input.credits !== undefined) changes.credits = toCredits(input.credits, now);
      if (input.rateLimit !== undefined) changes.rateLimit = input.rateLimit;
      if (input.metadata !== undefined) {
        checkMetadata(input.metadata);
        changes.metadata = input.metadata;
      }
      // The answer shows the key's usage, so this instance's batched counts go first.
      await beforeRead();
      return change([{ type: 'key', id }], async (tx) => {
        const key = await tx.keys.findForUpdate(access.teamId, id);
        if (!key) throw notFound('Key');
        if (key.revokedAt !== null) throw conflict('A revoked key cannot be changed');
        const fields = Object.keys(changes);
        const toggled = input.enabled !== undefined && input.enabled !== key.enabled;
        if (toggled) changes.enabled = input.enabled;
        const updated: ApiKey = { ...key, ...changes, updatedAt: now };
        await tx.keys.update(id, { ...changes, updatedAt: now });
        const target = { type: 'key', id, label: updated.name };
        if (fields.length > 0) await audit(tx, access, 'key.updated', target, { fields });
        if (toggled) await audit(tx, access, input.enabled ? 'key.enabled' : 'key.disabled', target);
        return toKeyView(updated, now);
      });
    },

    async regenerate(access: TeamAccess, id: string, input: { expireOldAfterSeconds?: number }): Promise<{ key: KeyView; rawKey: string }> {
      requirePermission(access, 'keys.write');
      const grace = input.expireOldAfterSeconds ?? 0;
      if (grace < 0 || grace > MAX_GRACE_SECONDS) throw validationError('expireOldAfterSeconds', `must be between 0 and ${MAX_GRACE_SECONDS}`);
      // The answer shows the key's usage, so this instance's batched counts go first.
      await beforeRead();
      const events: CacheEvent[] = [{ type: 'key', id }];
      const regenerated = await change(events, async (tx) => {
        // The row lock serialises concurrent regenerates, so exactly one secret stays current.
        const key = await tx.keys.findForUpdate(access.teamId, id);
        if (!key) throw notFound('Key');
        if (key.revokedAt !== null) throw conflict('A revoked key cannot be regenerated');
        const oldHash = await tx.keys.currentHash(id);
        if (oldHash === undefined) throw notFound('Key');
        const now = clock.now();
        const rawKey = generateKey(random, keyPrefix, key.environment);
        const prefix = displayPrefix(rawKey);
        const newHash = hashSecret(rawKey);
        // The new secret may be remembered as unknown somewhere.
        events.push({ type: 'hash', hash: newHash });
        await tx.keys.replaceSecret(id, oldHash, newHash, prefix, now + grace * 1000, now);
        await audit(tx, access, 'key.regenerated', { type: 'key', id, label: key.name }, { prefix, expireOldAfterSeconds: grace });
        const view = toKeyView({ ...key, prefix, updatedAt: now }, now);
        await emitKeyEvent(tx, access, 'key.regenerated', view);
        return { key: view, rawKey };
      });
      return regenerated;
    },

    async revoke(access: TeamAccess, id: string): Promise<KeyView> {
      requirePermission(access, 'keys.write');
      // The answer shows the key's usage, so this instance's batched counts go first.
      await beforeRead();
      const revoked = await change([{ type: 'key', id }], async (tx) => {
        const key = await tx.keys.findForUpdate(access.teamId, id);
        if (!key) throw notFound('Key');
        if (key.revokedAt !== null) throw conflict('This key is already revoked');
        const now = clock.now();
        await tx.keys.update(id, { revokedAt: now, updatedAt: now });
        await tx.keys.expireOldSecrets(id, now);
        await audit(tx, access, 'key.revoked', { type: 'key', id, label: key.name });
        const view = toKeyView({ ...key, revokedAt: now, updatedAt: now }, now);
        await emitKeyEvent(tx, access, 'key.revoked', view);
        return view;
      });
      return revoked;
    },

    async purge(access: TeamAccess, id: string): Promise<void> {
      requirePermission(access, 'keys.write');
      await change([{ type: 'key', id }], async (tx) => {
        const key = await tx.keys.findForUpdate(access.teamId, id);
        if (!key) throw notFound('Key');
        await tx.keys.delete(id);
        await audit(tx, access, 'key.purged', { type: 'key', id, label: key.name }, { prefix: key.prefix });
      });
    },

    async usage(access: TeamAccess, id: string, query: { from?: Millis; to?: Millis; interval?: UsageInterval }): Promise<UsageSeriesPoint[]> {
      requirePermission(access, 'keys.read');
      await beforeRead();
      await loadKey(access, id);
      const interval = query.interval ?? 'day';
      const { start, end, step } = usageWindow(clock.now(), query.from, query.to, interval);
      return toSeries(await store.usage.series(access.teamId, id, start, end), start, end, step);
    },

    async teamUsage(access: TeamAccess, query: { from?: Millis; to?: Millis; interval?: UsageInterval }) {
      requirePermission(access, 'keys.read');
      await beforeRead();
      const interval = query.interval ?? 'day';
      const { start, end, step } = usageWindow(clock.now(), query.from, query.to, interval);
      const [points, byKeyRows] = await Promise.all([
        store.usage.series(access.teamId, null, start, end),
        store.usage.byKey(access.teamId, start, end),
      ]);
      const series = toSeries(points, start, end, step);
      const totals = series.reduce(
        (acc, p) => ({ valid: acc.valid + p.valid, rejected: acc.rejected + p.rejected, creditsUsed: acc.creditsUsed + p.creditsUsed }),
        { valid: 0, rejected: 0, creditsUsed: 0 },
      );
      const names = new Map<string, string>();
      await Promise.all(
        byKeyRows.map(async (row) => {
          const key = await store.keys.find(access.teamId, row.keyId);
          if (key) names.set(row.keyId, key.name);
        }),
      );
      const byKey = byKeyRows.map((row) => ({ ...row, name: names.get(row.keyId) ?? null }));
      return { totals, byKey, series };
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
export { KeysmithError };
