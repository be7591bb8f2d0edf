import type { Millis } from '../model';

const HOUR = 3_600_000;

/** What one flush writes: per key, totals since the last flush, and per hour for the series. */
export interface UsageBatch {
  keys: Array<{ keyId: string; valid: number; lastUsedAt: Millis | null }>;
  hours: Array<{ keyId: string; teamId: string; hour: Millis; valid: number; rejected: number; creditsUsed: number }>;
}

export interface UsageSink {
  /**
   * Applies a batch in one transaction with atomic increments (`x = x + n`), never
   * read-modify-write; rows of keys purged meanwhile are skipped, not an error.
   */
  write(batch: UsageBatch): Promise<void>;
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
 * Counts verifications in memory and writes them in batches. Every recorded use is written
 * exactly once: a flush takes the counts it writes, and puts them back if the write fails.
 */
export function createUsageBuffer(sink: UsageSink) {
  // One map lookup per use, by the key id string the cached record holds (its hash is cached too).
  let pending = new Map<string, KeyCounts>();
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

  function mergeBack(batch: Map<string, KeyCounts>): void {
    for (const [keyId, old] of batch) {
      const current = pending.get(keyId);
      if (!current) {
        pending.set(keyId, old);
        continue;
      }
      current.valid += old.valid;
      current.lastUsedAt = Math.max(current.lastUsedAt ?? 0, old.lastUsedAt ?? 0) || null;
      for (const h of old.hours) {
        const into = hourOf(current, h.keyId, h.teamId, h.hour);
        into.valid += h.valid;
        into.rejected += h.rejected;
        into.creditsUsed += h.creditsUsed;
      }
    }
  }

  async function flushOnce(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const keys: UsageBatch['keys'] = [];
    const hours: UsageBatch['hours'] = [];
    for (const [keyId, counts] of batch) {
      if (counts.valid > 0) keys.push({ keyId, valid: counts.valid, lastUsedAt: counts.lastUsedAt });
      hours.push(...counts.hours);
    }
    try {
      await sink.write({ keys, hours });
    } catch (error) {
      mergeBack(batch);
      throw error;
    }
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

    /** Writes everything counted so far; concurrent callers share one write at a time. */
    async flush(): Promise<void> {
      while (flushing) await flushing.catch(() => {});
      flushing = flushOnce();
      try {
        await flushing;
      } finally {
        flushing = null;
      }
    },

    /** Forgets the pending counts of a key that no longer exists. */
    discard(keyId: string): void {
      pending.delete(keyId);
    },

    /** How many (key, hour) counts wait to be written. */
    get pending(): number {
      let n = 0;
      for (const counts of pending.values()) n += counts.hours.length;
      return n;
    },
  };
}

export type UsageBuffer = ReturnType<typeof createUsageBuffer>;
