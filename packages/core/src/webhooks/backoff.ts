import type { Millis } from '../model';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** How long a delivery keeps being retried, from its creation. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * HOUR;

/** The wait after the n-th failed attempt (n = 1, 2, …); later attempts keep the last wait. */
export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [30 * SECOND, 2 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR];

/**
 * When to try again after `attempts` failed attempts, the last one ending at `now`; or null to give
 * up. Exponential waits, capped so the last attempt is made no later than 24 h after `createdAt`:
 * a wait that would pass that moment is shortened to it, and a failure at or after it is final.
 */
export function nextAttemptAt(createdAt: Millis, attempts: number, now: Millis): Millis | null {
  const deadline = createdAt + WEBHOOK_RETRY_WINDOW_MS;
  if (now >= deadline) return null;
  const delays = WEBHOOK_RETRY_DELAYS_MS;
  const delay = delays[Math.min(Math.max(attempts, 1), delays.length) - 1] as number;
  return Math.min(now + delay, deadline);
}
