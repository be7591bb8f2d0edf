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
 */
export function createKeyCache({ clock, maxEntries, negativeTtlMs, maxNegative }: KeyCacheOptions) {
  const positive = new Map<string, KeyForVerification>();
  const hashesByKey = new Map<string, Set<string>>();
  const negative = new Map<string, number>();
  let epoch = 0;
  let enabled = true;

  function forget(hash: string): void {
    const key = positive.get(hash);
    if (!key) return;
    positive.delete(hash);
    const hashes = hashesByKey.get(key.id);
    hashes?.delete(hash);
    if (hashes && hashes.size === 0) hashesByKey.delete(key.id);
  }

  return {
    lookup(hash: string): CacheLookup {
      if (!enabled) return { kind: 'miss' };
      const key = positive.get(hash);
      if (key) {
        // Map order is insertion order: re-inserting marks it most recently used.
        positive.delete(hash);
        positive.set(hash, key);
        return { kind: 'hit', key };
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
      positive.set(hash, key);
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
      for (const [hash, key] of positive) if (key.teamId === teamId) forget(hash);
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
