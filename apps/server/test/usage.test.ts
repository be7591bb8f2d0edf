import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, type TestUser } from './helpers';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The test clock starts at 2026-11-20T12:00:00.000Z. */
const START = Date.UTC(2026, 10, 20, 12, 0, 0);

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp({ start: START });
});
afterEach(async () => {
  await t.close();
});

interface Point {
  t: string;
  valid: number;
  rejected: number;
  creditsUsed: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const zero = (ms: number): Point => ({ t: iso(ms), valid: 0, rejected: 0, creditsUsed: 0 });

async function keyUsage(owner: TestUser, id: string, query: string) {
  return t.request({ url: `/api/v1/keys/${id}/usage${query}`, cookie: owner.cookie });
}

async function teamUsage(owner: TestUser, query: string) {
  return t.request({ url: `/api/v1/usage${query}`, cookie: owner.cookie });
}

async function verifyCode(key: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await t.verify({ key, ...extra })).code;
}

describe('GET /api/v1/keys/:id/usage', () => {
  it('counts valid and rejected verifications and credits in zero-filled hourly buckets', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner, { scopes: ['read'] });

    t.clock.advance(5 * MINUTE); // 12:05
    expect(await verifyCode(rawKey)).toBe('VALID');
    expect(await verifyCode(rawKey, { scopes: ['read'] })).toBe('VALID');
    expect(await verifyCode(rawKey, { cost: 5 })).toBe('VALID');

    t.clock.advance(2 * HOUR + 25 * MINUTE); // 14:30
    expect(await verifyCode(rawKey, { cost: 2 })).toBe('VALID');
    expect(await verifyCode(rawKey, { scopes: ['admin'] })).toBe('INSUFFICIENT_SCOPES');
    const lastValidAt = t.clock.now();
    t.clock.advance(MINUTE);
    expect(await verifyCode(rawKey, { scopes: ['write'] })).toBe('INSUFFICIENT_SCOPES');
    // Neither a mistyped key nor an unknown one belongs to this key's usage.
    expect(await verifyCode(`${rawKey.slice(0, -1)}${rawKey.endsWith('0') ? '1' : '0'}`)).toBe('MALFORMED');

    const res = await keyUsage(owner, data.id, `?from=${iso(START)}&to=${iso(START + 3 * HOUR)}&interval=hour`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: [
        { t: iso(START), valid: 3, rejected: 0, creditsUsed: 7 },
        zero(START + HOUR),
        { t: iso(START + 2 * HOUR), valid: 1, rejected: 2, creditsUsed: 2 },
      ],
    });

    // A window that leaves out the first hour leaves out its counts.
    const later = await keyUsage(owner, data.id, `?from=${iso(START + HOUR)}&to=${iso(START + 3 * HOUR)}&interval=hour`);
    expect(later.json().data).toEqual([zero(START + HOUR), { t: iso(START + 2 * HOUR), valid: 1, rejected: 2, creditsUsed: 2 }]);

    // usageCount counts only VALID answers, and lastUsedAt is the last VALID one.
    const key = (await t.request({ url: `/api/v1/keys/${data.id}`, cookie: owner.cookie })).json().data;
    expect(key.usageCount).toBe(4);
    expect(key.lastUsedAt).toBe(iso(lastValidAt));
  });

  it('counts verifications in zero-filled daily buckets', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    const day0 = Date.UTC(2026, 10, 20);

    expect(await verifyCode(rawKey)).toBe('VALID'); // Nov 20, 12:00
    t.clock.advance(11 * HOUR + 59 * MINUTE); // Nov 20, 23:59
    expect(await verifyCode(rawKey)).toBe('VALID');

    t.clock.advance(DAY + 2 * MINUTE); // Nov 22, 00:01
    expect(await verifyCode(rawKey, { cost: 4 })).toBe('VALID');
    expect((await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie, body: { enabled: false } })).statusCode).toBe(200);
    expect(await verifyCode(rawKey)).toBe('INACTIVE');

    const res = await keyUsage(owner, data.id, `?from=${iso(day0)}&to=${iso(day0 + 3 * DAY)}&interval=day`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      { t: iso(day0), valid: 2, rejected: 0, creditsUsed: 2 },
      zero(day0 + DAY),
      { t: iso(day0 + 2 * DAY), valid: 1, rejected: 1, creditsUsed: 4 },
    ]);
  });

  it('counts every kind of rejection of a known key as rejected', async () => {
    const owner = await t.signup();
    const limited = await t.createKey(owner, { rateLimit: { limit: 1, windowSeconds: 60 } });
    expect(await verifyCode(limited.rawKey)).toBe('VALID');
    expect(await verifyCode(limited.rawKey)).toBe('RATE_LIMITED');

    const spent = await t.createKey(owner, { credits: { limit: 1 } });
    expect(await verifyCode(spent.rawKey)).toBe('VALID');
    expect(await verifyCode(spent.rawKey)).toBe('USAGE_EXCEEDED');

    const expiring = await t.createKey(owner, { expiresAt: iso(START + 30 * MINUTE) });
    const rotated = await t.createKey(owner);
    const newSecret = (await t.request({ method: 'POST', url: `/api/v1/keys/${rotated.data.id}/regenerate`, cookie: owner.cookie, body: {} })).json().rawKey as string;
    t.clock.advance(30 * MINUTE);
    expect(await verifyCode(expiring.rawKey)).toBe('EXPIRED');
    expect(await verifyCode(rotated.rawKey)).toBe('REVOKED');
    expect(await verifyCode(newSecret)).toBe('VALID');

    const window = `?from=${iso(START)}&to=${iso(START + HOUR)}&interval=hour`;
    const one = async (id: string) => (await keyUsage(owner, id, window)).json().data as Point[];
    expect(await one(limited.data.id)).toEqual([{ t: iso(START), valid: 1, rejected: 1, creditsUsed: 1 }]);
    expect(await one(spent.data.id)).toEqual([{ t: iso(START), valid: 1, rejected: 1, creditsUsed: 1 }]);
    expect(await one(expiring.data.id)).toEqual([{ t: iso(START), valid: 0, rejected: 1, creditsUsed: 0 }]);
    expect(await one(rotated.data.id)).toEqual([{ t: iso(START), valid: 1, rejected: 1, creditsUsed: 1 }]);
  });

  it('answers a zero-filled series for a key never used', async () => {
    const owner = await t.signup();
    const { data } = await t.createKey(owner);
    const from = START - DAY;
    const res = await keyUsage(owner, data.id, `?from=${iso(from)}&to=${iso(START)}&interval=hour`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual(Array.from({ length: 24 }, (_, i) => zero(from + i * HOUR)));
  });

  it.each([
    ['an unknown interval', `?interval=minute`],
    ['from after to', `?from=${iso(START)}&to=${iso(START - HOUR)}&interval=hour`],
    ['a from that is not a timestamp', '?from=yesterday'],
    ['an unknown query parameter', '?keyId=key_abc'],
  ])('answers 400 VALIDATION_FAILED to %s', async (_label, query) => {
    const owner = await t.signup();
    const { data } = await t.createKey(owner);
    for (const res of [await keyUsage(owner, data.id, query), await teamUsage(owner, query)]) {
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('answers 404 for another team key and for an unknown key', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const theirs = await t.createKey(stranger);
    expect(await verifyCode(theirs.rawKey)).toBe('VALID');
    const foreign = await keyUsage(owner, theirs.data.id, '?interval=hour');
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('NOT_FOUND');
    expect((await keyUsage(owner, 'key_doesnotexist', '?interval=hour')).statusCode).toBe(404);
  });
});

describe('GET /api/v1/usage', () => {
  it('gives the team totals, usage per key and a series, leaving out other teams', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const a = await t.createKey(owner, { name: 'alpha' });
    const b = await t.createKey(owner, { name: 'bravo' });
    const idle = await t.createKey(owner, { name: 'idle' });
    const theirs = await t.createKey(stranger, { name: 'theirs' });

    t.clock.advance(10 * MINUTE); // 12:10
    expect(await verifyCode(a.rawKey)).toBe('VALID');
    expect(await verifyCode(b.rawKey, { cost: 3 })).toBe('VALID');
    expect(await verifyCode(theirs.rawKey)).toBe('VALID');
    t.clock.advance(2 * HOUR); // 14:10
    expect(await verifyCode(a.rawKey)).toBe('VALID');
    expect(await verifyCode(theirs.rawKey, { cost: 10 })).toBe('VALID');
    expect((await t.request({ method: 'DELETE', url: `/api/v1/keys/${a.data.id}`, cookie: owner.cookie })).statusCode).toBe(200);
    expect(await verifyCode(a.rawKey)).toBe('REVOKED');

    const res = await teamUsage(owner, `?from=${iso(START)}&to=${iso(START + 3 * HOUR)}&interval=hour`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { totals: Omit<Point, 't'>; byKey: Array<Record<string, unknown>>; series: Point[] };
    expect(body.totals).toEqual({ valid: 3, rejected: 1, creditsUsed: 5 });
    expect(body.series).toEqual([
      { t: iso(START), valid: 2, rejected: 0, creditsUsed: 4 },
      zero(START + HOUR),
      { t: iso(START + 2 * HOUR), valid: 1, rejected: 1, creditsUsed: 1 },
    ]);
    const byKey = [...body.byKey].sort((x, y) => String(x.name).localeCompare(String(y.name)));
    expect(byKey).toEqual([
      { keyId: a.data.id, name: 'alpha', valid: 2, rejected: 1, creditsUsed: 2 },
      { keyId: b.data.id, name: 'bravo', valid: 1, rejected: 0, creditsUsed: 3 },
    ]);
    expect(JSON.stringify(body)).not.toContain(theirs.data.id);
    expect(JSON.stringify(body)).not.toContain(idle.data.id);

    const theirsView = (await teamUsage(stranger, `?from=${iso(START)}&to=${iso(START + 3 * HOUR)}&interval=hour`)).json();
    expect(theirsView.totals).toEqual({ valid: 2, rejected: 0, creditsUsed: 11 });
  });

  it('sums days with interval=day', async () => {
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner);
    const day0 = Date.UTC(2026, 10, 20);
    expect(await verifyCode(rawKey)).toBe('VALID');
    t.clock.advance(DAY);
    expect(await verifyCode(rawKey, { cost: 2 })).toBe('VALID');
    expect(await verifyCode(rawKey, { cost: 2 })).toBe('VALID');
    const res = await teamUsage(owner, `?from=${iso(day0)}&to=${iso(day0 + 2 * DAY)}&interval=day`);
    expect(res.statusCode).toBe(200);
    expect(res.json().totals).toEqual({ valid: 3, rejected: 0, creditsUsed: 5 });
    expect(res.json().series).toEqual([
      { t: iso(day0), valid: 1, rejected: 0, creditsUsed: 1 },
      { t: iso(day0 + DAY), valid: 2, rejected: 0, creditsUsed: 4 },
    ]);
  });

  it('lets a viewer read the usage of the team', async () => {
    const owner = await t.signup();
    const viewer = await t.member(owner, 'viewer');
    const { data, rawKey } = await t.createKey(owner);
    expect(await verifyCode(rawKey)).toBe('VALID');
    const window = `?from=${iso(START)}&to=${iso(START + HOUR)}&interval=hour`;
    const team = await t.request({ url: `/api/v1/usage${window}`, cookie: viewer.cookie, teamId: owner.team.id });
    expect(team.statusCode).toBe(200);
    expect(team.json().totals.valid).toBe(1);
    const one = await t.request({ url: `/api/v1/keys/${data.id}/usage${window}`, cookie: viewer.cookie, teamId: owner.team.id });
    expect(one.statusCode).toBe(200);
    expect(one.json().data).toEqual([{ t: iso(START), valid: 1, rejected: 0, creditsUsed: 1 }]);
  });

  it('answers 401 without credentials and 404 for a team the caller is not in', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    expect((await t.request({ url: '/api/v1/usage' })).statusCode).toBe(401);
    expect((await t.request({ url: '/api/v1/usage', cookie: stranger.cookie, teamId: owner.team.id })).statusCode).toBe(404);
  });
});
