import { describe, expect, it } from 'vitest';
import { WEBHOOK_RETRY_WINDOW_MS, nextAttemptAt } from './backoff';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Every attempt time of a delivery whose receiver never answers 2xx, each made the moment it is due. */
function schedule(createdAt: number): number[] {
  const times = [createdAt];
  for (;;) {
    const next = nextAttemptAt(createdAt, times.length, times[times.length - 1] as number);
    if (next === null) return times;
    times.push(next);
    if (times.length > 100) throw new Error('never gives up');
  }
}

describe('the webhook retry schedule', () => {
  it('waits 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, then 8 h between attempts', () => {
    const times = schedule(0);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps.slice(0, 9)).toEqual([30_000, 2 * MIN, 10 * MIN, 30 * MIN, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 8 * HOUR]);
  });

  it('makes its last attempt exactly 24 h after creation, and none later', () => {
    const createdAt = Date.UTC(2026, 10, 20);
    const times = schedule(createdAt);
    expect(times[times.length - 1]).toBe(createdAt + WEBHOOK_RETRY_WINDOW_MS);
    expect(times.every((t) => t <= createdAt + WEBHOOK_RETRY_WINDOW_MS)).toBe(true);
    expect(times).toHaveLength(11);
    // Strictly increasing: never two attempts at once.
    expect(times.every((t, i) => i === 0 || t > (times[i - 1] as number))).toBe(true);
  });

  it('gives up on a failure at or after the deadline, and caps a late attempt at the deadline', () => {
    expect(nextAttemptAt(0, 3, WEBHOOK_RETRY_WINDOW_MS)).toBeNull();
    expect(nextAttemptAt(0, 1, WEBHOOK_RETRY_WINDOW_MS + 5 * HOUR)).toBeNull();
    expect(nextAttemptAt(0, 1, WEBHOOK_RETRY_WINDOW_MS - 1000)).toBe(WEBHOOK_RETRY_WINDOW_MS);
  });
});
