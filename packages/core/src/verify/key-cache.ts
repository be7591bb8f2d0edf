import type { Clock } from '../clock';
import type { KeyForVerification } from '../ports';

export interface KeyCacheOptions {
  clock: Clock;
  /** Most key records kept; the least recently used go first. */
  maxEntries: number;
  /** How long an unknown well-formed key is remembered as NOT_FOUND. */
  negativeTtlMs: number;
  /** Most unknown keys remembered. */
  maxNegative: number;
}

export type CacheLookup = { kind: 'hit'; key: KeyForVerification } | { kind: 'absent' } | { kind: 'miss' };

/**
 * Key records by hash, for verification without a database read.
 *
 * Guarantees:
 * - After `invalidateKey`, `invalidateTeam`, `invalidateHash` or `clear` returns, no lookup answers
 *   with what was removed.
 * - A fill carries the epoch read before its database read began; any invalidation since then
 *   bumps the epoch and the fill is dropped, so a slow read cannot put a stale record back.
 * - While disabled (e.g. the invalidation channel is down) every lookup is a miss and nothing is kept.
 * - Eviction is least recently used, approximately: a hit moves an entry to the young end only once
 *   it has aged by a quarter of `maxEntries` fills, so a hot key costs no map writes per hit, and a
 *   key hit at least once per `maxEntries / 4` fills is never evicted.
 */
export function createKeyCache({ clock, maxEntries, negativeTtlMs, maxNegative }: KeyCacheOptions) {
  // Map order is insertion order, so the first entry is the least recently refreshed one.
  const positive = new Map<string, { key: KeyForVerification; touched: number }>();
  const refreshAfter = Math.floor(maxEntries / 4);
  let fills = 0;
  const hashesByKey = new Map<string, Set<string>>();
  const negative = new Map<string, number>();
  let epoch = 0;
  let enabled = true;

  function forget(hash: string): void {
    const entry = positive.get(hash);
    if (!entry) return;
    positive.delete(hash);
    const hashes = hashesByKey.get(entry.key.id);
    hashes?.delete(hash);
    if (hashes && hashes.size === 0) hashesByKey.delete(entry.key.id);
  }

  return {
    lookup(hash: string): CacheLookup {
      if (!enabled) return { kind: 'miss' };
      const entry = positive.get(hash);
      if (entry) {
        if (fills - entry.touched > refreshAfter) {
          positive.delete(hash);
          entry.touched = fills;
          positive.set(hash, entry);
        }
        return { kind: 'hit', key: entry.key };
      }
      const until = negative.get(hash);
      if (until !== undefined) {
        if (until > clock.now()) return { kind: 'absent' };
        negative.delete(hash);
      }
      return { kind: 'miss' };
    },

    /** The epoch to pass to `fill`, read before the database read starts. */
    epoch: () => epoch,

    /** Keeps what a database read found (null: no such key), unless anything was invalidated since `readEpoch`. */
    fill(hash: string, key: KeyForVerification | undefined, readEpoch: number): void {
      if (!enabled || readEpoch !== epoch) return;
      if (!key) {
        if (negative.size >= maxNegative) {
          const oldest = negative.keys().next().value;
          if (oldest !== undefined) negative.delete(oldest);
        }
        negative.set(hash, clock.now() + negativeTtlMs);
        return;
      }
      if (positive.size >= maxEntries) {
        const oldest = positive.keys().next().value;
        if (oldest !== undefined) forget(oldest);
      }
      fills += 1;
      positive.set(hash, { key, touched: fills });
      let hashes = hashesByKey.get(key.id);
      if (!hashes) hashesByKey.set(key.id, (hashes = new Set()));
      hashes.add(hash);
    },

    /** Drops every cached secret of a key (changed, revoked, regenerated, purged). */
    invalidateKey(keyId: string): void {
      epoch += 1;
      for (const hash of hashesByKey.get(keyId) ?? []) positive.delete(hash);
      hashesByKey.delete(keyId);
    },

    /** Drops what is known of one hash (e.g. a key just created with it). */
    invalidateHash(hash: string): void {
      epoch += 1;
      negative.delete(hash);
      forget(hash);
    },

    /** Drops every key of a team (e.g. its credit balance changed). */
    invalidateTeam(teamId: string): void {
      epoch += 1;
      for (const [hash, entry] of positive) if (entry.key.teamId === teamId) forget(hash);
    },

    clear(): void {
      epoch += 1;
      positive.clear();
      hashesByKey.clear();
      negative.clear();
    },

    /** Turns caching on or off; turning it off clears it. */
    setEnabled(value: boolean): void {
      if (!value) this.clear();
      enabled = value;
    },

    get enabled() {
      return enabled;
    },

    size: () => ({ keys: positive.size, absent: negative.size }),
  };
}

export type KeyCache = ReturnType<typeof createKeyCache>;
