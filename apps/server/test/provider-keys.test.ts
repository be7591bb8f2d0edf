import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVault, parseMasterKeys, rotateMasterKey, type Store } from '@keysmith/core';
import { createStore } from '@keysmith/db';
import { buildTestApp, type SiblingApp, type TestApp, type TestUser } from './helpers';

// Most cases run with the embedded default: a master key generated into the test's data
// directory, read by the same loader the server uses.
let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

const BASE = '/api/v1/provider-keys';
const FIELDS = ['createdAt', 'createdBy', 'description', 'id', 'maskedKey', 'type', 'updatedAt'];

interface Credential {
  id: string;
  type: string;
  description: string;
  maskedKey: string;
  createdAt: string;
  updatedAt: string;
  createdBy: { id: string; name: string } | null;
}

interface Page {
  data: Credential[];
  nextCursor: string | null;
  prevCursor: string | null;
  total: number;
}

interface AuditEntry {
  action: string;
  actor: { type: string; id: string; label: string };
  target: { type: string; id: string; label: string };
  details: Record<string, unknown>;
}

/** A distinctive credential value that is found nowhere unless it leaked. */
function secret(label = 'sk'): string {
  return `${label}-${randomBytes(18).toString('hex')}-Wxyz`;
}

type Caller = { user: TestUser; teamId?: string } | { service: true; teamId: string };

function as(caller: TestUser | Caller): Caller {
  return 'cookie' in caller ? { user: caller } : caller;
}

function call(caller: TestUser | Caller, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, app: Pick<TestApp, 'request'> = t) {
  const c = as(caller);
  const auth = 'service' in c ? { token: true as const, teamId: c.teamId } : { cookie: c.user.cookie, ...(c.teamId ? { teamId: c.teamId } : {}) };
  return app.request({ method, url, ...auth, ...(body !== undefined ? { body } : {}) });
}

async function create(caller: TestUser | Caller, body: { type?: string; description?: string; key?: string } = {}): Promise<Credential & { key: string }> {
  const key = body.key ?? secret();
  const res = await call(caller, 'POST', BASE, { type: 'openai', description: 'Production', ...body, key });
  expect(res.statusCode, res.body).toBe(201);
  return { ...(res.json().data as Credential), key };
}

async function list(caller: TestUser | Caller, query = ''): Promise<Page> {
  const res = await call(caller, 'GET', `${BASE}${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
}

async function revealed(caller: TestUser | Caller, id: string, app: Pick<TestApp, 'request'> = t): Promise<string> {
  const res = await call(caller, 'POST', `${BASE}/${id}/reveal`, undefined, app);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { data: { key: string } }).data.key;
}

async function auditOf(teamId: string, action?: string): Promise<AuditEntry[]> {
  const res = await t.request({ url: `/api/v1/audit-logs?limit=100${action ? `&action=${action}` : ''}`, token: true, teamId });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data as AuditEntry[];
}

function errorCode(res: LightMyRequestResponse): string {
  return (res.json() as { error: { code: string } }).error.code;
}

describe('GET /api/v1/provider-keys/types', () => {
  it('lists the eleven types with the contract ids, labels and categories, in that order', async () => {
    const owner = await t.signup();
    const res = await call(owner, 'GET', `${BASE}/types`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: [
        { id: 'openai', label: 'OpenAI', category: 'ai' },
        { id: 'anthropic', label: 'Anthropic', category: 'ai' },
        { id: 'google', label: 'Google', category: 'ai' },
        { id: 'deepseek', label: 'DeepSeek', category: 'ai' },
        { id: 'fast_inference', label: 'Fast Inference', category: 'ai' },
        { id: 'xai', label: 'XAI', category: 'ai' },
        { id: 'perplexity', label: 'Perplexity', category: 'ai' },
        { id: 'data_platform', label: 'Data Platform', category: 'ai' },
        { id: 'support_system', label: 'Support System', category: 'support' },
        { id: 'google_translate', label: 'Google Translate', category: 'support' },
        { id: 'exa', label: 'Exa', category: 'search' },
      ],
    });
  });

  it('needs a caller: 401 UNAUTHENTICATED without a session or token', async () => {
    const res = await t.request({ url: `${BASE}/types` });
    expect(res.statusCode).toBe(401);
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });
});

describe('POST /api/v1/provider-keys', () => {
  it('answers 201 with the masked credential and its creator, never the key', async () => {
    const owner = await t.signup({ name: 'Ada' });
    const key = `sk-${randomBytes(20).toString('hex')}Wxyz`;
    const res = await call(owner, 'POST', BASE, { type: 'anthropic', description: 'Claude for support bot', key });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { data: Credential };
    expect(Object.keys(body)).toEqual(['data']);
    expect(Object.keys(body.data).sort()).toEqual(FIELDS);
    expect(body.data).toEqual({
      id: expect.stringMatching(/^pvk_/),
      type: 'anthropic',
      description: 'Claude for support bot',
      maskedKey: 'sk-…Wxyz',
      createdAt: '2026-11-20T12:00:00.000Z',
      updatedAt: '2026-11-20T12:00:00.000Z',
      createdBy: { id: owner.user.id, name: 'Ada' },
    });
    expect(res.body).not.toContain(key.slice(3, -4));
  });

  it('masks keys shorter than 12 characters with bullets only', async () => {
    const owner = await t.signup();
    const created = await create(owner, { key: 'abcdefghijk' });
    expect(created.maskedKey).toMatch(/^•+$/);
    expect(await revealed(owner, created.id)).toBe('abcdefghijk');
  });

  it('accepts the boundaries: a 1- and a 4096-character key, a 200-character description, and every type', async () => {
    const owner = await t.signup();
    const long = `L${randomBytes(2048).toString('hex').slice(0, 4095)}`;
    expect(long).toHaveLength(4096);
    const big = await create(owner, { key: long, description: 'd'.repeat(200) });
    expect(big.description).toHaveLength(200);
    expect(await revealed(owner, big.id)).toBe(long);
    const tiny = await create(owner, { key: 'k' });
    expect(await revealed(owner, tiny.id)).toBe('k');
    const types = (await call(owner, 'GET', `${BASE}/types`)).json().data as { id: string }[];
    for (const { id } of types) expect((await create(owner, { type: id })).type).toBe(id);
  });

  it('counts characters, not UTF-16 units: a description of 200 emoji is accepted, of 201 refused', async () => {
    const owner = await t.signup();
    expect((await create(owner, { description: '🔑'.repeat(200) })).description).toBe('🔑'.repeat(200));
    const res = await call(owner, 'POST', BASE, { type: 'openai', description: '🔑'.repeat(201), key: 'k' });
    expect(res.statusCode).toBe(400);
    const long = await create(owner, { key: '🗝'.repeat(4096) });
    expect(await revealed(owner, long.id)).toBe('🗝'.repeat(4096));
  });

  it('trims the description', async () => {
    const owner = await t.signup();
    expect((await create(owner, { description: '  Staging  ' })).description).toBe('Staging');
  });

  it.each([
    ['no type', { description: 'x', key: 'k' }, 'type'],
    ['a type not in the list', { type: 'github', description: 'x', key: 'k' }, 'type'],
    ['a type in the wrong case', { type: 'OpenAI', description: 'x', key: 'k' }, 'type'],
    ['a label instead of a type id', { type: 'Fast Inference', description: 'x', key: 'k' }, 'type'],
    ['no description', { type: 'openai', key: 'k' }, 'description'],
    ['an empty description', { type: 'openai', description: '', key: 'k' }, 'description'],
    ['a blank description', { type: 'openai', description: '   ', key: 'k' }, 'description'],
    ['a 201-character description', { type: 'openai', description: 'd'.repeat(201), key: 'k' }, 'description'],
    ['no key', { type: 'openai', description: 'x' }, 'key'],
    ['an empty key', { type: 'openai', description: 'x', key: '' }, 'key'],
    ['a 4097-character key', { type: 'openai', description: 'x', key: 'k'.repeat(4097) }, 'key'],
    ['a key that is not a string', { type: 'openai', description: 'x', key: 12345678901234 }, 'key'],
    ['an unknown field', { type: 'openai', description: 'x', key: 'k', teamId: 'team_other' }, 'teamId'],
    ['a server-side field', { type: 'openai', description: 'x', key: 'k', maskedKey: 'abc' }, 'maskedKey'],
    ['a sealed field', { type: 'openai', description: 'x', key: 'k', ciphertext: 'AAAA' }, 'ciphertext'],
  ])('refuses %s with 400 VALIDATION_FAILED naming the field, and stores nothing', async (_what, body, field) => {
    const owner = await t.signup();
    const res = await call(owner, 'POST', BASE, body);
    expect(res.statusCode, res.body).toBe(400);
    expect(errorCode(res)).toBe('VALIDATION_FAILED');
    expect((res.json().error.details as { path: string }[]).map((d) => d.path)).toContain(field);
    expect((await list(owner)).total).toBe(0);
    expect(await auditOf(owner.team.id, 'provider_key.created')).toEqual([]);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const owner = await t.signup();
    const res = await t.request({ method: 'POST', url: BASE, cookie: owner.cookie, headers: { 'content-type': 'text/plain' }, body: 'openai sk-123' });
    expect(res.statusCode).toBe(415);
    expect((await list(owner)).total).toBe(0);
  });
});

describe('GET /api/v1/provider-keys/:id', () => {
  it('answers the same object as create, and 404 for an id that does not exist', async () => {
    const owner = await t.signup();
    const { key, ...created } = await create(owner, { type: 'exa', description: 'Search' });
    const res = await call(owner, 'GET', `${BASE}/${created.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ data: created });
    expect(res.body).not.toContain(key);
    const missing = await call(owner, 'GET', `${BASE}/pvk_doesnotexist`);
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('NOT_FOUND');
  });
});

describe('GET /api/v1/provider-keys', () => {
  it('answers an empty page for a team without credentials', async () => {
    const owner = await t.signup();
    expect(await list(owner)).toEqual({ data: [], nextCursor: null, prevCursor: null, total: 0 });
  });

  it('lists newest first by default, masked, with the total, and never a key', async () => {
    const owner = await t.signup();
    const first = await create(owner, { description: 'first' });
    t.clock.advance(1000);
    const second = await create(owner, { description: 'second' });
    const res = await call(owner, 'GET', BASE);
    const page = res.json() as Page;
    expect(page.data.map((c) => c.id)).toEqual([second.id, first.id]);
    expect(page.total).toBe(2);
    const { key: _k, ...view } = first;
    expect(page.data[1]).toEqual(view);
    expect(res.body).not.toContain(first.key);
    expect(res.body).not.toContain(second.key);
  });

  it('searches the description case-insensitively (not the type or the key), with % and _ taken literally', async () => {
    const owner = await t.signup();
    const prod = await create(owner, { type: 'openai', description: 'OpenAI Production', key: 'sk-findme-0000000000' });
    const staging = await create(owner, { type: 'anthropic', description: 'staging production copy' });
    const percent = await create(owner, { type: 'exa', description: 'Budget 100% used' });
    const underscore = await create(owner, { type: 'xai', description: 'snake_case name' });
    const ids = async (q: string) => (await list(owner, `?q=${encodeURIComponent(q)}`)).data.map((c) => c.id).sort();

    expect(await ids('PRODUCTION')).toEqual([prod.id, staging.id].sort());
    expect((await list(owner, '?q=production')).total).toBe(2);
    expect(await ids('findme')).toEqual([]);
    expect(await ids('anthropic')).toEqual([]);
    expect(await ids('%')).toEqual([percent.id]);
    expect(await ids('_')).toEqual([underscore.id]);
    expect(await ids('e_c')).toEqual([underscore.id]);
    expect(await ids('0%')).toEqual([percent.id]);
    expect(await ids('nothing like it')).toEqual([]);
  });

  it('filters by type, with the total of the filtered list, and refuses an unknown type', async () => {
    const owner = await t.signup();
    const a = await create(owner, { type: 'google' });
    await create(owner, { type: 'google_translate' });
    const b = await create(owner, { type: 'google' });
    const page = await list(owner, '?type=google');
    expect(page.data.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
    expect(page.total).toBe(2);
    expect((await list(owner, '?type=exa')).total).toBe(0);
    const both = await list(owner, '?type=google&q=production');
    expect(both.total).toBe(2);
    const bad = await call(owner, 'GET', `${BASE}?type=github`);
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad)).toBe('VALIDATION_FAILED');
  });

  it('sorts by createdAt, description and type in both directions', async () => {
    const owner = await t.signup();
    const bravo = await create(owner, { type: 'openai', description: 'bravo' });
    t.clock.advance(1000);
    const charlie = await create(owner, { type: 'exa', description: 'charlie' });
    t.clock.advance(1000);
    const alpha = await create(owner, { type: 'perplexity', description: 'alpha' });
    const order = async (sort: string) => (await list(owner, `?sort=${sort}`)).data.map((c) => c.id);
    expect(await order('createdAt')).toEqual([bravo.id, charlie.id, alpha.id]);
    expect(await order('-createdAt')).toEqual([alpha.id, charlie.id, bravo.id]);
    expect(await order('description')).toEqual([alpha.id, bravo.id, charlie.id]);
    expect(await order('-description')).toEqual([charlie.id, bravo.id, alpha.id]);
    expect(await order('type')).toEqual([charlie.id, bravo.id, alpha.id]);
    expect(await order('-type')).toEqual([alpha.id, bravo.id, charlie.id]);
    // updatedAt (an addition to the contract): an edit moves a credential to the end.
    t.clock.advance(1000);
    await t.request({ method: 'PATCH', url: `/api/v1/provider-keys/${bravo.id}`, cookie: owner.cookie, body: { description: 'bravo 2' } });
    expect(await order('updatedAt')).toEqual([charlie.id, alpha.id, bravo.id]);
    expect(await order('-updatedAt')).toEqual([bravo.id, alpha.id, charlie.id]);
  });

  it('pages forward with nextCursor and back with prevCursor in every sort, without gaps or duplicates', async () => {
    const owner = await t.signup();
    const types = ['openai', 'exa', 'xai'];
    const all: string[] = [];
    for (let i = 0; i < 23; i += 1) {
      // Ties in every sort: three types, repeated descriptions, timestamps shared by pairs.
      all.push((await create(owner, { type: types[i % 3], description: `item ${String(i % 7).padStart(2, '0')}` })).id);
      if (i % 2 === 1) t.clock.advance(1000);
    }
    for (const sort of ['createdAt', '-createdAt', 'updatedAt', '-updatedAt', 'description', '-description', 'type', '-type']) {
      const whole = (await list(owner, `?limit=100&sort=${sort}`)).data.map((c) => c.id);
      expect([...whole].sort()).toEqual([...all].sort());
      const pages: Page[] = [await list(owner, `?limit=5&sort=${sort}`)];
      expect(pages[0]?.prevCursor).toBeNull();
      while ((pages[pages.length - 1] as Page).nextCursor) {
        const next = (pages[pages.length - 1] as Page).nextCursor as string;
        pages.push(await list(owner, `?limit=5&sort=${sort}&cursor=${encodeURIComponent(next)}`));
      }
      expect(pages).toHaveLength(5);
      for (const page of pages) expect(page.total).toBe(23);
      expect(pages.flatMap((p) => p.data.map((c) => c.id))).toEqual(whole);
      let back = pages[pages.length - 1] as Page;
      for (let i = pages.length - 2; i >= 0; i -= 1) {
        back = await list(owner, `?limit=5&sort=${sort}&cursor=${encodeURIComponent(back.prevCursor as string)}`);
        expect(back.data.map((c) => c.id)).toEqual((pages[i] as Page).data.map((c) => c.id));
      }
      expect(back.prevCursor).toBeNull();
    }
  });

  it('answers 20 by default and pages a filtered list with the filtered total', async () => {
    const owner = await t.signup();
    for (let i = 0; i < 21; i += 1) await create(owner, { type: i % 2 === 0 ? 'openai' : 'exa' });
    const page = await list(owner);
    expect(page.data).toHaveLength(20);
    expect(page.total).toBe(21);
    expect(page.nextCursor).not.toBeNull();
    const first = await list(owner, '?type=openai&limit=10');
    expect(first.total).toBe(11);
    const rest = await list(owner, `?type=openai&limit=10&cursor=${encodeURIComponent(first.nextCursor as string)}`);
    expect(rest.data).toHaveLength(1);
    expect(rest.data.every((c) => c.type === 'openai')).toBe(true);
    expect(rest.nextCursor).toBeNull();
  });

  it.each([
    ['a limit of 0', '?limit=0'],
    ['a limit of 101', '?limit=101'],
    ['an unknown sort', '?sort=key'],
    ['an unknown parameter', '?teamId=x'],
    ['a cursor that is not ours', '?cursor=bm90LWEtY3Vyc29y'],
    ['a cursor with a string where a timestamp belongs', `?cursor=${Buffer.from(JSON.stringify(['after', 'x', 'pvk_x', '-createdAt'])).toString('base64url')}`],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_what, query) => {
    const owner = await t.signup();
    await create(owner);
    const res = await call(owner, 'GET', `${BASE}${query}`);
    expect(res.statusCode, res.body).toBe(400);
    expect(errorCode(res)).toBe('VALIDATION_FAILED');
  });

  it('refuses a cursor made for another sort', async () => {
    const owner = await t.signup();
    await create(owner, { description: 'a' });
    await create(owner, { description: 'b' });
    const page = await list(owner, '?limit=1&sort=description');
    const res = await call(owner, 'GET', `${BASE}?limit=1&sort=type&cursor=${encodeURIComponent(page.nextCursor as string)}`);
    expect(res.statusCode).toBe(400);
  });
});

describe('PATCH /api/v1/provider-keys/:id', () => {
  it('changes the type alone, keeping the key and its mask, and moves updatedAt only', async () => {
    const owner = await t.signup();
    const created = await create(owner, { type: 'openai' });
    t.clock.advance(60_000);
    const res = await call(owner, 'PATCH', `${BASE}/${created.id}`, { type: 'deepseek' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual({ ...created, key: undefined, type: 'deepseek', updatedAt: '2026-11-20T12:01:00.000Z' });
    expect(await revealed(owner, created.id)).toBe(created.key);
    expect((await call(owner, 'GET', `${BASE}/${created.id}`)).json().data.type).toBe('deepseek');
  });

  it('changes the description alone', async () => {
    const owner = await t.signup();
    const created = await create(owner, { description: 'old name' });
    const res = await call(owner, 'PATCH', `${BASE}/${created.id}`, { description: '  new name ' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ description: 'new name', maskedKey: created.maskedKey, type: created.type });
    expect((await list(owner, '?q=new')).data.map((c) => c.id)).toEqual([created.id]);
    expect(await revealed(owner, created.id)).toBe(created.key);
  });

  it('changes the key: the mask follows and reveal answers the new value, never the old one', async () => {
    const owner = await t.signup();
    const created = await create(owner, { key: `abc${randomBytes(10).toString('hex')}1111` });
    const next = `xyz${randomBytes(10).toString('hex')}2222`;
    const res = await call(owner, 'PATCH', `${BASE}/${created.id}`, { key: next });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.maskedKey).toBe('xyz…2222');
    expect(res.body).not.toContain(next);
    expect((await call(owner, 'GET', `${BASE}/${created.id}`)).json().data.maskedKey).toBe('xyz…2222');
    expect(await revealed(owner, created.id)).toBe(next);
  });

  it('changes all three at once', async () => {
    const owner = await t.signup();
    const created = await create(owner, { type: 'openai', description: 'one' });
    const next = secret('all');
    const res = await call(owner, 'PATCH', `${BASE}/${created.id}`, { type: 'exa', description: 'two', key: next });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ type: 'exa', description: 'two', maskedKey: 'all…Wxyz' });
    expect(await revealed(owner, created.id)).toBe(next);
  });

  it.each([
    ['an unknown type', { type: 'github' }, 'type'],
    ['an empty description', { description: '' }, 'description'],
    ['a blank description', { description: '  ' }, 'description'],
    ['a 201-character description', { description: 'd'.repeat(201) }, 'description'],
    ['an empty key', { key: '' }, 'key'],
    ['a 4097-character key', { key: 'k'.repeat(4097) }, 'key'],
    ['an unknown field', { createdBy: { id: 'usr_x', name: 'x' } }, 'createdBy'],
    ['a null key', { key: null }, 'key'],
  ])('refuses %s with 400 and changes nothing', async (_what, body, field) => {
    const owner = await t.signup();
    const { key, ...created } = await create(owner);
    const res = await call(owner, 'PATCH', `${BASE}/${created.id}`, body);
    expect(res.statusCode, res.body).toBe(400);
    expect(errorCode(res)).toBe('VALIDATION_FAILED');
    expect((res.json().error.details as { path: string }[]).map((d) => d.path)).toContain(field);
    expect((await call(owner, 'GET', `${BASE}/${created.id}`)).json().data).toEqual(created);
    expect(await revealed(owner, created.id)).toBe(key);
  });

  it('answers 404 for an id that does not exist', async () => {
    const owner = await t.signup();
    const res = await call(owner, 'PATCH', `${BASE}/pvk_doesnotexist`, { description: 'x' });
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NOT_FOUND');
  });
});

describe('DELETE /api/v1/provider-keys/:id', () => {
  it('answers 204, after which the credential is gone from every endpoint', async () => {
    const owner = await t.signup();
    const doomed = await create(owner);
    const kept = await create(owner);
    const res = await call(owner, 'DELETE', `${BASE}/${doomed.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    for (const [method, url, body] of [
      ['GET', `${BASE}/${doomed.id}`, undefined],
      ['PATCH', `${BASE}/${doomed.id}`, { description: 'back' }],
      ['POST', `${BASE}/${doomed.id}/reveal`, undefined],
      ['DELETE', `${BASE}/${doomed.id}`, undefined],
    ] as const) {
      const gone = await call(owner, method, url, body);
      expect(gone.statusCode, `${method} ${url}`).toBe(404);
      expect(errorCode(gone)).toBe('NOT_FOUND');
    }
    const page = await list(owner);
    expect(page.data.map((c) => c.id)).toEqual([kept.id]);
    expect(page.total).toBe(1);
    expect(await revealed(owner, kept.id)).toBe(kept.key);
  });
});

describe('POST /api/v1/provider-keys/:id/reveal', () => {
  it('answers {data:{key}} with Cache-Control: no-store', async () => {
    const owner = await t.signup();
    const created = await create(owner);
    const res = await call(owner, 'POST', `${BASE}/${created.id}/reveal`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ data: { key: created.key } });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('records each reveal in the audit log with the actor and the credential, without the value', async () => {
    const owner = await t.signup({ name: 'Ada' });
    const created = await create(owner, { description: 'Revealed one' });
    await revealed(owner, created.id);
    await revealed({ service: true, teamId: owner.team.id }, created.id);
    const entries = await auditOf(owner.team.id, 'provider_key.revealed');
    expect(entries).toHaveLength(2);
    expect(entries.map((e) => e.actor)).toEqual(
      expect.arrayContaining([
        { type: 'user', id: owner.user.id, label: owner.user.email },
        { type: 'service', id: expect.any(String), label: expect.any(String) },
      ]),
    );
    for (const entry of entries) expect(entry.target).toEqual({ type: 'provider_key', id: created.id, label: 'Revealed one' });
    expect(JSON.stringify(entries)).not.toContain(created.key);
  });

  it('takes no body fields: an empty object or no body is fine, an unknown field is 400 and reveals nothing', async () => {
    const owner = await t.signup();
    const created = await create(owner);
    const res = await call(owner, 'POST', `${BASE}/${created.id}/reveal`, { reason: 'debugging' });
    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('VALIDATION_FAILED');
    expect(res.body).not.toContain(created.key);
    expect(await auditOf(owner.team.id, 'provider_key.revealed')).toEqual([]);
    const empty = await call(owner, 'POST', `${BASE}/${created.id}/reveal`, {});
    expect(empty.statusCode).toBe(200);
    expect(empty.json().data.key).toBe(created.key);
    expect(await revealed(owner, created.id)).toBe(created.key);
  });
});

describe('audit log', () => {
  it('records created, updated and deleted with the actor and the credential, never a value', async () => {
    const owner = await t.signup();
    const created = await create(owner, { type: 'openai', description: 'Audited' });
    const next = secret('next');
    expect((await call(owner, 'PATCH', `${BASE}/${created.id}`, { key: next, description: 'Audited twice' })).statusCode).toBe(200);
    expect((await call(owner, 'DELETE', `${BASE}/${created.id}`)).statusCode).toBe(204);
    const entries = (await auditOf(owner.team.id)).filter((e) => e.action.startsWith('provider_key.'));
    expect(entries.map((e) => e.action).sort()).toEqual(['provider_key.created', 'provider_key.deleted', 'provider_key.updated']);
    for (const entry of entries) {
      expect(entry.actor).toEqual({ type: 'user', id: owner.user.id, label: owner.user.email });
      expect(entry.target).toMatchObject({ type: 'provider_key', id: created.id });
    }
    const text = JSON.stringify(entries);
    for (const value of [created.key, next, created.key.slice(3, -4), next.slice(3, -4)]) expect(text).not.toContain(value);
  });
});

describe('permissions', () => {
  async function attempts(caller: Caller, target: Credential & { key: string }) {
    return {
      types: (await call(caller, 'GET', `${BASE}/types`)).statusCode,
      list: (await call(caller, 'GET', BASE)).statusCode,
      get: (await call(caller, 'GET', `${BASE}/${target.id}`)).statusCode,
      create: (await call(caller, 'POST', BASE, { type: 'openai', description: 'by role', key: secret() })).statusCode,
      update: (await call(caller, 'PATCH', `${BASE}/${target.id}`, { description: 'changed by role' })).statusCode,
      reveal: (await call(caller, 'POST', `${BASE}/${target.id}/reveal`)).statusCode,
      delete: (await call(caller, 'DELETE', `${BASE}/${target.id}`)).statusCode,
    };
  }

  it.each([
    ['owner', { types: 200, list: 200, get: 200, create: 201, update: 200, reveal: 200, delete: 204 }],
    ['admin', { types: 200, list: 200, get: 200, create: 201, update: 200, reveal: 200, delete: 204 }],
    ['developer', { types: 200, list: 200, get: 200, create: 403, update: 403, reveal: 403, delete: 403 }],
    ['viewer', { types: 200, list: 200, get: 200, create: 403, update: 403, reveal: 403, delete: 403 }],
  ] as const)('gives a team %s exactly the contract permissions', async (role, expected) => {
    const owner = await t.signup();
    const target = await create(owner, { description: 'the target' });
    const member = await t.member(owner, role);
    // The member acts on the owner's team through X-Team-Id.
    expect(await attempts({ user: member, teamId: owner.team.id }, target)).toEqual(expected);
  });

  it('answers 403 FORBIDDEN to a developer and a viewer and leaves the credential as it was, with no reveal audited', async () => {
    const owner = await t.signup();
    const { key, ...target } = await create(owner, { description: 'untouched' });
    for (const role of ['developer', 'viewer'] as const) {
      const member = await t.member(owner, role);
      const caller = { user: member, teamId: owner.team.id };
      for (const [method, url, body] of [
        ['POST', BASE, { type: 'openai', description: 'x', key: 'k' }],
        ['PATCH', `${BASE}/${target.id}`, { key: 'replaced-value-000' }],
        ['POST', `${BASE}/${target.id}/reveal`, undefined],
        ['DELETE', `${BASE}/${target.id}`, undefined],
      ] as const) {
        const res = await call(caller, method, url, body);
        expect(res.statusCode, `${role} ${method} ${url}`).toBe(403);
        expect(errorCode(res)).toBe('FORBIDDEN');
        expect(res.body).not.toContain(key);
      }
      const seen = await call(caller, 'GET', `${BASE}/${target.id}`);
      expect(seen.json().data).toEqual(target);
    }
    expect((await list(owner)).total).toBe(1);
    expect(await revealed(owner, target.id)).toBe(key);
    const entries = await auditOf(owner.team.id);
    expect(entries.filter((e) => e.action.startsWith('provider_key.')).map((e) => e.action).sort()).toEqual(['provider_key.created', 'provider_key.revealed']);
  });

  it('lists provider_keys permissions in /me by role', async () => {
    const owner = await t.signup();
    for (const [role, expected] of [
      ['admin', ['provider_keys.read', 'provider_keys.reveal', 'provider_keys.write']],
      ['developer', ['provider_keys.read']],
      ['viewer', ['provider_keys.read']],
    ] as const) {
      const member = await t.member(owner, role);
      const me = (await t.request({ url: '/api/v1/me', cookie: member.cookie })).json() as { teams: { id: string; permissions: string[] }[] };
      const team = me.teams.find((x) => x.id === owner.team.id);
      expect(team?.permissions.filter((p) => p.startsWith('provider_keys.')).sort()).toEqual(expected);
    }
  });
});

describe('team isolation', () => {
  it("answers 404 for another team's credential on get, patch, delete and reveal, and never lists it", async () => {
    const owner = await t.signup();
    const stranger = await t.signup();
    const { key, ...theirs } = await create(stranger, { description: 'Stranger secret' });
    const mine = await create(owner, { description: 'Mine' });

    for (const [method, url, body] of [
      ['GET', `${BASE}/${theirs.id}`, undefined],
      ['PATCH', `${BASE}/${theirs.id}`, { description: 'hijacked', key: 'hijacked-value-0000' }],
      ['POST', `${BASE}/${theirs.id}/reveal`, undefined],
      ['DELETE', `${BASE}/${theirs.id}`, undefined],
    ] as const) {
      for (const caller of [{ user: owner }, { service: true as const, teamId: owner.team.id }]) {
        const res = await call(caller, method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        expect(errorCode(res)).toBe('NOT_FOUND');
        expect(res.body).not.toContain(key);
      }
    }
    // Naming the other team is a 404 too: the owner is no member of it.
    const named = await call({ user: owner, teamId: stranger.team.id }, 'GET', `${BASE}/${theirs.id}`);
    expect(named.statusCode).toBe(404);

    const page = await list(owner, '?q=stranger');
    expect(page).toEqual({ data: [], nextCursor: null, prevCursor: null, total: 0 });
    expect((await list(owner)).data.map((c) => c.id)).toEqual([mine.id]);

    // The stranger's credential is untouched.
    expect((await call(stranger, 'GET', `${BASE}/${theirs.id}`)).json().data).toEqual(theirs);
    expect(await revealed(stranger, theirs.id)).toBe(key);
    expect(await auditOf(owner.team.id, 'provider_key.revealed')).toEqual([]);
  });

  it('keeps the credentials of two teams of one person apart, by X-Team-Id', async () => {
    const owner = await t.signup();
    const res = await t.request({ method: 'POST', url: '/api/v1/teams', cookie: owner.cookie, body: { name: 'Second' } });
    expect(res.statusCode).toBe(201);
    const second = res.json().data.id as string;
    const inSecond = await create({ user: owner, teamId: second }, { description: 'second team' });
    const inPersonal = await create(owner, { description: 'personal team' });
    expect((await list(owner)).data.map((c) => c.id)).toEqual([inPersonal.id]);
    expect((await list({ user: owner, teamId: second })).data.map((c) => c.id)).toEqual([inSecond.id]);
    expect((await call(owner, 'POST', `${BASE}/${inSecond.id}/reveal`)).statusCode).toBe(404);
    expect(await revealed({ user: owner, teamId: second }, inSecond.id)).toBe(inSecond.key);
  });
});

/** The generated master key of this test app's data directory (the embedded default). */
function generatedKey(app: TestApp): string {
  return readFileSync(join(app.config.dataDir, 'master.key'), 'utf8').trim();
}

describe('failing closed', () => {
  let other: SiblingApp | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });

  it('answers 503 CREDENTIAL_UNAVAILABLE to reveal on an instance without the sealing master key, while everything else keeps working', async () => {
    const owner = await t.signup();
    const stored = await create(owner, { description: 'sealed under A' });
    const apiKey = await t.createKey(owner, { name: 'still verifies' });
    const keyB = randomBytes(32).toString('base64');
    other = await t.sibling({ masterKey: keyB });

    const res = await call(owner, 'POST', `${BASE}/${stored.id}/reveal`, undefined, other);
    expect(res.statusCode).toBe(503);
    expect(errorCode(res)).toBe('CREDENTIAL_UNAVAILABLE');
    expect(res.body).not.toContain(stored.key);
    const { key: _k, ...view } = stored;

    // Listing and reading (masked) need no key.
    expect((await call(owner, 'GET', `${BASE}/${stored.id}`, undefined, other)).json().data).toEqual(view);
    const page = (await call(owner, 'GET', BASE, undefined, other)).json() as Page;
    expect(page.data).toEqual([view]);
    expect((await call(owner, 'GET', `${BASE}/types`, undefined, other)).statusCode).toBe(200);

    // Key verification and the rest of the API are unaffected.
    const vr = await other.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: apiKey.rawKey } });
    if (vr.statusCode !== 200) console.log('DEBUGX', vr.body, t.logs.filter((l) => l.includes('"level":50') && !l.includes('CREDENTIAL_UNAVAILABLE')).join('\n').slice(0, 4000));
    expect((await call(owner, 'GET', '/api/v1/keys', undefined, other)).statusCode).toBe(200);
    expect((await other.request({ url: '/readyz' })).statusCode).toBe(200);

    // New credentials are sealed under B there, and open there.
    const fresh = (await call(owner, 'POST', BASE, { type: 'xai', description: 'sealed under B', key: 'fresh-under-b-000000' }, other)).json().data as Credential;
    expect(await revealed(owner, fresh.id, other)).toBe('fresh-under-b-000000');
    // Changing the description of the unreadable one works; its value stays sealed under A.
    expect((await call(owner, 'PATCH', `${BASE}/${stored.id}`, { description: 'renamed' }, other)).statusCode).toBe(200);
    expect((await call(owner, 'POST', `${BASE}/${stored.id}/reveal`, undefined, other)).statusCode).toBe(503);
    expect(await revealed(owner, stored.id)).toBe(stored.key);
    // …and the first instance, without B, cannot open the one sealed under B.
    const reverse = await call(owner, 'POST', `${BASE}/${fresh.id}/reveal`);
    expect(reverse.statusCode).toBe(503);
    expect(errorCode(reverse)).toBe('CREDENTIAL_UNAVAILABLE');

    // A failed reveal is not recorded as a reveal.
    const reveals = await auditOf(owner.team.id, 'provider_key.revealed');
    expect(reveals.map((e) => e.target.id).sort()).toEqual([fresh.id, stored.id].sort());
  });

  it('reveals everything on an instance configured with "B,A" (new key first, old key after)', async () => {
    const owner = await t.signup();
    const stored = await create(owner);
    const keyB = randomBytes(32).toString('base64');
    other = await t.sibling({ masterKey: `${keyB},${generatedKey(t)}` });
    expect(await revealed(owner, stored.id, other)).toBe(stored.key);
    const fresh = await create(owner); // through the first instance, under A
    expect(await revealed(owner, fresh.id, other)).toBe(fresh.key);
    const rows = await t.handle.db.selectFrom('provider_keys').select(['id', 'master_key_id']).execute();
    expect(new Set(rows.map((r) => r.master_key_id)).size).toBe(1);
  });

  it('answers 503 for a tampered ciphertext, data key, master key id or format version, and never the stored text', async () => {
    const owner = await t.signup();
    const plain = secret('plain');
    const victim = await create(owner, { key: plain });
    const bystander = await create(owner);
    const row = await t.handle.db.selectFrom('provider_keys').selectAll().where('id', '=', victim.id).executeTakeFirstOrThrow();
    const flip = (b64: string, at: number) => {
      const raw = Buffer.from(b64, 'base64');
      raw[at] = (raw[at] as number) ^ 0x80;
      return raw.toString('base64');
    };
    const tamperings: [string, Record<string, string | number>][] = [
      ['a changed ciphertext byte', { ciphertext: flip(row.ciphertext, 20) }],
      ['a changed IV byte', { ciphertext: flip(row.ciphertext, 0) }],
      ['a changed tag byte', { ciphertext: flip(row.ciphertext, Buffer.from(row.ciphertext, 'base64').length - 1) }],
      ['a truncated ciphertext', { ciphertext: Buffer.from(row.ciphertext, 'base64').subarray(0, 20).toString('base64') }],
      ['the value in clear', { ciphertext: plain }],
      ['the value in base64', { ciphertext: Buffer.from(plain).toString('base64') }],
      ['an empty ciphertext', { ciphertext: '' }],
      ['a changed data key', { data_key: flip(row.data_key, 15) }],
      ['an unknown master key id', { master_key_id: 'ffffffffffffffff' }],
      ['an empty master key id', { master_key_id: '' }],
      ['another format version', { format_version: 2 }],
      ['format version 0', { format_version: 0 }],
    ];
    for (const [what, set] of tamperings) {
      await t.handle.db.updateTable('provider_keys').set(set).where('id', '=', victim.id).execute();
      const res = await call(owner, 'POST', `${BASE}/${victim.id}/reveal`);
      expect(res.statusCode, what).toBe(503);
      expect(errorCode(res), what).toBe('CREDENTIAL_UNAVAILABLE');
      expect(res.body).not.toContain(plain);
      expect(res.body).not.toContain(row.ciphertext);
      // Restore, and it opens again: each failure above was that one change.
      await t.handle.db
        .updateTable('provider_keys')
        .set({ ciphertext: row.ciphertext, data_key: row.data_key, master_key_id: row.master_key_id, format_version: row.format_version })
        .where('id', '=', victim.id)
        .execute();
      expect(await revealed(owner, victim.id), what).toBe(plain);
    }
    expect(await revealed(owner, bystander.id)).toBe(bystander.key);
    expect((await call(owner, 'GET', `${BASE}/${victim.id}`)).statusCode).toBe(200);
  });

  it('answers 503 for a sealed value copied onto another row of the same team, not the other row value', async () => {
    const owner = await t.signup();
    const source = await create(owner, { description: 'source' });
    const target = await create(owner, { description: 'target' });
    const row = await t.handle.db.selectFrom('provider_keys').selectAll().where('id', '=', source.id).executeTakeFirstOrThrow();
    await t.handle.db
      .updateTable('provider_keys')
      .set({ ciphertext: row.ciphertext, data_key: row.data_key, master_key_id: row.master_key_id })
      .where('id', '=', target.id)
      .execute();
    const res = await call(owner, 'POST', `${BASE}/${target.id}/reveal`);
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain(source.key);
    expect(await revealed(owner, source.id)).toBe(source.key);
  });

  it('answers 503 for a row moved to another team', async () => {
    const owner = await t.signup();
    const thief = await t.signup();
    const moved = await create(owner);
    await t.handle.db.updateTable('provider_keys').set({ team_id: thief.team.id }).where('id', '=', moved.id).execute();
    expect((await call(owner, 'POST', `${BASE}/${moved.id}/reveal`)).statusCode).toBe(404);
    const res = await call(thief, 'POST', `${BASE}/${moved.id}/reveal`);
    expect(res.statusCode).toBe(503);
    expect(errorCode(res)).toBe('CREDENTIAL_UNAVAILABLE');
    expect(res.body).not.toContain(moved.key);
    await t.handle.db.updateTable('provider_keys').set({ team_id: owner.team.id }).where('id', '=', moved.id).execute();
    expect(await revealed(owner, moved.id)).toBe(moved.key);
  });
});

describe('master key rotation (in process, on this database)', () => {
  const opened: SiblingApp[] = [];
  afterEach(async () => {
    for (const app of opened.splice(0)) await app.close();
  });
  async function instance(masterKey: string): Promise<SiblingApp> {
    const app = await t.sibling({ masterKey });
    opened.push(app);
    return app;
  }
  async function revealStatuses(app: Pick<TestApp, 'request'>, credentials: { id: string; key: string; teamId: string }[]) {
    const statuses: Record<string, number> = {};
    for (const c of credentials) {
      const res = await call({ service: true, teamId: c.teamId }, 'POST', `${BASE}/${c.id}/reveal`, undefined, app);
      if (res.statusCode === 200) expect(res.json().data.key).toBe(c.key);
      statuses[c.id] = res.statusCode;
    }
    return statuses;
  }
  async function masterKeyIds(): Promise<string[]> {
    return (await t.handle.db.selectFrom('provider_keys').select('master_key_id').execute()).map((r) => r.master_key_id);
  }

  it('re-seals whole batches of every team under the newest key; a run stopped after one batch resumes, and then the old key can go', async () => {
    const keyA = generatedKey(t);
    const keyB = randomBytes(32).toString('base64');
    const [idA, idB] = parseMasterKeys(`${keyA},${keyB}`).map((k) => k.id) as [string, string];
    const one = await t.signup();
    const two = await t.signup();
    const credentials: { id: string; key: string; teamId: string }[] = [];
    for (let i = 0; i < 25; i += 1) {
      const owner = i % 2 === 0 ? one : two;
      credentials.push({ ...(await create(owner)), teamId: owner.team.id });
    }
    const store = createStore(t.handle.db, t.handle.dialect);
    const vault = createVault(parseMasterKeys(`${keyB},${keyA}`));

    await expect(
      rotateMasterKey(store, vault, {
        batchSize: 10,
        onBatch: () => {
          throw new Error('interrupted after the first batch');
        },
      }),
    ).rejects.toThrow('interrupted');
    const partial = await masterKeyIds();
    expect(partial.filter((id) => id === idB)).toHaveLength(10);
    expect(partial.filter((id) => id === idA)).toHaveLength(15);

    const both = await revealStatuses(await instance(`${keyB},${keyA}`), credentials);
    expect(Object.values(both).every((s) => s === 200)).toBe(true);
    const onlyB = Object.values(await revealStatuses(await instance(keyB), credentials));
    expect(onlyB.filter((s) => s === 200)).toHaveLength(10);
    expect(onlyB.filter((s) => s === 503)).toHaveLength(15);

    expect(await rotateMasterKey(store, vault, { batchSize: 10 })).toEqual({ rewrapped: 15, failed: [] });
    expect(new Set(await masterKeyIds())).toEqual(new Set([idB]));
    const after = await revealStatuses(await instance(keyB), credentials);
    expect(Object.values(after).every((s) => s === 200)).toBe(true);
    // The first instance knows only A now: fail closed, not plaintext.
    const old = await revealStatuses(t, credentials.slice(0, 3));
    expect(Object.values(old)).toEqual([503, 503, 503]);
    expect(await rotateMasterKey(store, vault, { batchSize: 10 })).toEqual({ rewrapped: 0, failed: [] });
  });

  it('reports the credentials it cannot open and leaves them as they were', async () => {
    const keyB = randomBytes(32).toString('base64');
    const owner = await t.signup();
    const stuck = await create(owner);
    const before = await masterKeyIds();
    const result = await rotateMasterKey(createStore(t.handle.db, t.handle.dialect), createVault(parseMasterKeys(keyB)), { batchSize: 10 });
    expect(result).toEqual({ rewrapped: 0, failed: [stuck.id] });
    expect(await masterKeyIds()).toEqual(before);
    expect(await revealed(owner, stuck.id)).toBe(stuck.key);
  });

  it('does not break a credential whose key is changed while the rotation runs', async () => {
    const keyA = generatedKey(t);
    const keyB = randomBytes(32).toString('base64');
    const owner = await t.signup();
    const victim = await create(owner);
    const other = await create(owner);
    const next = secret('changed-mid-rotation');
    const store = createStore(t.handle.db, t.handle.dialect);
    let raced = false;
    // The rotation reads its batch; before it writes, an instance still on key A changes one key.
    const racing: Store = {
      ...store,
      providerKeys: {
        ...store.providerKeys,
        async sealedUnder(notMasterKeyId, limit) {
          const rows = await store.providerKeys.sealedUnder(notMasterKeyId, limit);
          if (!raced) {
            raced = true;
            expect((await call(owner, 'PATCH', `${BASE}/${victim.id}`, { key: next })).statusCode).toBe(200);
          }
          return rows;
        },
      },
    };
    const result = await rotateMasterKey(racing, createVault(parseMasterKeys(`${keyB},${keyA}`)), { batchSize: 10 });
    expect(raced).toBe(true);
    expect(result.failed).toEqual([]);
    const onlyB = await instance(keyB);
    expect(await revealed(owner, victim.id, onlyB)).toBe(next);
    expect(await revealed(owner, other.id, onlyB)).toBe(other.key);
  });
});

/** Everything the database holds, as bytes (SQLite file and WAL) or text (every row of the schema). */
async function databaseContents(app: TestApp): Promise<Buffer> {
  if (app.handle.dialect === 'sqlite') {
    const file = app.handle.file as string;
    // As is, with no checkpoint: recent writes live only in the WAL.
    const parts = [readFileSync(file)];
    if (existsSync(`${file}-wal`)) parts.push(readFileSync(`${file}-wal`));
    return Buffer.concat(parts);
  }
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${app.schema} and table_type = 'BASE TABLE'`.execute(app.handle.db);
  expect(tables.rows.map((r) => r.table_name)).toContain('provider_keys');
  const lines: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ row: string }>`select row_to_json(x)::text as row from ${sql.id(app.schema as string, table_name)} x`.execute(app.handle.db);
    lines.push(...rows.rows.map((r) => r.row));
  }
  return Buffer.from(lines.join('\n'), 'utf8');
}

describe('credentials at rest and in logs', () => {
  it('keeps no credential value, nor its base64 or hex, in the database, its WAL or the log', async () => {
    const owner = await t.signup();
    const admin = await t.member(owner, 'admin');
    const values: Record<string, string> = {};
    const ids: string[] = [];
    const descriptions = ['OpenAI scan-marker one', 'Anthropic scan-marker two', 'Exa scan-marker three', 'Translate scan-marker four'];
    for (const [i, [type, description]] of (
      [
        ['openai', descriptions[0]],
        ['anthropic', descriptions[1]],
        ['exa', descriptions[2]],
        ['google_translate', descriptions[3]],
      ] as const
    ).entries()) {
      const created = await create(owner, { type, description, key: secret(`v${i}`) });
      values[`created${i}`] = created.key;
      ids.push(created.id);
    }
    // A long one too (4 KiB), and one created by a service token.
    const long = `long${randomBytes(2046).toString('hex')}`;
    const longOne = await create({ service: true, teamId: owner.team.id }, { description: 'long one', key: long });
    values.long = long;
    ids.push(longOne.id);
    // An update: both the old and the new value must be absent.
    const replaced = secret('replaced');
    expect((await call(owner, 'PATCH', `${BASE}/${ids[0]}`, { key: replaced })).statusCode).toBe(200);
    values.replaced = replaced;
    // A refused create carries a value too: it must not be logged either.
    const refused = secret('refused');
    expect((await call(owner, 'POST', BASE, { type: 'github', description: 'refused', key: refused })).statusCode).toBe(400);
    values.refused = refused;
    // Reveals by a person and by a service, and a deleted credential.
    for (const id of ids) await revealed({ user: admin, teamId: owner.team.id }, id);
    for (const id of ids) await revealed({ service: true, teamId: owner.team.id }, id);
    const deleted = await create(owner, { description: 'deleted one', key: secret('deleted') });
    values.deleted = deleted.key;
    expect((await call(owner, 'DELETE', `${BASE}/${deleted.id}`)).statusCode).toBe(204);
    for (const value of Object.values(values)) expect(value.length).toBeGreaterThanOrEqual(16);

    const forms = (value: string) => [value, Buffer.from(value).toString('base64').slice(0, 24), Buffer.from(value).toString('hex').slice(0, 32)];

    const stored = await databaseContents(t);
    // The scan sees what is stored in clear: descriptions and the masked hints.
    for (const description of descriptions) expect(stored.includes(description)).toBe(true);
    expect(stored.includes('rep…Wxyz')).toBe(true);
    const foundStored = Object.entries(values).filter(([, value]) => forms(value).some((form) => stored.includes(form))).map(([name]) => name);
    expect(foundStored).toEqual([]);

    const log = t.logs.join('');
    // The log has the requests, so a leak would be seen.
    expect(log).toContain(`${BASE}/${ids[0]}/reveal`);
    expect(log).toContain(BASE);
    const foundLogged = Object.entries(values).filter(([, value]) => forms(value).some((form) => log.includes(form))).map(([name]) => name);
    expect(foundLogged).toEqual([]);
  });
});
