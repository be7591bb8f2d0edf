import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, ORIGIN, PASSWORD, SERVICE_TOKEN, type RequestOptions, type TestApp, type TestUser, withSchemaLock } from './helpers';

let t: TestApp;
let owner: TestUser;
beforeEach(async () => {
  t = await buildTestApp();
  owner = await t.signup({ name: 'Owner' });
});
afterEach(async () => {
  await t.close();
});

/** The contract's error shape; never a stack, SQL or internals. */
function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect({ status: res.statusCode, body: res.body }).toMatchObject({ status });
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.requestId).toBe(res.headers['x-request-id']);
  expect(Object.keys(body.error).every((k) => ['code', 'message', 'details', 'requestId'].includes(k))).toBe(true);
  expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
  expect(res.body).not.toMatch(/stack/i);
  return body.error as { code: string; message: string; details?: { path: string; message: string }[] };
}

/** What the team holds: key count, audit entries, team settings. A refused request changes none of it. */
async function snapshot() {
  const read = async (url: string) => (await t.request({ url, token: true, teamId: owner.team.id })).json();
  return {
    keys: (await read('/api/v1/keys?limit=100')).data,
    audit: (await read('/api/v1/audit-logs?limit=1')).total as number,
    team: (await read('/api/v1/team')).data,
    members: (await read('/api/v1/team/members')).data,
  };
}

/** Sends `options` as the owner and asserts the refusal changed nothing. */
async function refused(options: RequestOptions, status: number, code: string) {
  const before = await snapshot();
  const res = await t.request({ cookie: owner.cookie, ...options });
  const error = expectError(res, status, code);
  expect(await snapshot()).toEqual(before);
  return error;
}

describe('bodies that are not JSON objects', () => {
  it('answers 400 VALIDATION_FAILED for malformed JSON', async () => {
    const error = await refused(
      { method: 'POST', url: '/api/v1/keys', body: '{"name": "half', headers: { 'content-type': 'application/json' } },
      400,
      'VALIDATION_FAILED',
    );
    expect(error.details?.[0]?.path).toBe('body');
  });

  it('answers 400 for an empty JSON body, a JSON null, an array or a string', async () => {
    for (const body of ['', 'null', '[]', '"name"', '42']) {
      await refused({ method: 'POST', url: '/api/v1/keys', body, headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED');
    }
  });

  it('answers 400 for a mutating request without any body where one is required', async () => {
    await refused({ method: 'POST', url: '/api/v1/keys' }, 400, 'VALIDATION_FAILED');
    await refused({ method: 'PATCH', url: '/api/v1/team' }, 400, 'VALIDATION_FAILED');
  });

  it('refuses a __proto__ key instead of merging it', async () => {
    await refused(
      { method: 'POST', url: '/api/v1/keys', body: '{"name":"k","__proto__":{"teamId":"team_x"}}', headers: { 'content-type': 'application/json' } },
      400,
      'VALIDATION_FAILED',
    );
    await refused(
      { method: 'PATCH', url: '/api/v1/team', body: '{"constructor":{"prototype":{"role":"owner"}}}', headers: { 'content-type': 'application/json' } },
      400,
      'VALIDATION_FAILED',
    );
  });

  it('answers 413 PAYLOAD_TOO_LARGE for a body over 64 KiB', async () => {
    const body = JSON.stringify({ name: 'big', description: 'x'.repeat(65 * 1024) });
    await refused({ method: 'POST', url: '/api/v1/keys', body, headers: { 'content-type': 'application/json' } }, 413, 'PAYLOAD_TOO_LARGE');
    await refused({ method: 'PATCH', url: '/api/v1/team', body: JSON.stringify({ name: 'y'.repeat(70 * 1024) }), headers: { 'content-type': 'application/json' } }, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers 415 UNSUPPORTED_MEDIA_TYPE for a text/plain, form or multipart body', async () => {
    const cases: [string, string][] = [
      ['text/plain', '{"name":"k"}'],
      ['application/x-www-form-urlencoded', 'name=k'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nk\r\n--x--\r\n'],
      ['application/xml', '<name>k</name>'],
    ];
    for (const [type, body] of cases) {
      await refused({ method: 'POST', url: '/api/v1/keys', body, headers: { 'content-type': type } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
      await refused({ method: 'PATCH', url: '/api/v1/team', body, headers: { 'content-type': type } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('answers 415 to a verification request that is not JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/keys/verify',
      headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'text/plain' },
      payload: 'pk_live_abc',
    });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 415 to a signup sent as a form, and creates no account', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `email=form%40example.com&password=${encodeURIComponent(PASSWORD)}&name=Form`,
    });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const login = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'form@example.com', password: PASSWORD } });
    expect(login.statusCode).toBe(401);
  });
});

describe('fields of the wrong type, out of range or unknown', () => {
  const cases: { what: string; method: 'POST' | 'PATCH'; url: string; body: unknown; path: string }[] = [
    { what: 'a number for a name', method: 'POST', url: '/api/v1/keys', body: { name: 123 }, path: 'name' },
    { what: 'a missing name', method: 'POST', url: '/api/v1/keys', body: { description: 'no name' }, path: 'name' },
    { what: 'a string for a boolean', method: 'POST', url: '/api/v1/keys', body: { name: 'k', environment: true }, path: 'environment' },
    { what: 'a string for a number', method: 'POST', url: '/api/v1/keys', body: { name: 'k', credits: { limit: '10' } }, path: 'credits.limit' },
    { what: 'a fraction for an integer', method: 'POST', url: '/api/v1/keys', body: { name: 'k', credits: { limit: 1.5 } }, path: 'credits.limit' },
    { what: 'a negative credit limit', method: 'POST', url: '/api/v1/keys', body: { name: 'k', credits: { limit: -1 } }, path: 'credits.limit' },
    { what: 'a zero rate-limit window', method: 'POST', url: '/api/v1/keys', body: { name: 'k', rateLimit: { limit: 10, windowSeconds: 0 } }, path: 'rateLimit.windowSeconds' },
    { what: 'an unknown refill interval', method: 'POST', url: '/api/v1/keys', body: { name: 'k', credits: { limit: 5, refill: { amount: 1, interval: 'week' } } }, path: 'credits.refill.interval' },
    { what: 'an unknown nested field', method: 'POST', url: '/api/v1/keys', body: { name: 'k', credits: { limit: 5, foo: 1 } }, path: 'credits.foo' },
    { what: 'an unknown field two levels down', method: 'POST', url: '/api/v1/keys', body: { name: 'k', credits: { limit: 5, refill: { amount: 1, interval: 'day', every: 2 } } }, path: 'credits.refill.every' },
    { what: 'a scope list that is a string', method: 'POST', url: '/api/v1/keys', body: { name: 'k', scopes: 'read' }, path: 'scopes' },
    { what: 'metadata that is an array', method: 'POST', url: '/api/v1/keys', body: { name: 'k', metadata: ['a'] }, path: 'metadata' },
    { what: 'a mass-assigned status', method: 'POST', url: '/api/v1/keys', body: { name: 'k', status: 'active' }, path: 'status' },
    { what: 'a mass-assigned hash', method: 'POST', url: '/api/v1/keys', body: { name: 'k', hash: 'abc' }, path: 'hash' },
    { what: 'a mass-assigned usageCount', method: 'POST', url: '/api/v1/keys', body: { name: 'k', usageCount: 5 }, path: 'usageCount' },
    { what: 'a team name of the wrong type', method: 'PATCH', url: '/api/v1/team', body: { name: ['x'] }, path: 'name' },
    { what: 'a negative team balance', method: 'PATCH', url: '/api/v1/team', body: { credits: { balance: -1 } }, path: 'credits.balance' },
    { what: 'a team balance as a string', method: 'PATCH', url: '/api/v1/team', body: { credits: { balance: '100' } }, path: 'credits.balance' },
    { what: 'an unknown field in the team credits', method: 'PATCH', url: '/api/v1/team', body: { credits: { balance: 1, foo: 1 } }, path: 'credits.foo' },
    { what: 'a team credit object without balance', method: 'PATCH', url: '/api/v1/team', body: { credits: {} }, path: 'credits.balance' },
    { what: 'a mass-assigned team id', method: 'PATCH', url: '/api/v1/team', body: { id: 'team_other' }, path: 'id' },
    { what: 'an unknown invitation role', method: 'POST', url: '/api/v1/team/invitations', body: { email: 'a@example.com', role: 'root' }, path: 'role' },
    { what: 'an invitation with a team id', method: 'POST', url: '/api/v1/team/invitations', body: { email: 'a@example.com', role: 'viewer', teamId: 'team_x' }, path: 'teamId' },
    { what: 'a team named by a number', method: 'POST', url: '/api/v1/teams', body: { name: 7 }, path: 'name' },
  ];

  it.each(cases)('answers 400 naming the field for $what', async ({ method, url, body, path }) => {
    const error = await refused({ method, url, body }, 400, 'VALIDATION_FAILED');
    expect(error.details).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
    expect(error.message).toContain(path);
  });

  it('answers 400 naming the field for a bad member role', async () => {
    const dev = await t.member(owner, 'developer');
    const error = await refused({ method: 'PATCH', url: `/api/v1/team/members/${dev.user.id}`, body: { role: 'god' } }, 400, 'VALIDATION_FAILED');
    expect(error.details).toEqual([{ path: 'role', message: expect.any(String) }]);
  });

  it('answers 400 for a key change that is out of range, with the key unchanged', async () => {
    const key = await t.createKey(owner, { name: 'Stable' });
    for (const [body, path] of [
      [{ name: '' }, 'name'],
      [{ enabled: 'no' }, 'enabled'],
      [{ rateLimit: { limit: 0, windowSeconds: 10 } }, 'rateLimit.limit'],
      [{ credits: { limit: 1, remaining: 'all' } }, 'credits.remaining'],
      [{ metadata: 'x' }, 'metadata'],
      [{ revokedAt: null }, 'revokedAt'],
    ] as const) {
      const error = await refused({ method: 'PATCH', url: `/api/v1/keys/${key.data.id}`, body }, 400, 'VALIDATION_FAILED');
      expect(error.details?.[0]?.path).toBe(path);
    }
  });

  it('answers 400 for a verification request of the wrong shape', async () => {
    for (const [body, path] of [
      [{ key: 5 }, 'key'],
      [{}, 'key'],
      [{ key: 'pk_live_x', cost: 1001 }, 'cost'],
      [{ key: 'pk_live_x', cost: -1 }, 'cost'],
      [{ key: 'pk_live_x', scopes: 'read' }, 'scopes'],
      [{ key: 'pk_live_x', context: { ip: '1.2.3.4', extra: 1 } }, 'context.extra'],
      [{ key: 'pk_live_x', teamId: 'team_x' }, 'teamId'],
    ] as const) {
      const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body });
      const error = expectError(res, 400, 'VALIDATION_FAILED');
      expect(error.details?.[0]?.path).toBe(path);
    }
  });
});

describe('NUL characters', () => {
  it('answers 400 naming the field for a NUL in any body string, query or header-free path, and writes nothing', async () => {
    const before = await snapshot();
    const cases: Array<[RequestOptions, string]> = [
      [{ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body: { name: 'a\u0000b' } }, 'name'],
      [{ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body: { name: 'ok', metadata: { nested: ['x', 'y\u0000'] } } }, 'metadata.nested.1'],
      [{ method: 'POST', url: '/api/v1/teams', cookie: owner.cookie, body: { name: 'team\u0000' } }, 'name'],
      [{ method: 'PATCH', url: '/api/v1/team', cookie: owner.cookie, body: { name: '\u0000' } }, 'name'],
      [{ url: '/api/v1/keys?q=%00', cookie: owner.cookie }, 'q'],
      [{ url: '/api/v1/audit-logs?targetId=a%00', cookie: owner.cookie }, 'targetId'],
    ];
    for (const [request, path] of cases) {
      const error = expectError(await t.request(request), 400, 'VALIDATION_FAILED');
      expect(error.details?.[0]?.path).toBe(path);
    }
    const signup = await t.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email: 'nul@example.com', password: PASSWORD, name: 'N\u0000' } });
    expectError(signup, 400, 'VALIDATION_FAILED');
    expect(await snapshot()).toEqual(before);
  });
});

describe('deeply nested bodies', () => {
  it('answers 400 for JSON nested over 64 levels, never 500, and writes nothing', async () => {
    const before = await snapshot();
    const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const bodies = [deep(30_000), `{"name":"ok","metadata":{"a":${deep(100)}}}`];
    for (const payload of bodies) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/keys', headers: { cookie: `keysmith_session=${owner.cookie}`, origin: ORIGIN, 'content-type': 'application/json' }, payload });
      expect(expectError(res, 400, 'VALIDATION_FAILED').message).toBe('body: is nested more than 64 levels deep');
    }
    expect(await snapshot()).toEqual(before);
    // Up to 64 levels pass the nesting check (the metadata is then checked as usual).
    const ok = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body: { name: 'nested', metadata: { a: JSON.parse(deep(60)) } } });
    expect(ok.statusCode).toBe(201);
  });
});

describe('query strings', () => {
  it('answers 400 for a limit out of range or not a number, naming limit', async () => {
    for (const limit of ['0', '101', 'ten', '-5', '1.5']) {
      const res = await t.request({ url: `/api/v1/keys?limit=${limit}`, cookie: owner.cookie });
      const error = expectError(res, 400, 'VALIDATION_FAILED');
      expect(error.details?.[0]?.path).toBe('limit');
    }
  });

  it('answers 400 for a cursor that is not one of ours', async () => {
    for (const url of ['/api/v1/keys?cursor=garbage', '/api/v1/audit-logs?cursor=eyJhIjoxfQ']) {
      const error = expectError(await t.request({ url, cookie: owner.cookie }), 400, 'VALIDATION_FAILED');
      expect(error.details?.[0]?.path).toBe('cursor');
    }
  });

  it('answers 400 for an unknown sort, status, interval or date', async () => {
    const cases: [string, string][] = [
      ['/api/v1/keys?sort=hash', 'sort'],
      ['/api/v1/keys?status=deleted', 'status'],
      ['/api/v1/usage?interval=week', 'interval'],
      ['/api/v1/usage?from=yesterday', 'from'],
    ];
    for (const [url, path] of cases) {
      const error = expectError(await t.request({ url, cookie: owner.cookie }), 400, 'VALIDATION_FAILED');
      expect(error.details?.[0]?.path).toBe(path);
    }
  });

  it('answers 400 for an unknown query parameter on a change, and changes nothing', async () => {
    const key = await t.createKey(owner, { name: 'Keep' });
    await refused({ method: 'PATCH', url: `/api/v1/keys/${key.data.id}?force=true`, body: { name: 'Changed' } }, 400, 'VALIDATION_FAILED');
    await refused({ method: 'PATCH', url: '/api/v1/team?teamId=team_x', body: { name: 'Changed' } }, 400, 'VALIDATION_FAILED');
    await refused({ method: 'DELETE', url: `/api/v1/keys/${key.data.id}?purge=maybe` }, 400, 'VALIDATION_FAILED');
  });
});

describe('path parameters and routes', () => {
  it('answers 400 for ids that cannot be ids, and changes nothing', async () => {
    const cases: [RequestOptions, string][] = [
      [{ url: '/api/v1/keys/not-an-id' }, 'id'],
      [{ method: 'PATCH', url: '/api/v1/keys/not-an-id', body: { name: 'x' } }, 'id'],
      [{ method: 'DELETE', url: '/api/v1/keys/key_%27%3B%20drop' }, 'id'],
      [{ method: 'POST', url: `/api/v1/keys/${'key_'.padEnd(90, 'a')}/regenerate`, body: {} }, 'id'],
      [{ url: '/api/v1/keys/usr_abc/usage' }, 'id'],
      [{ method: 'PATCH', url: '/api/v1/team/members/nobody', body: { role: 'viewer' } }, 'userId'],
      [{ method: 'DELETE', url: '/api/v1/team/members/key_abc' }, 'userId'],
    ];
    for (const [options, path] of cases) {
      const error = await refused(options, 400, 'VALIDATION_FAILED');
      expect(error.details?.[0]?.path).toBe(path);
    }
  });

  it("answers 400 in the contract's shape for an over-long id or a path that is not valid percent-encoding", async () => {
    const cases: RequestOptions[] = [
      { url: `/api/v1/keys/${'key_'.padEnd(300, 'a')}` },
      { method: 'DELETE', url: `/api/v1/team/members/${'usr_'.padEnd(300, 'b')}` },
      { url: '/api/v1/keys/%E0%A4%A' },
      { method: 'PATCH', url: '/api/v1/keys/%E0%A4%A', body: { name: 'x' } },
    ];
    for (const options of cases) await refused(options, 400, 'VALIDATION_FAILED');
  });

  it('answers 404 for a well-formed id that does not exist', async () => {
    await refused({ url: '/api/v1/keys/key_doesnotexist' }, 404, 'NOT_FOUND');
    await refused({ method: 'DELETE', url: '/api/v1/team/members/usr_doesnotexist' }, 404, 'NOT_FOUND');
  });

  it("answers 404 in the contract's shape for an unknown route or method", async () => {
    for (const options of [
      { url: '/api/v1/nothing-here' },
      { url: '/api/v2/keys' },
      { method: 'PUT' as const, url: '/api/v1/keys' },
      { method: 'POST' as const, url: '/api/v1/nothing-here', body: { a: 1 } },
    ]) {
      const error = await refused(options, 404, 'NOT_FOUND');
      expect(error.details).toBeUndefined();
    }
    const anonymous = await t.request({ url: '/api/v1/nothing-here' });
    expectError(anonymous, 404, 'NOT_FOUND');
  });
});

describe('server errors', () => {
  it('answers 500 INTERNAL without a stack or SQL, and rolls the change back when its audit entry cannot be written', async () => {
    const before = await snapshot();
    // Break the audit table: the change and its entry share one transaction, so neither may stay.
    // (Renames under the schema lock: other tests' migrations look tables up by name.)
    await withSchemaLock('exclusive', () => sql`alter table audit_logs rename to audit_logs_gone`.execute(t.handle.db));
    try {
      const team = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: owner.cookie, body: { name: 'Half written' } });
      const error = expectError(team, 500, 'INTERNAL');
      expect(error.details).toBeUndefined();
      expect(team.body).not.toMatch(/audit_logs|insert|select|sqlite|postgres|relation/i);

      const key = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, body: { name: 'Half written' } });
      expectError(key, 500, 'INTERNAL');
      expect(key.body).not.toMatch(/audit_logs|insert|rawKey|pk_/i);
    } finally {
      await withSchemaLock('exclusive', () => sql`alter table audit_logs_gone rename to audit_logs`.execute(t.handle.db));
    }
    expect(await snapshot()).toEqual(before);
    // The failure is in the server's log, for the operator, not in the answer.
    expect(t.logs.join('\n')).toMatch(/audit_logs/);
  });
});
