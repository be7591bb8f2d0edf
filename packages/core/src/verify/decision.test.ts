import { describe, expect, it } from 'vitest';
import type { KeyForVerification } from '../ports';
import { decide, refillPeriodStart } from './decision';

const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
const HOUR = 3600 * 1000;

function key(overrides: Partial<KeyForVerification> = {}): KeyForVerification {
  return {
    id: 'key_1',
    teamId: 'team_1',
    teamHasBalance: false,
    name: 'CI',
    description: null,
    prefix: 'pk_live_abcd',
    environment: 'live',
    enabled: true,
    scopes: ['read', 'write'],
    createdAt: NOW - 24 * HOUR,
    createdBy: null,
    expiresAt: null,
    lastUsedAt: null,
    revokedAt: null,
    usageCount: 0,
    credits: null,
    rateLimit: null,
    metadata: {},
    updatedAt: NOW - 24 * HOUR,
    oldSecret: null,
    ...overrides,
  };
}

describe('decide', () => {
  it('accepts an active key without requested scopes', () => {
    expect(decide(key(), [], NOW)).toEqual({ ok: true });
  });

  it('accepts a key that holds every requested scope', () => {
    expect(decide(key(), ['read', 'write'], NOW)).toEqual({ ok: true });
  });

  it('answers REVOKED for a revoked key, whatever else is wrong with it', () => {
    const everythingWrong = key({ revokedAt: NOW - HOUR, enabled: false, expiresAt: NOW - HOUR, oldSecret: { validUntil: NOW - HOUR } });
    expect(decide(everythingWrong, ['admin'], NOW)).toEqual({ ok: false, code: 'REVOKED' });
  });

  it('answers REVOKED for an old secret past its grace period, before inactive, expired or scopes', () => {
    const oldSecret = key({ oldSecret: { validUntil: NOW - 1 }, enabled: false, expiresAt: NOW - HOUR });
    expect(decide(oldSecret, ['admin'], NOW)).toEqual({ ok: false, code: 'REVOKED' });
  });

  it('answers REVOKED for an old secret whose grace ends exactly now', () => {
    expect(decide(key({ oldSecret: { validUntil: NOW } }), [], NOW)).toEqual({ ok: false, code: 'REVOKED' });
  });

  it('accepts an old secret still within its grace period', () => {
    expect(decide(key({ oldSecret: { validUntil: NOW + 1 } }), [], NOW)).toEqual({ ok: true });
  });

  it('judges an old secret in its grace period like the key itself', () => {
    expect(decide(key({ oldSecret: { validUntil: NOW + HOUR }, enabled: false }), [], NOW)).toEqual({ ok: false, code: 'INACTIVE' });
  });

  it('answers INACTIVE for a disabled key, before expired and scopes', () => {
    expect(decide(key({ enabled: false, expiresAt: NOW - HOUR }), ['admin'], NOW)).toEqual({ ok: false, code: 'INACTIVE' });
  });

  it('answers EXPIRED for a key past its expiry, before scopes', () => {
    expect(decide(key({ expiresAt: NOW - HOUR }), ['admin'], NOW)).toEqual({ ok: false, code: 'EXPIRED' });
  });

  it('answers EXPIRED from the very moment of expiry, and accepts just before it', () => {
    expect(decide(key({ expiresAt: NOW }), [], NOW)).toEqual({ ok: false, code: 'EXPIRED' });
    expect(decide(key({ expiresAt: NOW + 1 }), [], NOW)).toEqual({ ok: true });
  });

  it('answers INSUFFICIENT_SCOPES and lists exactly the missing scopes, in the order asked', () => {
    expect(decide(key({ scopes: ['read'] }), ['write', 'read', 'admin'], NOW)).toEqual({
      ok: false,
      code: 'INSUFFICIENT_SCOPES',
      missingScopes: ['write', 'admin'],
    });
  });

  it('answers INSUFFICIENT_SCOPES for a key with no scopes asked for one', () => {
    expect(decide(key({ scopes: [] }), ['read'], NOW)).toEqual({ ok: false, code: 'INSUFFICIENT_SCOPES', missingScopes: ['read'] });
  });

  it('compares scopes exactly, not by case or prefix', () => {
    expect(decide(key({ scopes: ['read'] }), ['READ', 'rea'], NOW)).toEqual({
      ok: false,
      code: 'INSUFFICIENT_SCOPES',
      missingScopes: ['READ', 'rea'],
    });
  });
});

describe('refillPeriodStart', () => {
  it('starts a day period at UTC midnight', () => {
    expect(refillPeriodStart('day', Date.UTC(2026, 10, 20, 23, 59, 59, 999))).toBe(Date.UTC(2026, 10, 20));
    expect(refillPeriodStart('day', Date.UTC(2026, 10, 20))).toBe(Date.UTC(2026, 10, 20));
    expect(refillPeriodStart('day', Date.UTC(2026, 10, 21, 0, 0, 0, 1))).toBe(Date.UTC(2026, 10, 21));
  });

  it('starts a month period at 00:00 UTC on the first of the month', () => {
    expect(refillPeriodStart('month', Date.UTC(2026, 10, 20, 12))).toBe(Date.UTC(2026, 10, 1));
    expect(refillPeriodStart('month', Date.UTC(2026, 10, 30, 23, 59, 59, 999))).toBe(Date.UTC(2026, 10, 1));
    expect(refillPeriodStart('month', Date.UTC(2026, 11, 1))).toBe(Date.UTC(2026, 11, 1));
  });

  it('handles year ends and leap days', () => {
    expect(refillPeriodStart('month', Date.UTC(2027, 0, 1, 0, 0, 0, 1))).toBe(Date.UTC(2027, 0, 1));
    expect(refillPeriodStart('day', Date.UTC(2028, 1, 29, 18))).toBe(Date.UTC(2028, 1, 29));
    expect(refillPeriodStart('month', Date.UTC(2028, 1, 29, 18))).toBe(Date.UTC(2028, 1, 1));
  });

  it('uses UTC whatever the process time zone', () => {
    // 2026-11-20T23:30:00-05:00 is already 2026-11-21 in UTC.
    expect(refillPeriodStart('day', Date.parse('2026-11-20T23:30:00-05:00'))).toBe(Date.parse('2026-11-21T00:00:00Z'));
    // 2026-12-01T00:30:00+02:00 is still November in UTC.
    expect(refillPeriodStart('month', Date.parse('2026-12-01T00:30:00+02:00'))).toBe(Date.parse('2026-11-01T00:00:00Z'));
  });
});
