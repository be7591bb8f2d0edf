import { randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '@keysmith/core';
import { buildTestApp, type TestApp, type TestUser } from './helpers';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The contract's checksum, computed here independently of the server's code. */
function checksumOf(text: string): string {
  let value = crc32(Buffer.from(text, 'utf8'));
  let out = '';
  for (let i = 0; i < 6; i += 1) {
    out = ALPHABET.charAt(value % 62) + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** A key of the right shape with a correct checksum that the server never issued. */
function unknownWellFormedKey(): string {
  let secret = '';
  for (let i = 0; i < 32; i += 1) secret += ALPHABET.charAt(randomInt(62));
  const body = `pk_live_${secret}`;
  return body + checksumOf(body);
}

/** The same key with one checksum character changed. */
function withBrokenChecksum(rawKey: string): string {
  const i = rawKey.length - 3;
  const replacement = rawKey[i] === 'A' ? 'B' : 'A';
  return rawKey.slice(0, i) + replacement + rawKey.slice(i + 1);
}

const iso = (ms: number) => new Date(ms).toISOString();

let t: TestApp;
let owner: TestUser;
beforeEach(async () => {
  t = await buildTestApp();
  owner = await t.signup();
});
afterEach(async () => {
  await t.close();
});

async function getKey(id: string) {
  const res = await t.request({ url: `/api/v1/keys/${id}`, cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  return res.json().data as { usageCount: number; lastUsedAt: string | null; credits: { remaining: number } | null };
}

/** Sums a key's usage series over the day around the test clock. */
async function usageOf(id: string) {
  const now = t.clock.now();
  const res = await t.request({ url: `/api/v1/keys/${id}/usage?from=${iso(now - 86_400_000)}&to=${iso(now + 86_400_000)}&interval=hour`, cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  const points = res.json().data as Array<{ valid: number; rejected: number; creditsUsed: number }>;
  return points.reduce((sum, p) => ({ valid: sum.valid + p.valid, rejected: sum.rejected + p.rejected, creditsUsed: sum.creditsUsed + p.creditsUsed }), { valid: 0, rejected: 0, creditsUsed: 0 });
}

async function setTeamBalance(balance: number | null) {
  const res = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: owner.cookie, body: { credits: balance === null ? null : { balance } } });
  expect(res.statusCode).toBe(200);
}

async function teamBalance(): Promise<number | null> {
  const res = await t.request({ url: '/api/v1/team', cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  const credits = res.json().data.credits as { balance: number } | null;
  return credits === null ? null : credits.balance;
}

describe('verification authentication', () => {
  it('answers 401 UNAUTHENTICATED without a service token', async () => {
    const { rawKey } = await t.createKey(owner);
    const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', body: { key: rawKey } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 UNAUTHENTICATED for a wrong service token', async () => {
    const { rawKey } = await t.createKey(owner);
    const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: 'svc_wrong_token_0123456789abcdefghijklmnopqrstuvwxyz', body: { key: rawKey } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('answers 401 UNAUTHENTICATED for a session cookie instead of a service token', async () => {
    const { rawKey } = await t.createKey(owner);
    const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', cookie: owner.cookie, body: { key: rawKey } });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('answers 200 with the configured service token', async () => {
    const { rawKey } = await t.createKey(owner);
    const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: rawKey } });
    expect(res.statusCode).toBe(200);
    expect(res.json().code).toBe('VALID');
  });
});

describe('verification request validation', () => {
  const bad: Array<[string, Record<string, unknown>, string]> = [
    ['a missing key', { scopes: ['read'] }, 'key'],
    ['a key that is not a string', { key: 42 }, 'key'],
    ['an unknown field', { key: 'pk_live_x', teamId: 'team_1' }, 'teamId'],
    ['cost 1001', { key: 'pk_live_x', cost: 1001 }, 'cost'],
    ['cost -1', { key: 'pk_live_x', cost: -1 }, 'cost'],
    ['cost 1.5', { key: 'pk_live_x', cost: 1.5 }, 'cost'],
    ['cost as a string', { key: 'pk_live_x', cost: '1' }, 'cost'],
    ['scopes that are not an array', { key: 'pk_live_x', scopes: 'read' }, 'scopes'],
    ['context.ip that is not an IP', { key: 'pk_live_x', context: { ip: 'not-an-ip' } }, 'context.ip'],
    ['an unknown field in context', { key: 'pk_live_x', context: { country: 'NL' } }, 'context.country'],
  ];
  it.each(bad)('answers 400 VALIDATION_FAILED for %s', async (_label, body, path) => {
    const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('accepts a body with scopes, cost 0 and a context with an IPv4 or IPv6 address', async () => {
    const { rawKey } = await t.createKey(owner, { scopes: ['read'] });
    for (const ip of ['203.0.113.7', '2001:db8::1']) {
      const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: rawKey, scopes: ['read'], cost: 0, context: { ip, userAgent: 'curl/8' } } });
      expect(res.statusCode).toBe(200);
      expect(res.json().code).toBe('VALID');
    }
  });
});

describe('verification codes', () => {
  it('answers VALID with the key id, team, name, scopes, metadata, expiry, credits and rate limit', async () => {
    const expiresAt = iso(t.clock.now() + 7 * 86_400_000);
    const created = await t.createKey(owner, {
      name: 'GitHub CI',
      scopes: ['read', 'write'],
      metadata: { plan: 'pro', seats: 3 },
      expiresAt,
      credits: { limit: 10 },
      rateLimit: { limit: 5, windowSeconds: 60 },
    });
    const answer = await t.verify({ key: created.rawKey, scopes: ['write'] });
    expect(answer).toEqual({
      valid: true,
      code: 'VALID',
      keyId: created.data.id,
      teamId: owner.team.id,
      name: 'GitHub CI',
      scopes: ['read', 'write'],
      metadata: { plan: 'pro', seats: 3 },
      expiresAt,
      credits: { remaining: 9 },
      // Windows are aligned to their length: the clock starts at 12:00:00.
      rateLimit: { limit: 5, remaining: 4, resetAt: iso(t.clock.now() + 60_000) },
    });
  });

  it('answers VALID with null credits and rate limit for an unlimited key', async () => {
    const created = await t.createKey(owner, { name: 'Plain' });
    const answer = await t.verify({ key: created.rawKey });
    expect(answer).toMatchObject({ valid: true, code: 'VALID', keyId: created.data.id, teamId: owner.team.id, expiresAt: null, credits: null, rateLimit: null });
  });

  it('answers MALFORMED, with nothing else, for strings that are not keys of this format', async () => {
    const { rawKey } = await t.createKey(owner);
    const malformed = [
      'not a key',
      'pk_live_',
      'pk_live_short123456',
      rawKey.replace('_live_', '_prod_'),
      rawKey.replace(/^pk_/, 'PK_'),
      `${rawKey}x`,
      rawKey.slice(0, -1),
      ` ${rawKey}`,
    ];
    for (const key of malformed) {
      expect(await t.verify({ key }), key).toEqual({ valid: false, code: 'MALFORMED' });
    }
  });

  it('answers MALFORMED for an issued key with one checksum character changed', async () => {
    const { rawKey } = await t.createKey(owner);
    expect(await t.verify({ key: withBrokenChecksum(rawKey) })).toEqual({ valid: false, code: 'MALFORMED' });
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
  });

  it('answers NOT_FOUND, with nothing else, for a well-formed key with a correct checksum that was never issued', async () => {
    await t.createKey(owner);
    expect(await t.verify({ key: unknownWellFormedKey() })).toEqual({ valid: false, code: 'NOT_FOUND' });
  });

  it('answers NOT_FOUND for a purged key', async () => {
    const { data, rawKey } = await t.createKey(owner);
    const purge = await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}?purge=true`, cookie: owner.cookie });
    expect(purge.statusCode).toBe(204);
    expect(await t.verify({ key: rawKey })).toEqual({ valid: false, code: 'NOT_FOUND' });
  });

  it('answers INACTIVE for a disabled key, and VALID again once it is enabled', async () => {
    const { data, rawKey } = await t.createKey(owner, { name: 'Toggle' });
    const disable = await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { enabled: false } });
    expect(disable.statusCode).toBe(200);
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'INACTIVE', keyId: data.id, teamId: owner.team.id, name: 'Toggle' });
    const enable = await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { enabled: true } });
    expect(enable.statusCode).toBe(200);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
  });

  it('answers EXPIRED once the clock reaches expiresAt', async () => {
    const expiresAt = t.clock.now() + 3_600_000;
    const { data, rawKey } = await t.createKey(owner, { expiresAt: iso(expiresAt) });
    t.clock.advance(3_600_000 - 1);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    t.clock.advance(1);
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'EXPIRED', keyId: data.id, teamId: owner.team.id, expiresAt: iso(expiresAt) });
  });

  it('answers REVOKED for a revoked key', async () => {
    const { data, rawKey } = await t.createKey(owner);
    const revoke = await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect(revoke.statusCode).toBe(200);
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'REVOKED', keyId: data.id, teamId: owner.team.id });
  });

  it('answers REVOKED for the old secret at once after a regenerate, and VALID for the new one', async () => {
    const { data, rawKey } = await t.createKey(owner);
    const regen = await t.request({ method: 'POST', url: `/api/v1/keys/${data.id}/regenerate`, cookie: owner.cookie, body: {} });
    expect(regen.statusCode).toBe(200);
    const newKey = regen.json().rawKey as string;
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'REVOKED', keyId: data.id, teamId: owner.team.id });
    expect(await t.verify({ key: newKey })).toMatchObject({ valid: true, code: 'VALID', keyId: data.id });
  });

  it('keeps the old secret VALID during the grace period of a regenerate, then answers REVOKED', async () => {
    const { data, rawKey } = await t.createKey(owner);
    const regen = await t.request({ method: 'POST', url: `/api/v1/keys/${data.id}/regenerate`, cookie: owner.cookie, body: { expireOldAfterSeconds: 60 } });
    expect(regen.statusCode).toBe(200);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    t.clock.advance(60_000);
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'REVOKED', keyId: data.id, teamId: owner.team.id });
    expect((await t.verify({ key: regen.json().rawKey as string })).code).toBe('VALID');
  });

  it('answers INSUFFICIENT_SCOPES listing the missing scopes', async () => {
    const { data, rawKey } = await t.createKey(owner, { scopes: ['read'] });
    const answer = await t.verify({ key: rawKey, scopes: ['read', 'write', 'admin'] });
    expect(answer).toMatchObject({ valid: false, code: 'INSUFFICIENT_SCOPES', keyId: data.id, teamId: owner.team.id, scopes: ['read'] });
    expect(answer.missingScopes).toEqual(['write', 'admin']);
    expect((await t.verify({ key: rawKey, scopes: ['read'] })).code).toBe('VALID');
  });

  it('answers USAGE_EXCEEDED once the key credits are spent', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 2 } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', credits: { remaining: 1 } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', keyId: data.id, teamId: owner.team.id });
    expect((await getKey(data.id)).credits?.remaining).toBe(0);
  });

  it("answers USAGE_EXCEEDED once the team's balance is spent, for a key without credits of its own", async () => {
    await setTeamBalance(2);
    const { data, rawKey } = await t.createKey(owner);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', keyId: data.id, teamId: owner.team.id });
    expect(await teamBalance()).toBe(0);
    await setTeamBalance(null);
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
  });

  it('answers RATE_LIMITED with remaining 0 and resetAt once the window is spent, and VALID in the next window', async () => {
    const { data, rawKey } = await t.createKey(owner, { rateLimit: { limit: 2, windowSeconds: 60 } });
    const resetAt = iso(t.clock.now() + 60_000);
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', rateLimit: { limit: 2, remaining: 1, resetAt } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', rateLimit: { limit: 2, remaining: 0, resetAt } });
    const limited = await t.verify({ key: rawKey });
    expect(limited).toMatchObject({ valid: false, code: 'RATE_LIMITED', keyId: data.id, teamId: owner.team.id, rateLimit: { remaining: 0, resetAt } });
    t.clock.advance(60_000);
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', rateLimit: { limit: 2, remaining: 1, resetAt: iso(t.clock.now() + 60_000) } });
  });
});

describe('use counting', () => {
  it('adds exactly one use per VALID answer, none for rejected ones, and sets lastUsedAt to the clock', async () => {
    const { data, rawKey } = await t.createKey(owner, { scopes: ['read'] });
    expect(await getKey(data.id)).toMatchObject({ usageCount: 0, lastUsedAt: null });
    for (let i = 0; i < 3; i += 1) expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    t.clock.advance(90_500);
    const lastValid = t.clock.now();
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    t.clock.advance(5_000);
    expect((await t.verify({ key: rawKey, scopes: ['write'] })).code).toBe('INSUFFICIENT_SCOPES');
    expect((await t.verify({ key: rawKey, scopes: ['admin'] })).code).toBe('INSUFFICIENT_SCOPES');
    expect(await getKey(data.id)).toMatchObject({ usageCount: 4, lastUsedAt: iso(lastValid) });
    expect(await usageOf(data.id)).toEqual({ valid: 4, rejected: 2, creditsUsed: 4 });
  });

  it('counts every kind of rejection of a known key as rejected in its usage', async () => {
    const { data, rawKey } = await t.createKey(owner, { scopes: ['read'], credits: { limit: 1 }, rateLimit: { limit: 3, windowSeconds: 3600 } });
    expect((await t.verify({ key: rawKey })).code).toBe('VALID');
    expect((await t.verify({ key: rawKey })).code).toBe('USAGE_EXCEEDED');
    expect((await t.verify({ key: rawKey, cost: 0, scopes: ['write'] })).code).toBe('INSUFFICIENT_SCOPES');
    expect((await t.verify({ key: rawKey, cost: 0 })).code).toBe('VALID');
    expect((await t.verify({ key: rawKey, cost: 0 })).code).toBe('RATE_LIMITED');
    await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { enabled: false } });
    expect((await t.verify({ key: rawKey })).code).toBe('INACTIVE');
    await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect((await t.verify({ key: rawKey })).code).toBe('REVOKED');
    expect(await usageOf(data.id)).toEqual({ valid: 2, rejected: 5, creditsUsed: 1 });
    expect((await getKey(data.id)).usageCount).toBe(2);
  });
});

describe('cost', () => {
  it('takes 1 credit by default and exactly `cost` otherwise', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10 } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', credits: { remaining: 9 } });
    expect(await t.verify({ key: rawKey, cost: 4 })).toMatchObject({ code: 'VALID', credits: { remaining: 5 } });
    expect((await t.verify({ key: rawKey, cost: 6 })).code).toBe('USAGE_EXCEEDED');
    expect(await getKey(data.id)).toMatchObject({ credits: { remaining: 5 }, usageCount: 2 });
    expect(await t.verify({ key: rawKey, cost: 5 })).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
    expect(await usageOf(data.id)).toEqual({ valid: 3, rejected: 1, creditsUsed: 10 });
  });

  it('allows cost 0, which spends nothing but still counts a use, even with no credits left', async () => {
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 1 } });
    expect(await t.verify({ key: rawKey, cost: 0 })).toMatchObject({ code: 'VALID', credits: { remaining: 1 } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
    expect(await t.verify({ key: rawKey, cost: 0 })).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
    expect(await getKey(data.id)).toMatchObject({ usageCount: 3, credits: { remaining: 0 } });
  });

  it("charges both the key's credits and the team's balance", async () => {
    await setTeamBalance(100);
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10 } });
    expect(await t.verify({ key: rawKey, cost: 3 })).toMatchObject({ code: 'VALID', credits: { remaining: 7 } });
    expect((await getKey(data.id)).credits?.remaining).toBe(7);
    expect(await teamBalance()).toBe(97);
  });

  it("charges nothing to the key when the team's balance cannot pay", async () => {
    await setTeamBalance(2);
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 10 } });
    expect(await t.verify({ key: rawKey, cost: 3 })).toMatchObject({ valid: false, code: 'USAGE_EXCEEDED', keyId: data.id });
    expect(await getKey(data.id)).toMatchObject({ usageCount: 0, credits: { remaining: 10 } });
    expect(await teamBalance()).toBe(2);
    expect(await usageOf(data.id)).toEqual({ valid: 0, rejected: 1, creditsUsed: 0 });
    expect(await t.verify({ key: rawKey, cost: 2 })).toMatchObject({ code: 'VALID', credits: { remaining: 8 } });
    expect(await teamBalance()).toBe(0);
  });

  it("charges nothing to the team when the key's credits cannot pay", async () => {
    await setTeamBalance(50);
    const { rawKey } = await t.createKey(owner, { credits: { limit: 2 } });
    expect((await t.verify({ key: rawKey, cost: 3 })).code).toBe('USAGE_EXCEEDED');
    expect(await teamBalance()).toBe(50);
  });
});

describe('credit refill', () => {
  it('refills the key to the refill amount after the next UTC midnight, not before', async () => {
    // The clock starts at 2026-11-20T12:00:00Z.
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 5, refill: { amount: 3, interval: 'day' } } });
    expect(await t.verify({ key: rawKey, cost: 5 })).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
    expect((await t.verify({ key: rawKey })).code).toBe('USAGE_EXCEEDED');
    t.clock.advance(12 * 3_600_000 - 1);
    expect((await t.verify({ key: rawKey })).code).toBe('USAGE_EXCEEDED');
    t.clock.advance(1);
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', credits: { remaining: 2 } });
    // Only once per day: later the same day the spent credits stay spent.
    t.clock.advance(3_600_000);
    expect(await t.verify({ key: rawKey, cost: 2 })).toMatchObject({ code: 'VALID', credits: { remaining: 0 } });
    expect((await t.verify({ key: rawKey })).code).toBe('USAGE_EXCEEDED');
    expect((await getKey(data.id)).credits?.remaining).toBe(0);
  });
});

describe('malformed keys', () => {
  it('adds no usage to a key when its checksum is mistyped', async () => {
    const { data, rawKey } = await t.createKey(owner);
    expect((await t.verify({ key: withBrokenChecksum(rawKey) })).code).toBe('MALFORMED');
    expect(await usageOf(data.id)).toEqual({ valid: 0, rejected: 0, creditsUsed: 0 });
    expect((await getKey(data.id)).usageCount).toBe(0);
  });

  it('are answered without a database lookup, unlike a well-formed key', async () => {
    let lookups = 0;
    const counting = await buildTestApp({
      wrapStore: (store: Store): Store => ({
        ...store,
        keys: {
          ...store.keys,
          findByHash: (hash) => {
            lookups += 1;
            return store.keys.findByHash(hash);
          },
        },
      }),
    });
    try {
      const person = await counting.signup();
      const { rawKey } = await counting.createKey(person);
      for (const key of ['nonsense', withBrokenChecksum(rawKey), rawKey.replace('_live_', '_prod_'), `${rawKey}0`]) {
        expect((await counting.verify({ key })).code).toBe('MALFORMED');
      }
      expect(lookups).toBe(0);
      // The counter does count: the first verification of a real key looks it up.
      expect((await counting.verify({ key: rawKey })).code).toBe('VALID');
      expect(lookups).toBe(1);
      // With the key cached (a hit skips the checksum), its near twins are still refused without a lookup.
      for (const i of [rawKey.length - 1, rawKey.length - 6, 10]) {
        const twin = rawKey.slice(0, i) + (rawKey[i] === 'A' ? 'B' : 'A') + rawKey.slice(i + 1);
        expect((await counting.verify({ key: twin })).code).toBe('MALFORMED');
      }
      expect((await counting.verify({ key: rawKey })).code).toBe('VALID');
      expect(lookups).toBe(1);
    } finally {
      await counting.close();
    }
  });
});
