import type { KeyForVerification } from '../ports';
import type { Millis } from '../model';

export type RejectionCode = 'REVOKED' | 'INACTIVE' | 'EXPIRED' | 'INSUFFICIENT_SCOPES';

export type Decision =
  | { ok: true }
  | { ok: false; code: Exclude<RejectionCode, 'INSUFFICIENT_SCOPES'> }
  | { ok: false; code: 'INSUFFICIENT_SCOPES'; missingScopes: string[] };

/**
 * The verification decision for a found key, before rate limits and credits: a pure
 * function of the record, the requested scopes and the time.
 */
export function decide(key: KeyForVerification, requiredScopes: readonly string[], now: Millis): Decision {
  if (key.revokedAt !== null) return { ok: false, code: 'REVOKED' };
  // An old secret after a regenerate works only during its grace period.
  if (key.oldSecret !== null && key.oldSecret.validUntil <= now) return { ok: false, code: 'REVOKED' };
  if (!key.enabled) return { ok: false, code: 'INACTIVE' };
  if (key.expiresAt !== null && key.expiresAt <= now) return { ok: false, code: 'EXPIRED' };
  const missingScopes = requiredScopes.filter((scope) => !key.scopes.includes(scope));
  if (missingScopes.length > 0) return { ok: false, code: 'INSUFFICIENT_SCOPES', missingScopes };
  return { ok: true };
}

/** Start of the refill period that contains `now` (UTC day or month). */
export function refillPeriodStart(interval: 'day' | 'month', now: Millis): Millis {
  const d = new Date(now);
  return interval === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
