import type { Millis } from '../model';
import { createId, cryptoRandom } from '../random';

const HOUR = 3_600_000;

/**
 * What one flush writes: per key, totals since the previous batch, and per hour for the series.
 * `id` (`ub_…`) names this batch and no other. The buffer writes a failed batch again, with the
 * same id and the same counts, until it is applied; newer counts go in a later batch.
 */
export interface UsageBatch {
  id: string;
  keys: Array<{ keyId: string; valid: number; lastUsedAt: Millis | null }>;
  hours: Array<{ keyId: string; teamId: string; hour: Millis; valid: number; rejected: number; creditsUsed: number }>;
}

export interface UsageSink {
  /**
   * Applies a batch in one transaction with atomic increments (`x = x + n`), never
   * read-modify-write; rows of keys purged meanwhile are skipped, not an error.
   * Each batch id is applied at most once: a batch whose id was applied before (its write
   * committed, but the reply was lost) writes nothing and resolves, so writing a batch again
   * after a failure is always safe. An id is remembered for at least a day.
   * A rejection says nothing of whether the batch was applied; only a resolve says it was.
   */
  write(batch: UsageBatch): Promise<void>;
}

export interface UsageBufferOptions {
  /** A fresh batch id per batch; `ub_` + 20 random base62 characters by default. */
  newId?: () => string;
}

interface HourCounts {
  keyId: string;
  teamId: string;
  hour: Millis;
  valid: number;
  rejected: number;
  creditsUsed: number;
}

/** What one key has pending: its valid uses, the latest, and its counts by hour (oldest first). */
interface KeyCounts {
  valid: number;
  lastUsedAt: Millis | null;
  hours: HourCounts[];
}

/**
 * Counts verifications in memory and writes them in batches. Every recorded use is applied
 * exactly once: a flush takes the pending counts into a batch with a new id; a batch whose
 * write failed is kept as it was (same id, same counts) and written again, before any newer
 * counts, until the sink accepts it. As the sink applies an id at most once, a write that
 * failed after it committed is not counted twice.
 */
export function createUsageBuffer(sink: UsageSink, options: UsageBufferOptions = {}) {
  const newId = options.newId ?? (() => createId(cryptoRandom, 'ub'));
  // One map lookup per use, by the key id string the cached record holds (its hash is cached too).
  let pending = new Map<string, KeyCounts>();
  // The batch taken from `pending` and not yet known to be applied: being written, or failed.
  // Newer counts never join it (its id may already be applied); they wait in `pending`.
  let unwritten: UsageBatch | null = null;
  let flushing: Promise<void> | null = null;

  function hourOf(counts: KeyCounts, keyId: string, teamId: string, hour: Millis): HourCounts {
    const last = counts.hours[counts.hours.length - 1];
    if (last !== undefined && last.hour === hour) return last;
    const found = counts.hours.find((h) => h.hour === hour);
    if (found) return found;
    const created: HourCounts = { keyId, teamId, hour, valid: 0, rejected: 0, creditsUsed: 0 };
    counts.hours.push(created);
    counts.hours.sort((a, b) => a.hour - b.hour);
    return created;
  }

  function take(): UsageBatch {
    const batch = pending;
    pending = new Map();
    const keys: UsageBatch['keys'] = [];
    const hours: UsageBatch['hours'] = [];
    for (const [keyId, counts] of batch) {
      if (counts.valid > 0) keys.push({ keyId, valid: counts.valid, lastUsedAt: counts.lastUsedAt });
      hours.push(...counts.hours);
    }
    return { id: newId(), keys, hours };
  }

  /** Writes the failed batch, if any, then one batch of what is pending; stops at the first failure. */
  async function flushOnce(): Promise<void> {
    if (unwritten) {
      await sink.write(unwritten);
      unwritten = null;
    }
    if (pending.size === 0) return;
    unwritten = take();
    await sink.write(unwritten);
    unwritten = null;
  }

  return {
    /** Counts one answer for a known key. */
    record(keyId: string, teamId: string, at: Millis, outcome: { valid: boolean; creditsUsed: number }): void {
      let counts = pending.get(keyId);
      if (!counts) pending.set(keyId, (counts = { valid: 0, lastUsedAt: null, hours: [] }));
      const h = hourOf(counts, keyId, teamId, Math.floor(at / HOUR) * HOUR);
      if (outcome.valid) {
        counts.valid += 1;
        if (counts.lastUsedAt === null || at > counts.lastUsedAt) counts.lastUsedAt = at;
        h.valid += 1;
        h.creditsUsed += outcome.creditsUsed;
      } else h.rejected += 1;
    },

    /**
     * Writes everything counted so far (a batch that failed before goes first, unchanged);
     * concurrent callers take turns, one write at a time. Rejects if a write fails: its batch
     * is kept and written again by the next flush.
     */
    async flush(): Promise<void> {
      while (flushing) await flushing.catch(() => {});
      flushing = flushOnce();
      try {
        await flushing;
      } finally {
        flushing = null;
      }
    },

    /**
     * Forgets the pending counts of a key that no longer exists. A batch already taken is left as
     * it was (its id may be applied); the sink skips the rows of purged keys.
     */
    discard(keyId: string): void {
      pending.delete(keyId);
    },

    /** How many (key, hour) counts wait to be written, in the failed batch and pending. */
    get pending(): number {
      let n = unwritten?.hours.length ?? 0;
      for (const counts of pending.values()) n += counts.hours.length;
      return n;
    },
  };
}

export type UsageBuffer = ReturnType<typeof createUsageBuffer>;
