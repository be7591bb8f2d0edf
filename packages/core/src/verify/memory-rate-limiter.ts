import type { RateLimiter } from '../ports';

/**
 * A fixed-window rate limiter in this process's memory: limits hold per instance.
 * Windows are aligned to multiples of the window length. At most `maxEntries` keys are
 * tracked; the oldest windows are dropped first.
 */
export function createMemoryRateLimiter(maxEntries = 100_000): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async hit(keyId, setting, now) {
      const windowMs = setting.windowSeconds * 1000;
      const start = Math.floor(now / windowMs) * windowMs;
      let entry = windows.get(keyId);
      if (!entry || entry.start !== start) {
        entry = { start, count: 0 };
        windows.delete(keyId);
        windows.set(keyId, entry);
        if (windows.size > maxEntries) {
          const oldest = windows.keys().next().value;
          if (oldest !== undefined) windows.delete(oldest);
        }
      }
      entry.count += 1;
      const allowed = entry.count <= setting.limit;
      return { allowed, remaining: Math.max(0, setting.limit - entry.count), resetAt: start + windowMs };
    },
  };
}
