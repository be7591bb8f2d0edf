import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, type TestUser } from './helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

const HOUR = 3600_000;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Exactly the fields of the contract's key object. */
const KEY_FIELDS = [
  'createdAt',
  'createdBy',
  'credits',
  'description',
  'environment',
  'expiresAt',
  'id',
  'lastUsedAt',
  'metadata',
  'name',
  'prefix',
  'rateLimit',
  'revokedAt',
  'scopes',
  'status',
  'usageCount',
];

/** The contract's checksum, computed here independently of the server's code. */
function expectedChecksum(body: string): string {
  let value = crc32(Buffer.from(body, 'utf8'));
  const digits: string[] = [];
  while (value > 0) {
    digits.unshift(ALPHABET[value % 62] as string);
    value = Math.floor(value / 62);
  }
  return digits.join('').padStart(6, '0');
}

function expectWellFormedKey(rawKey: string, environment: 'live' | 'test' = 'live'): void {
  expect(rawKey).toMatch(new RegExp(`^pk_${environment}_[0-9A-Za-z]{38,}$`));
  expect(rawKey.slice(-6)).toBe(expectedChecksum(rawKey.slice(0, -6)));
}

interface KeyBody {
  id: string;
  name: string;
  description: string | null;
  prefix: string;
  environment: string;
  status: string;
  scopes: string[];
  createdAt: string;
  createdBy: { id: string; name: string } | null;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  usageCount: number;
  credits: { limit: number; remaining: number; refill: { amount: number; interval: string } | null } | null;
  rateLimit: { limit: number; windowSeconds: number } | null;
  metadata: Record<string, unknown>;
}

interface PageBody {
  data: KeyBody[];
  nextCursor: string | null;
  prevCursor: string | null;
  total: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** A cursor made by hand, the way a client could forge one. */
const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function getKey(owner: TestUser, id: string) {
  const res = await t.request({ url: `/api/v1/keys/${id}`, cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  return res.json().data as KeyBody;
}

async function list(owner: TestUser, query: string): Promise<PageBody> {
  const res = await t.request({ url: `/api/v1/keys${query}`, cookie: owner.cookie });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as PageBody;
}

async function patch(owner: TestUser, id: string, body: Record<string, unknown>) {
  return t.request({ method: 'PATCH', url: `/api/v1/keys/${id}`, cookie: owner.cookie, body });
}

async function regenerate(owner: TestUser, id: string, body?: Record<string, unknown>) {
  return t.request({ method: 'POST', url: `/api/v1/keys/${id}/regenerate`, cookie: owner.cookie, ...(body ? { body } : {}) });
}

async function code(key: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await t.verify({ key, ...extra })).code;
}

async function auditOf(owner: TestUser, targetId: string) {
  const res = await t.request({ url: `/api/v1/audit-logs?limit=100&targetId=${targetId}`, cookie: owner.cookie });
  expect(res.statusCode).toBe(200);
  return res.json() as { data: Array<{ action: string; actor: { type: string; id: string }; target: { type: string; id: string } }>; total: number };
}

describe('POST /api/v1/keys', () => {
  it('creates a live key with the contract defaults and shows the raw key once, with no-store', async () => {
    const owner = await t.signup({ name: 'Ada' });
    const res = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body: { name: 'GitHub CI' } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toContain('no-store');
    const body = res.json() as { data: KeyBody; rawKey: string };
    expect(Object.keys(body).sort()).toEqual(['data', 'rawKey']);
    expectWellFormedKey(body.rawKey);
    const key = body.data;
    expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
    expect(key.id).toMatch(/^key_/);
    expect(key).toMatchObject({
      name: 'GitHub CI',
      description: null,
      prefix: body.rawKey.slice(0, 12),
      environment: 'live',
      status: 'active',
      scopes: [],
      createdAt: iso(t.clock.now()),
      createdBy: { id: owner.user.id, name: 'Ada' },
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      usageCount: 0,
      credits: null,
      rateLimit: null,
      metadata: {},
    });
    // The secret part appears nowhere in the key object.
    expect(JSON.stringify(key)).not.toContain(body.rawKey.slice(12));
    expect(await code(body.rawKey)).toBe('VALID');
  });

  it('creates a test key with every setting and keeps them', async () => {
    const owner = await t.signup();
    const expiresAt = iso(t.clock.now() + 24 * HOUR);
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/keys',
      cookie: owner.cookie,
      body: {
        name: '  Staging  ',
        description: 'deploys',
        environment: 'test',
        expiresAt,
        scopes: ['read', 'write'],
        credits: { limit: 50, refill: { amount: 50, interval: 'day' } },
        rateLimit: { limit: 10, windowSeconds: 60 },
        metadata: { plan: 'pro', tags: ['a'] },
      },
    });
    expect(res.statusCode).toBe(201);
    const { data, rawKey } = res.json() as { data: KeyBody; rawKey: string };
    expectWellFormedKey(rawKey, 'test');
    const expected = {
      name: 'Staging',
      description: 'deploys',
      environment: 'test',
      prefix: rawKey.slice(0, 12),
      expiresAt,
      scopes: ['read', 'write'],
      credits: { limit: 50, remaining: 50, refill: { amount: 50, interval: 'day' } },
      rateLimit: { limit: 10, windowSeconds: 60 },
      metadata: { plan: 'pro', tags: ['a'] },
    };
    expect(data).toMatchObject(expected);
    expect(await getKey(owner, data.id)).toMatchObject(expected);
  });

  it('gives every key a different secret and prefix', async () => {
    const owner = await t.signup();
    const keys = await Promise.all(Array.from({ length: 10 }, () => t.createKey(owner)));
    expect(new Set(keys.map((k) => k.rawKey)).size).toBe(10);
    expect(new Set(keys.map((k) => k.data.prefix)).size).toBe(10);
    for (const k of keys) expectWellFormedKey(k.rawKey);
  });

  it('accepts a name of 100 characters after trimming and a description of 500', async () => {
    const owner = await t.signup();
    const res = await t.request({
      method: 'POST',
      url: '/api/v1/keys',
      cookie: owner.cookie,
      body: { name: `  ${'n'.repeat(100)}  `, description: 'd'.repeat(500) },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.name).toBe('n'.repeat(100));
  });

  it.each([
    ['a whitespace-only name', { name: '   ' }, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a name over 100 characters', { name: 'n'.repeat(101) }, 'name'],
    ['a missing name', {}, 'name'],
    ['a description over 500 characters', { name: 'k', description: 'd'.repeat(501) }, 'description'],
    ['an expiry in the past', { name: 'k', expiresAt: '2020-01-01T00:00:00.000Z' }, 'expiresAt'],
    ['an expiry that is not a timestamp', { name: 'k', expiresAt: 'tomorrow' }, 'expiresAt'],
    ['metadata over 4 KiB', { name: 'k', metadata: { blob: 'x'.repeat(4100) } }, 'metadata'],
    ['metadata that is not an object', { name: 'k', metadata: ['a'] }, 'metadata'],
    ['an unknown scope', { name: 'k', scopes: ['read', 'delete-everything'] }, 'scopes.1'],
    ['an unknown environment', { name: 'k', environment: 'prod' }, 'environment'],
    ['a number as name', { name: 5 }, 'name'],
    ['scopes as a string', { name: 'k', scopes: 'read' }, 'scopes'],
    ['negative credits', { name: 'k', credits: { limit: -1 } }, 'credits.limit'],
    ['a zero rate limit', { name: 'k', rateLimit: { limit: 0, windowSeconds: 60 } }, 'rateLimit.limit'],
    ['a teamId', { name: 'k', teamId: 'team_abc' }, 'teamId'],
    ['a hash', { name: 'k', hash: 'abc' }, 'hash'],
    ['a status', { name: 'k', status: 'active' }, 'status'],
    ['a usageCount', { name: 'k', usageCount: 5 }, 'usageCount'],
    ['a prefix', { name: 'k', prefix: 'pk_live_aaaa' }, 'prefix'],
    ['a NUL character in the name', { name: 'a\u0000b' }, 'name'],
    ['a NUL character in the description', { name: 'k', description: 'a\u0000b' }, 'description'],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field, and writes nothing', async (_label, body, path) => {
    const owner = await t.signup();
    const res = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect((await list(owner, '')).total).toBe(0);
  });

  it('refuses an expiry equal to the current time', async () => {
    const owner = await t.signup();
    const res = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body: { name: 'k', expiresAt: iso(t.clock.now()) } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].path).toBe('expiresAt');
  });

  it('accepts metadata of exactly 4 KiB of JSON', async () => {
    const owner = await t.signup();
    // {"blob":"…"} is 11 bytes around the value.
    const res = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body: { name: 'k', metadata: { blob: 'x'.repeat(4096 - 11) } } });
    expect(res.statusCode).toBe(201);
  });

  it('records a service token as creator when a service creates the key', async () => {
    const owner = await t.signup();
    const res = await t.request({ method: 'POST', url: '/api/v1/keys', token: true, teamId: owner.team.id, body: { name: 'from CI' } });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.createdBy).toEqual({ id: expect.any(String), name: expect.any(String) });
    const audit = await auditOf(owner, res.json().data.id);
    expect(audit.data[0]).toMatchObject({ action: 'key.created', actor: { type: 'service' } });
  });

  it('answers 400 to a service token without X-Team-Id', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/keys', token: true, body: { name: 'k' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /api/v1/keys/:id', () => {
  it('returns the key of the caller team', async () => {
    const owner = await t.signup();
    const created = await t.createKey(owner, { name: 'Mine', scopes: ['read'] });
    const key = await getKey(owner, created.data.id);
    expect(key).toEqual(created.data);
  });

  it('answers 404 for another team key and for an unknown id, and 400 for a malformed id', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const theirs = await t.createKey(stranger);
    const foreign = await t.request({ url: `/api/v1/keys/${theirs.data.id}`, cookie: owner.cookie });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('NOT_FOUND');
    expect((await t.request({ url: '/api/v1/keys/key_doesnotexist', cookie: owner.cookie })).statusCode).toBe(404);
    const malformed = await t.request({ url: '/api/v1/keys/not-an-id', cookie: owner.cookie });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 401 without credentials on every key endpoint', async () => {
    const requests = [
      { method: 'GET' as const, url: '/api/v1/keys' },
      { method: 'POST' as const, url: '/api/v1/keys', body: { name: 'k' } },
      { method: 'GET' as const, url: '/api/v1/keys/key_abc' },
      { method: 'PATCH' as const, url: '/api/v1/keys/key_abc', body: { name: 'k' } },
      { method: 'POST' as const, url: '/api/v1/keys/key_abc/regenerate', body: {} },
      { method: 'DELETE' as const, url: '/api/v1/keys/key_abc' },
      { method: 'GET' as const, url: '/api/v1/keys/key_abc/usage' },
    ];
    for (const r of requests) {
      const res = await t.request(r);
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('GET /api/v1/keys', () => {
  async function createMany(owner: TestUser, n: number, spacingMs: number): Promise<string[]> {
    return (await createManyWithSecrets(owner, n, spacingMs)).map((k) => k.id);
  }

  async function createManyWithSecrets(owner: TestUser, n: number, spacingMs: number): Promise<Array<{ id: string; rawKey: string }>> {
    const keys: Array<{ id: string; rawKey: string }> = [];
    for (let i = 0; i < n; i += 1) {
      const created = await t.createKey(owner, { name: `key ${String(i).padStart(2, '0')}` });
      keys.push({ id: created.data.id, rawKey: created.rawKey });
      t.clock.advance(spacingMs);
    }
    return keys;
  }

  /** Walks every page forward, then back from the last page, checking the cursors on the way. */
  async function walk(owner: TestUser, query: string, limit: number, expectedTotal: number): Promise<string[]> {
    const forward: PageBody[] = [];
    let page = await list(owner, `?limit=${limit}${query}`);
    expect(page.prevCursor).toBeNull();
    forward.push(page);
    while (page.nextCursor !== null) {
      expect(forward.length).toBeLessThan(100);
      page = await list(owner, `?limit=${limit}&cursor=${encodeURIComponent(page.nextCursor)}${query}`);
      forward.push(page);
    }
    const pages = Math.ceil(expectedTotal / limit);
    expect(forward).toHaveLength(pages);
    for (const [i, p] of forward.entries()) {
      expect(p.total).toBe(expectedTotal);
      expect(p.data).toHaveLength(i < pages - 1 ? limit : expectedTotal - limit * (pages - 1));
      if (i > 0) expect(p.prevCursor).not.toBeNull();
    }
    const ids = forward.flatMap((p) => p.data.map((k) => k.id));
    expect(new Set(ids).size).toBe(expectedTotal);

    // Back again with prevCursor: each page is exactly the one seen going forward.
    let back = forward[forward.length - 1] as PageBody;
    for (let i = forward.length - 2; i >= 0; i -= 1) {
      expect(back.prevCursor).not.toBeNull();
      back = await list(owner, `?limit=${limit}&cursor=${encodeURIComponent(back.prevCursor as string)}${query}`);
      expect(back.data.map((k) => k.id)).toEqual((forward[i] as PageBody).data.map((k) => k.id));
      expect(back.total).toBe(expectedTotal);
      expect(back.nextCursor).not.toBeNull();
    }
    expect(back.prevCursor).toBeNull();
    return ids;
  }

  it('pages through 25 keys newest first, forward with nextCursor and back with prevCursor, without gaps or duplicates', async () => {
    const owner = await t.signup();
    const ids = await createMany(owner, 25, 1000);
    const walked = await walk(owner, '', 10, 25);
    expect(walked).toEqual([...ids].reverse());
    const last = await list(owner, `?limit=5&cursor=${encodeURIComponent((await list(owner, '?limit=20')).nextCursor as string)}`);
    expect(last.data).toHaveLength(5);
    expect(last.nextCursor).toBeNull();
  });

  it('pages correctly through keys created in the same millisecond', async () => {
    const owner = await t.signup();
    const ids = await createMany(owner, 25, 0);
    for (const sort of ['-createdAt', 'createdAt']) {
      const walked = await walk(owner, `&sort=${sort}`, 4, 25);
      expect([...walked].sort()).toEqual([...ids].sort());
    }
  });

  it('pages through every sort order in the same order as one big page', async () => {
    const owner = await t.signup();
    const keys = await createManyWithSecrets(owner, 25, 1000);
    // Some keys used, some not, some at the same time, so lastUsedAt has ties and empties.
    for (const [i, key] of keys.entries()) {
      if (i % 3 === 0) continue;
      expect(await code(key.rawKey)).toBe('VALID');
      if (i % 2 === 0) t.clock.advance(1000);
    }
    for (const sort of ['createdAt', '-createdAt', 'name', '-name', 'lastUsedAt', '-lastUsedAt']) {
      const all = (await list(owner, `?limit=100&sort=${sort}`)).data.map((k) => k.id);
      expect(await walk(owner, `&sort=${sort}`, 6, 25)).toEqual(all);
    }
  });

  it('answers 20 keys by default', async () => {
    const owner = await t.signup();
    await createMany(owner, 21, 0);
    const page = await list(owner, '');
    expect(page.data).toHaveLength(20);
    expect(page.total).toBe(21);
    expect(page.nextCursor).not.toBeNull();
    expect(page.prevCursor).toBeNull();
  });

  it('lists only the caller team keys', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const mine = await t.createKey(owner, { name: 'mine' });
    await t.createKey(stranger, { name: 'theirs' });
    const page = await list(owner, '');
    expect(page.data.map((k) => k.id)).toEqual([mine.data.id]);
    expect(page.total).toBe(1);
  });

  it('sorts by createdAt, name and lastUsedAt in both directions', async () => {
    const owner = await t.signup();
    const bravo = await t.createKey(owner, { name: 'bravo' });
    t.clock.advance(1000);
    const charlie = await t.createKey(owner, { name: 'charlie' });
    t.clock.advance(1000);
    const alpha = await t.createKey(owner, { name: 'alpha' });
    t.clock.advance(1000);
    await code(charlie.rawKey);
    t.clock.advance(1000);
    await code(alpha.rawKey);
    t.clock.advance(1000);
    await code(bravo.rawKey);
    const order = async (sort: string) => (await list(owner, `?sort=${sort}`)).data.map((k) => k.name);
    expect(await order('createdAt')).toEqual(['bravo', 'charlie', 'alpha']);
    expect(await order('-createdAt')).toEqual(['alpha', 'charlie', 'bravo']);
    expect((await list(owner, '')).data.map((k) => k.name)).toEqual(['alpha', 'charlie', 'bravo']);
    expect(await order('name')).toEqual(['alpha', 'bravo', 'charlie']);
    expect(await order('-name')).toEqual(['charlie', 'bravo', 'alpha']);
    expect(await order('lastUsedAt')).toEqual(['charlie', 'alpha', 'bravo']);
    expect(await order('-lastUsedAt')).toEqual(['bravo', 'alpha', 'charlie']);
  });

  it('searches name, description and prefix case-insensitively, with % and _ taken literally', async () => {
    const owner = await t.signup();
    const billing = await t.createKey(owner, { name: 'Billing Service' });
    const payments = await t.createKey(owner, { name: 'worker', description: 'Handles PAYMENTS' });
    const percent = await t.createKey(owner, { name: '50% off' });
    await t.createKey(owner, { name: '500 offers' });
    const underscore = await t.createKey(owner, { name: 'abc_def' });
    await t.createKey(owner, { name: 'abcxdef' });
    const backslash = await t.createKey(owner, { name: 'C:\\temp' });
    await t.createKey(owner, { name: 'tempo' });
    const found = async (q: string) => {
      const page = await list(owner, `?q=${encodeURIComponent(q)}`);
      expect(page.total).toBe(page.data.length);
      return page.data.map((k) => k.id).sort();
    };
    expect(await found('BILLING')).toEqual([billing.data.id]);
    expect(await found('payments')).toEqual([payments.data.id]);
    expect(await found(billing.data.prefix.toUpperCase())).toEqual([billing.data.id]);
    expect(await found('50%')).toEqual([percent.data.id]);
    expect(await found('c_d')).toEqual([underscore.data.id]);
    expect(await found('\\temp')).toEqual([backslash.data.id]);
    expect(await found('nothing like this')).toEqual([]);
  });

  it('filters by status: active, inactive, expired and revoked', async () => {
    const owner = await t.signup();
    const active = await t.createKey(owner, { name: 'active' });
    const inactive = await t.createKey(owner, { name: 'inactive' });
    const expiring = await t.createKey(owner, { name: 'expiring', expiresAt: iso(t.clock.now() + HOUR) });
    const revoked = await t.createKey(owner, { name: 'revoked' });
    const farFuture = await t.createKey(owner, { name: 'later', expiresAt: iso(t.clock.now() + 100 * HOUR) });
    expect((await patch(owner, inactive.data.id, { enabled: false })).statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/keys/${revoked.data.id}`, cookie: owner.cookie })).statusCode).toBe(200);

    const ids = async (status: string) => {
      const page = await list(owner, `?status=${status}`);
      expect(page.total).toBe(page.data.length);
      return page.data.map((k) => k.id).sort();
    };
    expect(await ids('active')).toEqual([active.data.id, expiring.data.id, farFuture.data.id].sort());
    expect(await ids('expired')).toEqual([]);

    t.clock.advance(HOUR);
    expect(await ids('active')).toEqual([active.data.id, farFuture.data.id].sort());
    expect(await ids('inactive')).toEqual([inactive.data.id]);
    expect(await ids('expired')).toEqual([expiring.data.id]);
    expect(await ids('revoked')).toEqual([revoked.data.id]);
    expect((await getKey(owner, expiring.data.id)).status).toBe('expired');
    expect(await code(expiring.rawKey)).toBe('EXPIRED');
    expect((await list(owner, '')).total).toBe(5);
  });

  it.each([
    ['a garbage cursor', '?cursor=not-a-cursor'],
    ['a cursor that is JSON but not ours', `?cursor=${forged(['after', 1, 'x'])}`],
    ['a cursor with text where a time belongs', `?cursor=${forged(['after', 'abc', 'key_x', '-createdAt'])}`],
    ['a cursor with a fractional time', `?cursor=${forged(['after', 1.5, 'key_x', '-createdAt'])}`],
    ['a cursor with a huge time', `?cursor=${forged(['after', 1e300, 'key_x', '-createdAt'])}`],
    ['a cursor with a number where a name belongs', `?sort=name&cursor=${forged(['after', 5, 'key_x', 'name'])}`],
    ['a cursor with a NUL character', `?sort=name&cursor=${forged(['after', 'a\u0000', 'key_x', 'name'])}`],
    ['a cursor with a NUL character in its id', `?cursor=${forged(['after', 1, 'key_\u0000', '-createdAt'])}`],
    ['a search with a NUL character', '?q=a%00b'],
    ['limit 0', '?limit=0'],
    ['limit 101', '?limit=101'],
    ['a limit that is not a number', '?limit=ten'],
    ['an unknown status', '?status=deleted'],
    ['an unknown sort', '?sort=hash'],
    ['an unknown query parameter', '?teamId=team_abc'],
  ])('answers 400 VALIDATION_FAILED to %s', async (_label, query) => {
    const owner = await t.signup();
    await t.createKey(owner);
    const res = await t.request({ url: `/api/v1/keys${query}`, cookie: owner.cookie });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('refuses a cursor made for another sort', async () => {
    const owner = await t.signup();
    await createMany(owner, 3, 0);
    const page = await list(owner, '?limit=1&sort=name');
    const res = await t.request({ url: `/api/v1/keys?limit=1&sort=-createdAt&cursor=${encodeURIComponent(page.nextCursor as string)}`, cookie: owner.cookie });
    expect(res.statusCode).toBe(400);
  });
});

describe('PATCH /api/v1/keys/:id', () => {
  it('changes name, description, scopes and metadata', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner, { name: 'old', description: 'old desc', scopes: ['read'], metadata: { a: 1 } });
    expect(await code(rawKey, { scopes: ['write'] })).toBe('INSUFFICIENT_SCOPES');
    const res = await patch(owner, data.id, { name: '  new  ', description: 'new desc', scopes: ['read', 'write'], metadata: { b: 2 } });
    expect(res.statusCode).toBe(200);
    const expected = { id: data.id, name: 'new', description: 'new desc', scopes: ['read', 'write'], metadata: { b: 2 }, prefix: data.prefix };
    expect(res.json().data).toMatchObject(expected);
    expect(Object.keys(res.json().data).sort()).toEqual(KEY_FIELDS);
    expect(await getKey(owner, data.id)).toMatchObject(expected);
    const verified = await t.verify({ key: rawKey, scopes: ['write'] });
    expect(verified).toMatchObject({ code: 'VALID', name: 'new', metadata: { b: 2 } });

    expect((await patch(owner, data.id, { description: null })).json().data.description).toBeNull();
  });

  it('disables a key (INACTIVE) and enables it again (VALID)', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    const off = await patch(owner, data.id, { enabled: false });
    expect(off.statusCode).toBe(200);
    expect(off.json().data.status).toBe('inactive');
    expect((await getKey(owner, data.id)).status).toBe('inactive');
    expect(await code(rawKey)).toBe('INACTIVE');
    const on = await patch(owner, data.id, { enabled: true });
    expect(on.json().data.status).toBe('active');
    expect(await code(rawKey)).toBe('VALID');
  });

  it('sets and clears the expiry', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    const expiresAt = iso(t.clock.now() + HOUR);
    const set = await patch(owner, data.id, { expiresAt });
    expect(set.json().data.expiresAt).toBe(expiresAt);
    t.clock.advance(HOUR);
    expect(await code(rawKey)).toBe('EXPIRED');
    expect((await getKey(owner, data.id)).status).toBe('expired');
    const cleared = await patch(owner, data.id, { expiresAt: null });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().data).toMatchObject({ expiresAt: null, status: 'active' });
    expect(await code(rawKey)).toBe('VALID');
  });

  it('sets and removes credits', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    const set = await patch(owner, data.id, { credits: { limit: 1, refill: { amount: 5, interval: 'month' } } });
    expect(set.json().data.credits).toEqual({ limit: 1, remaining: 1, refill: { amount: 5, interval: 'month' } });
    expect(await code(rawKey)).toBe('VALID');
    expect(await code(rawKey)).toBe('USAGE_EXCEEDED');
    expect((await getKey(owner, data.id)).credits?.remaining).toBe(0);
    const cleared = await patch(owner, data.id, { credits: null });
    expect(cleared.json().data.credits).toBeNull();
    expect(await code(rawKey)).toBe('VALID');
  });

  it('sets and removes the rate limit', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    const set = await patch(owner, data.id, { rateLimit: { limit: 1, windowSeconds: 60 } });
    expect(set.json().data.rateLimit).toEqual({ limit: 1, windowSeconds: 60 });
    expect(await code(rawKey)).toBe('VALID');
    expect(await code(rawKey)).toBe('RATE_LIMITED');
    const cleared = await patch(owner, data.id, { rateLimit: null });
    expect(cleared.json().data.rateLimit).toBeNull();
    expect(await code(rawKey)).toBe('VALID');
  });

  it.each([
    ['a whitespace-only name', { name: ' \t ' }, 'name'],
    ['an expiry in the past', { expiresAt: '2020-01-01T00:00:00.000Z' }, 'expiresAt'],
    ['an unknown scope', { scopes: ['root'] }, 'scopes.0'],
    ['metadata over 4 KiB', { metadata: { blob: 'x'.repeat(4100) } }, 'metadata'],
    ['enabled as a string', { enabled: 'false' }, 'enabled'],
    ['a status', { status: 'revoked' }, 'status'],
    ['a usageCount', { usageCount: 0 }, 'usageCount'],
    ['a teamId', { teamId: 'team_abc' }, 'teamId'],
    ['a hash', { hash: 'abc' }, 'hash'],
    ['a NUL character in the name', { name: 'a\u0000' }, 'name'],
  ])('refuses %s with 400 and leaves the key unchanged', async (_label, body, path) => {
    const owner = await t.signup();
    const { data } = await t.createKey(owner, { name: 'unchanged' });
    const res = await patch(owner, data.id, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(res.json().error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect(await getKey(owner, data.id)).toEqual(data);
  });

  it('answers 404 for another team key', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const theirs = await t.createKey(stranger, { name: 'theirs' });
    const res = await patch(owner, theirs.data.id, { name: 'mine now' });
    expect(res.statusCode).toBe(404);
    expect((await t.request({ url: `/api/v1/keys/${theirs.data.id}`, cookie: stranger.cookie })).json().data.name).toBe('theirs');
  });

  it('answers 409 CONFLICT for a revoked key', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    for (const body of [{ enabled: true }, { name: 'again' }, { expiresAt: null }]) {
      const res = await patch(owner, data.id, body);
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('CONFLICT');
    }
    expect(await code(rawKey)).toBe('REVOKED');
  });
});

describe('POST /api/v1/keys/:id/regenerate', () => {
  it('issues a new secret with a new prefix, keeps id, name and settings, and revokes the old secret at once', async () => {
    const owner = await t.signup();
    const created = await t.createKey(owner, {
      name: 'Rotating',
      description: 'd',
      environment: 'test',
      scopes: ['read'],
      expiresAt: iso(t.clock.now() + 48 * HOUR),
      credits: { limit: 10 },
      rateLimit: { limit: 100, windowSeconds: 60 },
      metadata: { m: true },
    });
    expect(await code(created.rawKey)).toBe('VALID');
    t.clock.advance(1000);
    const res = await regenerate(owner, created.data.id);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    const { data, rawKey } = res.json() as { data: KeyBody; rawKey: string };
    expectWellFormedKey(rawKey, 'test');
    expect(rawKey).not.toBe(created.rawKey);
    expect(data.prefix).toBe(rawKey.slice(0, 12));
    expect(data.prefix).not.toBe(created.data.prefix);
    expect(Object.keys(data).sort()).toEqual(KEY_FIELDS);
    const { prefix: _old, lastUsedAt: _l, usageCount: _u, credits: _c, ...settings } = created.data;
    expect(data).toMatchObject({ ...settings, id: created.data.id, usageCount: 1, credits: { limit: 10, remaining: 9 } });
    expect((await getKey(owner, created.data.id)).prefix).toBe(rawKey.slice(0, 12));

    expect(await code(created.rawKey)).toBe('REVOKED');
    const fresh = await t.verify({ key: rawKey });
    expect(fresh).toMatchObject({ code: 'VALID', keyId: created.data.id, name: 'Rotating' });
  });

  it('accepts a request without a body', async () => {
    const owner = await t.signup();
    const { data } = await t.createKey(owner);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/keys/${data.id}/regenerate`,
      headers: { cookie: `keysmith_session=${owner.cookie}`, origin: 'http://localhost:80' },
    });
    expect(res.statusCode).toBe(200);
    expectWellFormedKey(res.json().rawKey);
  });

  it('keeps the old secret valid during expireOldAfterSeconds, then revokes it', async () => {
    const owner = await t.signup();
    const created = await t.createKey(owner);
    const res = await regenerate(owner, created.data.id, { expireOldAfterSeconds: 3600 });
    expect(res.statusCode).toBe(200);
    const rawKey = res.json().rawKey as string;
    expect(await code(created.rawKey)).toBe('VALID');
    expect(await code(rawKey)).toBe('VALID');
    t.clock.advance(3599_000);
    expect(await code(created.rawKey)).toBe('VALID');
    t.clock.advance(2000);
    expect(await code(created.rawKey)).toBe('REVOKED');
    expect(await code(rawKey)).toBe('VALID');
    expect((await getKey(owner, created.data.id)).usageCount).toBe(4);
  });

  it('ends the grace period of the old secret when the key is revoked', async () => {
    const owner = await t.signup();
    const created = await t.createKey(owner);
    const rawKey = (await regenerate(owner, created.data.id, { expireOldAfterSeconds: 3600 })).json().rawKey as string;
    expect(await code(created.rawKey)).toBe('VALID');
    await t.request({ method: 'DELETE', url: `/api/v1/keys/${created.data.id}`, cookie: owner.cookie });
    expect(await code(created.rawKey)).toBe('REVOKED');
    expect(await code(rawKey)).toBe('REVOKED');
  });

  it('accepts a grace of 7 days and refuses more, a negative one or a non-integer', async () => {
    const owner = await t.signup();
    const { data } = await t.createKey(owner);
    for (const value of [604801, -1, 1.5, '60']) {
      const res = await regenerate(owner, data.id, { expireOldAfterSeconds: value });
      expect(res.statusCode, String(value)).toBe(400);
      expect(res.json().error.details[0].path).toBe('expireOldAfterSeconds');
    }
    const unknown = await regenerate(owner, data.id, { expireOldAfterSeconds: 10, name: 'x' });
    expect(unknown.statusCode).toBe(400);
    expect((await getKey(owner, data.id)).prefix).toBe(data.prefix);
    expect((await regenerate(owner, data.id, { expireOldAfterSeconds: 604800 })).statusCode).toBe(200);
  });

  it('answers 409 for a revoked key and 404 for another team key', async () => {
    const owner = await t.signup();
    const { data } = await t.createKey(owner);
    await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    const res = await regenerate(owner, data.id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
    const stranger = await t.signup();
    const theirs = await t.createKey(stranger);
    expect((await regenerate(owner, theirs.data.id)).statusCode).toBe(404);
    expect(await code(theirs.rawKey)).toBe('VALID');
  });

  it('leaves exactly one valid secret after 20 concurrent regenerates', async () => {
    const owner = await t.signup();
    const created = await t.createKey(owner);
    const results = await Promise.all(Array.from({ length: 20 }, () => regenerate(owner, created.data.id, {})));
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    const secrets = [created.rawKey, ...results.map((r) => r.json().rawKey as string)];
    expect(new Set(secrets).size).toBe(21);
    const codes = await Promise.all(secrets.map((s) => code(s)));
    expect(codes.filter((c) => c === 'VALID')).toHaveLength(1);
    expect(codes.filter((c) => c !== 'VALID' && c !== 'REVOKED' && c !== 'NOT_FOUND')).toEqual([]);
    // The one that still works is the one the key now shows.
    const valid = secrets[codes.indexOf('VALID')] as string;
    expect((await getKey(owner, created.data.id)).prefix).toBe(valid.slice(0, 12));
  });
});

describe('DELETE /api/v1/keys/:id', () => {
  it('revokes at once and for good; the key stays listed', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    t.clock.advance(5000);
    const res = await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect(res.statusCode).toBe(200);
    const revoked = res.json().data as KeyBody;
    expect(Object.keys(revoked).sort()).toEqual(KEY_FIELDS);
    expect(revoked).toMatchObject({ id: data.id, status: 'revoked', revokedAt: iso(t.clock.now()) });
    expect(await code(rawKey)).toBe('REVOKED');
    const page = await list(owner, '');
    expect(page.data.map((k) => [k.id, k.status])).toEqual([[data.id, 'revoked']]);

    const again = await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('CONFLICT');
    expect((await patch(owner, data.id, { enabled: true })).statusCode).toBe(409);
    expect(await code(rawKey)).toBe('REVOKED');
  });

  it('purges a used and regenerated key: 204, then 404, NOT_FOUND, and the audit entry stays', async () => {
    const owner = await t.signup();
    const created = await t.createKey(owner, { name: 'doomed' });
    expect(await code(created.rawKey)).toBe('VALID');
    const rawKey = (await regenerate(owner, created.data.id, { expireOldAfterSeconds: 600 })).json().rawKey as string;
    const res = await t.request({ method: 'DELETE', url: `/api/v1/keys/${created.data.id}?purge=true`, cookie: owner.cookie });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await t.request({ url: `/api/v1/keys/${created.data.id}`, cookie: owner.cookie })).statusCode).toBe(404);
    expect(await code(rawKey)).toBe('NOT_FOUND');
    expect(await code(created.rawKey)).toBe('NOT_FOUND');
    expect((await list(owner, '')).total).toBe(0);
    const audit = await auditOf(owner, created.data.id);
    expect(audit.data.map((e) => e.action)).toContain('key.purged');
    const again = await t.request({ method: 'DELETE', url: `/api/v1/keys/${created.data.id}?purge=true`, cookie: owner.cookie });
    expect(again.statusCode).toBe(404);
  });

  it('purges a revoked key', async () => {
    const owner = await t.signup();
    const { data } = await t.createKey(owner);
    await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    const res = await t.request({ method: 'DELETE', url: `/api/v1/keys/${data.id}?purge=true`, cookie: owner.cookie });
    expect(res.statusCode).toBe(204);
    expect((await t.request({ url: `/api/v1/keys/${data.id}`, cookie: owner.cookie })).statusCode).toBe(404);
  });

  it('answers 404 when revoking or purging another team key, which keeps working', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const theirs = await t.createKey(stranger);
    for (const url of [`/api/v1/keys/${theirs.data.id}`, `/api/v1/keys/${theirs.data.id}?purge=true`]) {
      const res = await t.request({ method: 'DELETE', url, cookie: owner.cookie });
      expect(res.statusCode).toBe(404);
    }
    expect(await code(theirs.rawKey)).toBe('VALID');
  });
});

describe('audit log of keys', () => {
  it('records every change with actor and target, and never the raw key', async () => {
    const owner = await t.signup();
    const created = await t.createKey(owner, { name: 'audited' });
    const id = created.data.id;
    expect((await patch(owner, id, { name: 'audited 2' })).statusCode).toBe(200);
    expect((await patch(owner, id, { enabled: false })).statusCode).toBe(200);
    expect((await patch(owner, id, { enabled: true })).statusCode).toBe(200);
    const regen = await regenerate(owner, id, {});
    expect(regen.statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/keys/${id}`, cookie: owner.cookie })).statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/keys/${id}?purge=true`, cookie: owner.cookie })).statusCode).toBe(204);

    const res = await t.request({ url: `/api/v1/audit-logs?limit=100&targetId=${id}`, cookie: owner.cookie });
    expect(res.statusCode).toBe(200);
    const entries = (res.json() as Awaited<ReturnType<typeof auditOf>>).data;
    expect(entries.map((e) => e.action).sort()).toEqual(
      ['key.created', 'key.updated', 'key.disabled', 'key.enabled', 'key.regenerated', 'key.revoked', 'key.purged'].sort(),
    );
    for (const entry of entries) {
      expect(entry.actor).toMatchObject({ type: 'user', id: owner.user.id });
      expect(entry.target).toMatchObject({ type: 'key', id });
    }
    for (const secret of [created.rawKey, regen.json().rawKey as string]) {
      expect(res.body).not.toContain(secret);
      expect(res.body).not.toContain(secret.slice(12));
    }
  });

  it('writes no audit entry for a refused change', async () => {
    const owner = await t.signup();
    const viewer = await t.member(owner, 'viewer');
    const { data } = await t.createKey(owner);
    await patch(owner, data.id, { name: '   ' });
    await t.request({ method: 'PATCH', url: `/api/v1/keys/${data.id}`, cookie: viewer.cookie, teamId: owner.team.id, body: { name: 'x' } });
    const audit = await auditOf(owner, data.id);
    expect(audit.data.map((e) => e.action)).toEqual(['key.created']);
  });
});

describe('roles', () => {
  it('lets a viewer list and read keys but not change them', async () => {
    const owner = await t.signup();
    const viewer = await t.member(owner, 'viewer');
    const { data, rawKey } = await t.createKey(owner, { name: 'protected' });
    const as = { cookie: viewer.cookie, teamId: owner.team.id };

    const listed = await t.request({ url: '/api/v1/keys', ...as });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().data.map((k: KeyBody) => k.id)).toEqual([data.id]);
    expect((await t.request({ url: `/api/v1/keys/${data.id}`, ...as })).statusCode).toBe(200);
    expect((await t.request({ url: `/api/v1/keys/${data.id}/usage`, ...as })).statusCode).toBe(200);

    const writes = [
      { method: 'POST' as const, url: '/api/v1/keys', body: { name: 'nope' } },
      { method: 'PATCH' as const, url: `/api/v1/keys/${data.id}`, body: { enabled: false } },
      { method: 'POST' as const, url: `/api/v1/keys/${data.id}/regenerate`, body: {} },
      { method: 'DELETE' as const, url: `/api/v1/keys/${data.id}` },
      { method: 'DELETE' as const, url: `/api/v1/keys/${data.id}?purge=true` },
    ];
    for (const w of writes) {
      const res = await t.request({ ...w, ...as });
      expect(res.statusCode, `${w.method} ${w.url}`).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect(await getKey(owner, data.id)).toEqual(data);
    expect(await code(rawKey)).toBe('VALID');
    expect((await list(owner, '')).total).toBe(1);
  });

  it('lets a developer create, change, regenerate, revoke and purge keys', async () => {
    const owner = await t.signup();
    const developer = await t.member(owner, 'developer');
    const as = { cookie: developer.cookie, teamId: owner.team.id };
    const created = await t.request({ method: 'POST', url: '/api/v1/keys', ...as, body: { name: 'dev key' } });
    expect(created.statusCode).toBe(201);
    const id = created.json().data.id as string;
    expect(created.json().data.createdBy).toEqual({ id: developer.user.id, name: developer.user.name });
    expect((await getKey(owner, id)).name).toBe('dev key');
    expect((await t.request({ method: 'PATCH', url: `/api/v1/keys/${id}`, ...as, body: { name: 'renamed' } })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: `/api/v1/keys/${id}/regenerate`, ...as, body: {} })).statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/keys/${id}`, ...as })).statusCode).toBe(200);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/keys/${id}?purge=true`, ...as })).statusCode).toBe(204);
    expect((await list(owner, '')).total).toBe(0);
  });

  it('answers 404 for a team the caller does not belong to', async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const res = await t.request({ url: '/api/v1/keys', cookie: stranger.cookie, teamId: owner.team.id });
    expect(res.statusCode).toBe(404);
    const create = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: stranger.cookie, teamId: owner.team.id, body: { name: 'x' } });
    expect(create.statusCode).toBe(404);
    expect((await list(owner, '')).total).toBe(0);
  });
});
