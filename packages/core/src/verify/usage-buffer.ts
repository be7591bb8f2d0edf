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

/**
 * Counts verifications in memory and writes them in batches. Every recorded use is written
 * exactly once: a flush takes the counts it writes, and puts them back if the write fails.
 */
export function createUsageBuffer(sink: UsageSink) {
  let keys = new Map<string, { valid: number; lastUsedAt: Millis | null }>();
  let hours = new Map<string, HourCounts>();
  let flushing: Promise<void> | null = null;

  function mergeBack(batchKeys: typeof keys, batchHours: typeof hours): void {
    for (const [id, k] of batchKeys) {
      const current = keys.get(id);
      if (!current) keys.set(id, k);
      else {
        current.valid += k.valid;
        current.lastUsedAt = Math.max(current.lastUsedAt ?? 0, k.lastUsedAt ?? 0) || null;
      }
    }
    for (const [slot, h] of batchHours) {
      const current = hours.get(slot);
      if (!current) hours.set(slot, h);
      else {
        current.valid += h.valid;
        current.rejected += h.rejected;
        current.creditsUsed += h.creditsUsed;
      }
    }
  }

  async function flushOnce(): Promise<void> {
    if (keys.size === 0 && hours.size === 0) return;
    const batchKeys = keys;
    const batchHours = hours;
    keys = new Map();
    hours = new Map();
    try {
      await sink.write({
        keys: [...batchKeys].map(([keyId, k]) => ({ keyId, valid: k.valid, lastUsedAt: k.lastUsedAt })),
        hours: [...batchHours.values()],
      });
    } catch (error) {
      mergeBack(batchKeys, batchHours);
      throw error;
    }
  }

  return {
    /** Counts one answer for a known key. */
    record(keyId: string, teamId: string, at: Millis, outcome: { valid: boolean; creditsUsed: number }): void {
      if (outcome.valid) {
        const k = keys.get(keyId);
        if (k) {
          k.valid += 1;
          if (k.lastUsedAt === null || at > k.lastUsedAt) k.lastUsedAt = at;
        } else keys.set(keyId, { valid: 1, lastUsedAt: at });
      }
      const hour = Math.floor(at / HOUR) * HOUR;
      const slot = `${keyId}\u0000${hour}`;
      let h = hours.get(slot);
      if (!h) hours.set(slot, (h = { keyId, teamId, hour, valid: 0, rejected: 0, creditsUsed: 0 }));
      if (outcome.valid) {
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
      keys.delete(keyId);
      for (const [slot, h] of hours) if (h.keyId === keyId) hours.delete(slot);
    },

    get pending(): number {
      return hours.size;
    },
  };
}

export type UsageBuffer = ReturnType<typeof createUsageBuffer>;
