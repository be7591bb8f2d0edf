import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVault, cryptoRandom, parseMasterKeys, rotateWebhookSecrets, type Store } from '@keysmith/core';
import { createStore } from '@keysmith/db';
import { buildApp } from '../src/app';
import { createArgon2Hasher } from '../src/password';
import { ORIGIN, TEST_PG_URL, buildTestApp, deliveriesThatFail, type SiblingApp, type TestApp, type TestAppOptions, type TestUser } from './helpers';

// The worker's timer is off (interval 0): each test sends what is due with runDue(), on its manual clock.
const MANUAL = { KEYSMITH_WEBHOOK_INTERVAL_MS: '0', KEYSMITH_WEBHOOK_TIMEOUT_MS: '3000' };

let t: TestApp;
const apps: TestApp[] = [];
const siblings: SiblingApp[] = [];
const servers: Server[] = [];

async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const app = await buildTestApp({ ...options, env: { ...MANUAL, ...options.env } });
  apps.push(app);
  return app;
}

async function sibling(of: TestApp, options?: Parameters<TestApp['sibling']>[0]): Promise<SiblingApp> {
  const s = await of.sibling(options);
  siblings.push(s);
  return s;
}

beforeEach(async () => {
  t = await testApp();
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  for (const s of siblings.splice(0)) await s.close();
  for (const app of apps.splice(0)) await app.close();
});

const BASE = '/api/v1/webhooks';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const WEBHOOK_FIELDS = ['createdAt', 'createdBy', 'enabled', 'events', 'id', 'updatedAt', 'url'];

interface Webhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  createdBy: { id: string; name: string } | null;
}

interface Attempt {
  at: string;
  status: number | null;
  durationMs: number;
  error: string | null;
}

interface Delivery {
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  attempts: Attempt[];
}

interface Page<T> {
  data: T[];
  nextCursor: string | null;
  prevCursor: string | null;
  total: number;
}

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly the bytes received. */
  body: string;
}

type Answer = number | 'hang';

/** A real HTTP receiver on loopback; `answer` picks the status of the n-th request (1-based). */
async function receiver(answer: (hit: Hit, n: number) => Answer | Promise<Answer> = () => 200) {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      hits.push(hit);
      void Promise.resolve(answer(hit, hits.length)).then((status) => {
        if (status !== 'hang') res.writeHead(status, { 'content-type': 'text/plain' }).end('thanks');
      });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { hits, url: (path = '/hook') => `http://127.0.0.1:${port}${path}` };
}

/** The documented scheme, implemented here independently: HMAC-SHA256 of "<t>.<body>", hex. */
function checkSignature(header: string | string[] | undefined, secret: string, body: string): { t: number; valid: boolean } {
  expect(typeof header).toBe('string');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header as string);
  expect(match, String(header)).not.toBeNull();
  const [, ts, v1] = match as RegExpExecArray;
  const expected = createHmac('sha256', secret).update(`${ts}.${body}`, 'utf8').digest();
  return { t: Number(ts), valid: timingSafeEqual(Buffer.from(v1 as string, 'hex'), expected) };
}

function call(app: Pick<TestApp, 'request'>, user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, teamId?: string) {
  return app.request({ method, url, cookie: user.cookie, ...(teamId ? { teamId } : {}), ...(body !== undefined ? { body } : {}) });
}

async function createWebhook(user: TestUser, body: Record<string, unknown>, app: Pick<TestApp, 'request'> = t): Promise<{ data: Webhook; secret: string }> {
  const res = await call(app, user, 'POST', BASE, { events: ['key.created'], ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function deliveriesOf(user: TestUser, id: string, app: Pick<TestApp, 'request'> = t, query = ''): Promise<Page<Delivery>> {
  const res = await call(app, user, 'GET', `${BASE}/${id}/deliveries${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

function retry(user: TestUser, webhookId: string, deliveryId: string, app: Pick<TestApp, 'request'> = t, teamId?: string) {
  return call(app, user, 'POST', `${BASE}/${webhookId}/deliveries/${deliveryId}/retry`, {}, teamId);
}

function errorOf(res: LightMyRequestResponse): { code: string; details?: Array<{ path: string; message: string }> } {
  return res.json().error;
}

const runDue = (app: FastifyInstance = t.app) => app.webhookDelivery.runDue();

describe('webhook settings', () => {
  it('creates a webhook and shows its signing secret once: in the 201 answer, never in list or get', async () => {
    const owner = await t.signup();
    const res = await call(t, owner, 'POST', BASE, { url: 'http://127.0.0.1:9/hook', events: ['key.created', 'key.usage_spike'] });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { data, secret } = res.json() as { data: Webhook; secret: string };
    expect(secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    expect(Object.keys(data).sort()).toEqual(WEBHOOK_FIELDS);
    expect(data).toEqual({
      id: expect.stringMatching(/^whk_[0-9A-Za-z]+$/),
      url: 'http://127.0.0.1:9/hook',
      events: ['key.created', 'key.usage_spike'],
      enabled: true,
      createdAt: new Date(t.clock.now()).toISOString(),
      updatedAt: new Date(t.clock.now()).toISOString(),
      createdBy: { id: owner.user.id, name: owner.user.name },
    });

    const list = await call(t, owner, 'GET', BASE);
    expect(list.json()).toEqual({ data: [data], nextCursor: null, prevCursor: null, total: 1 });
    const one = await call(t, owner, 'GET', `${BASE}/${data.id}`);
    expect(one.json()).toEqual({ data });
    const patched = await call(t, owner, 'PATCH', `${BASE}/${data.id}`, { enabled: false });
    for (const r of [list, one, patched]) expect(r.body).not.toContain(secret);
    // A second webhook has a secret of its own.
    expect((await createWebhook(owner, { url: 'http://127.0.0.1:9/other' })).secret).not.toBe(secret);
  });

  it('deduplicates events, normalises the URL, and can start disabled', async () => {
    const owner = await t.signup();
    const { data } = await createWebhook(owner, { url: 'HTTP://LocalHost:8080', events: ['key.revoked', 'key.created', 'key.revoked'], enabled: false });
    expect(data).toMatchObject({ url: 'http://localhost:8080/', events: ['key.revoked', 'key.created'], enabled: false });
  });

  it('changes the URL, the events and enabled, audits each change, and deletes a webhook with its deliveries', async () => {
    const owner = await t.signup();
    const { data } = await createWebhook(owner, { url: 'http://127.0.0.1:9/a', events: ['key.created'] });
    t.clock.advance(5 * SECOND);
    const res = await call(t, owner, 'PATCH', `${BASE}/${data.id}`, { url: 'http://10.0.0.7/b', events: ['key.unused', 'key.credits_low'], enabled: false });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ ...data, url: 'http://10.0.0.7/b', events: ['key.unused', 'key.credits_low'], enabled: false, updatedAt: new Date(t.clock.now()).toISOString() });
    expect((await call(t, owner, 'GET', `${BASE}/${data.id}`)).json().data.enabled).toBe(false);

    // A delivery waits for it; deleting the webhook takes the delivery and its log along.
    t.clock.advance(SECOND);
    expect((await call(t, owner, 'PATCH', `${BASE}/${data.id}`, { events: ['key.created'], enabled: true })).statusCode).toBe(200);
    await t.createKey(owner);
    expect((await deliveriesOf(owner, data.id)).total).toBe(1);
    t.clock.advance(SECOND);
    expect((await call(t, owner, 'DELETE', `${BASE}/${data.id}`)).statusCode).toBe(204);
    expect((await call(t, owner, 'GET', `${BASE}/${data.id}`)).statusCode).toBe(404);
    expect((await call(t, owner, 'GET', `${BASE}/${data.id}/deliveries`)).statusCode).toBe(404);
    expect((await call(t, owner, 'DELETE', `${BASE}/${data.id}`)).statusCode).toBe(404);
    expect(await t.handle.db.selectFrom('webhook_deliveries').selectAll().execute()).toEqual([]);
    expect(await runDue()).toBe(0);

    const audit = (await call(t, owner, 'GET', `/api/v1/audit-logs?targetId=${data.id}`)).json().data as Array<{ action: string; details: Record<string, unknown> }>;
    expect(audit.map((e) => e.action)).toEqual(['webhook.deleted', 'webhook.updated', 'webhook.updated', 'webhook.created']);
    expect(audit[2]?.details).toEqual({ fields: ['url', 'events', 'enabled'] });
  });

  it('refuses bad URLs, unknown events and unknown fields with 400 naming the field', async () => {
    const owner = await t.signup();
    const ev = ['key.created'];
    const cases: Array<[body: Record<string, unknown>, path: string, message?: RegExp]> = [
      [{ url: 'ftp://example.com/hook', events: ev }, 'url', /http or https/],
      [{ url: 'javascript:alert(1)', events: ev }, 'url', /http or https/],
      [{ url: 'file:///etc/passwd', events: ev }, 'url', /http or https/],
      [{ url: 'not a url', events: ev }, 'url', /not a valid URL/],
      [{ url: 'https://user:hunter2@example.com/hook', events: ev }, 'url', /user name or password/],
      [{ url: 'https://token@example.com/hook', events: ev }, 'url', /user name or password/],
      [{ url: 'http://169.254.169.254/latest/meta-data/', events: ev }, 'url', /metadata/],
      [{ url: 'http://0xA9.0xFE.0xA9.0xFE/', events: ev }, 'url', /metadata/],
      [{ url: 'http://169.254.10.10:8080/', events: ev }, 'url', /link-local/],
      [{ url: 'http://[fe80::1]/hook', events: ev }, 'url', /link-local/],
      [{ url: 'http://[fd00:ec2::254]/', events: ev }, 'url', /metadata/],
      [{ url: 'http://[::ffff:169.254.169.254]/', events: ev }, 'url', /metadata/],
      [{ url: 'http://metadata.google.internal/computeMetadata/v1/', events: ev }, 'url', /metadata/],
      [{ url: 'http://metadata.goog/', events: ev }, 'url', /metadata/],
      [{ url: '', events: ev }, 'url'],
      [{ url: 'http://127.0.0.1/\u0000', events: ev }, 'url'],
      [{ url: 'http://127.0.0.1/', events: [] }, 'events'],
      [{ url: 'http://127.0.0.1/', events: ['key.exploded'] }, 'events.0'],
      [{ url: 'http://127.0.0.1/', events: ['key.created', 'webhook.test'] }, 'events.1'],
      [{ url: 'http://127.0.0.1/', events: 'key.created' }, 'events'],
      [{ url: 'http://127.0.0.1/', events: ev, secret: 'whsec_mine' }, 'secret'],
      [{ url: 'http://127.0.0.1/', events: ev, teamId: owner.team.id }, 'teamId'],
      [{ url: 'http://127.0.0.1/', events: ev, enabled: 'yes' }, 'enabled'],
      [{ events: ev }, 'url', /is required/],
      [{ url: 'http://127.0.0.1/' }, 'events', /is required/],
    ];
    for (const [body, path, message] of cases) {
      const res = await call(t, owner, 'POST', BASE, body);
      const what = JSON.stringify(body);
      expect(res.statusCode, what).toBe(400);
      expect(errorOf(res).code, what).toBe('VALIDATION_FAILED');
      expect(errorOf(res).details?.[0]?.path, what).toBe(path);
      if (message) expect(errorOf(res).details?.[0]?.message, what).toMatch(message);
    }
    const { data } = await createWebhook(owner, { url: 'http://127.0.0.1:9/' });
    for (const [body, path] of [
      [{ url: 'http://169.254.169.254/' }, 'url'],
      [{ url: 'gopher://example.com/' }, 'url'],
      [{ events: [] }, 'events'],
      [{ events: ['nope'] }, 'events.0'],
      [{ secret: 'whsec_x' }, 'secret'],
      [{ teamId: owner.team.id }, 'teamId'],
    ] as const) {
      const res = await call(t, owner, 'PATCH', `${BASE}/${data.id}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorOf(res).details?.[0]?.path).toBe(path);
    }
    const res = await call(t, owner, 'POST', `${BASE}/${data.id}/test`, { force: true });
    expect(errorOf(res).details?.[0]?.path).toBe('force');
    expect((await call(t, owner, 'GET', `${BASE}?bogus=1`)).statusCode).toBe(400);
    expect((await call(t, owner, 'GET', `${BASE}/${data.id}/deliveries?cursor=nonsense`)).statusCode).toBe(400);
    expect((await call(t, owner, 'GET', `${BASE}/not-an-id`)).statusCode).toBe(400);
    // Nothing was changed by the refused requests.
    expect((await call(t, owner, 'GET', `${BASE}/${data.id}`)).json().data).toEqual(data);
    expect((await call(t, owner, 'GET', BASE)).json().total).toBe(1);
  });

  it('pages through webhooks newest first, back and forth, as the contract says', async () => {
    const owner = await t.signup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.unshift((await createWebhook(owner, { url: `http://127.0.0.1:9/${i}` })).data.id);
      t.clock.advance(SECOND);
    }
    const first = (await call(t, owner, 'GET', `${BASE}?limit=2`)).json() as Page<Webhook>;
    expect(first.data.map((w) => w.id)).toEqual(ids.slice(0, 2));
    expect(first).toMatchObject({ total: 5, prevCursor: null, nextCursor: expect.any(String) });
    const second = (await call(t, owner, 'GET', `${BASE}?limit=2&cursor=${first.nextCursor}`)).json() as Page<Webhook>;
    expect(second.data.map((w) => w.id)).toEqual(ids.slice(2, 4));
    const back = (await call(t, owner, 'GET', `${BASE}?limit=2&cursor=${second.prevCursor}`)).json() as Page<Webhook>;
    expect(back.data.map((w) => w.id)).toEqual(ids.slice(0, 2));
    const last = (await call(t, owner, 'GET', `${BASE}?limit=2&cursor=${second.nextCursor}`)).json() as Page<Webhook>;
    expect(last).toMatchObject({ data: [expect.objectContaining({ id: ids[4] })], nextCursor: null });
  });

  it('keeps a team to 20 webhooks (409)', async () => {
    const owner = await t.signup();
    for (let i = 0; i < 20; i += 1) await createWebhook(owner, { url: `http://127.0.0.1:9/${i}` });
    const res = await call(t, owner, 'POST', BASE, { url: 'http://127.0.0.1:9/one-more', events: ['key.created'] });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res).code).toBe('CONFLICT');
  });

  it('needs members.manage: 403 for developers and viewers, allowed to admins and service tokens; another team is 404', async () => {
    const owner = await t.signup();
    const { data } = await createWebhook(owner, { url: 'http://127.0.0.1:9/' });
    const endpoints: Array<[method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown]> = [
      ['GET', BASE],
      ['POST', BASE, { url: 'http://127.0.0.1:9/new', events: ['key.created'] }],
      ['GET', `${BASE}/${data.id}`],
      ['PATCH', `${BASE}/${data.id}`, { events: ['key.revoked'] }],
      ['POST', `${BASE}/${data.id}/test`, {}],
      ['GET', `${BASE}/${data.id}/deliveries`],
      ['POST', `${BASE}/${data.id}/deliveries/whd_unknown/retry`, {}],
      ['DELETE', `${BASE}/${data.id}`],
    ];
    for (const role of ['developer', 'viewer'] as const) {
      const person = await t.member(owner, role);
      for (const [method, url, body] of endpoints) {
        const res = await call(t, person, method, url, body, owner.team.id);
        expect(res.statusCode, `${role} ${method} ${url}`).toBe(403);
        expect(errorOf(res).code).toBe('FORBIDDEN');
      }
    }
    // Another team's owner: 404 whether naming that team or their own.
    const stranger = await t.signup();
    for (const [method, url, body] of endpoints.filter(([, url]) => url.includes(data.id))) {
      expect((await call(t, stranger, method, url, body)).statusCode, `${method} ${url}`).toBe(404);
      expect((await call(t, stranger, method, url, body, owner.team.id)).statusCode, `${method} ${url}`).toBe(404);
      expect((await t.request({ method, url, token: true, teamId: stranger.team.id, ...(body ? { body } : {}) })).statusCode).toBe(404);
    }
    expect((await call(t, stranger, 'GET', BASE)).json().total).toBe(0);
    const admin = await t.member(owner, 'admin');
    expect((await call(t, admin, 'GET', `${BASE}/${data.id}`, undefined, owner.team.id)).statusCode).toBe(200);
    expect((await call(t, admin, 'POST', BASE, { url: 'http://127.0.0.1:9/admin', events: ['key.created'] }, owner.team.id)).statusCode).toBe(201);
    const byService = await t.request({ method: 'POST', url: BASE, token: true, teamId: owner.team.id, body: { url: 'http://127.0.0.1:9/svc', events: ['key.created'] } });
    expect(byService.statusCode).toBe(201);
    expect((await t.request({ url: BASE, token: true, teamId: owner.team.id })).json().total).toBe(3);
    expect((await t.request({ url: BASE })).statusCode).toBe(401);
  });
});

describe('delivery', () => {
  it('sends key.created, key.regenerated and key.revoked to a real receiver on loopback, signed with the documented scheme', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook, secret } = await createWebhook(owner, { url: r.url('/keysmith?source=test'), events: ['key.created', 'key.regenerated', 'key.revoked'] });
    // Not for this webhook: another event, a disabled one, another team's.
    await createWebhook(owner, { url: r.url('/revoked-only'), events: ['key.revoked'] });
    await createWebhook(owner, { url: r.url('/disabled'), events: ['key.created'], enabled: false });
    const stranger = await t.signup();
    await createWebhook(stranger, { url: r.url('/stranger'), events: ['key.created'] });

    const created = await t.createKey(owner, { name: 'Billing' });
    expect(await runDue()).toBe(1);
    expect(r.hits).toHaveLength(1);
    const hit = r.hits[0] as Hit;
    expect(hit.path).toBe('/keysmith?source=test');
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['user-agent']).toBe('Keysmith-Webhooks/1');
    const { t: ts, valid } = checkSignature(hit.headers['keysmith-signature'], secret, hit.body);
    expect(valid).toBe(true);
    // `t` is the sending moment, in unix seconds.
    expect(Math.abs(ts - t.clock.now() / 1000)).toBeLessThanOrEqual(1);
    expect(checkSignature(hit.headers['keysmith-signature'], secret, `${hit.body} `).valid).toBe(false);
    const event = JSON.parse(hit.body);
    expect(Object.keys(event)).toEqual(['id', 'type', 'createdAt', 'data']);
    expect(event).toEqual({
      id: expect.stringMatching(/^evt_[0-9A-Za-z]+$/),
      type: 'key.created',
      createdAt: new Date(t.clock.now()).toISOString(),
      data: {
        key: { id: created.data.id, name: 'Billing', prefix: created.data.prefix },
        teamId: owner.team.id,
        actor: { type: 'user', id: owner.user.id, label: owner.user.email },
      },
    });
    expect(hit.headers['keysmith-event-id']).toBe(event.id);
    // Never the raw key, nor its hash.
    expect(hit.body).not.toContain(created.rawKey);
    expect(hit.body).not.toContain(createHash('sha256').update(created.rawKey).digest('hex'));

    t.clock.advance(MINUTE);
    const regenerated = await call(t, owner, 'POST', `/api/v1/keys/${created.data.id}/regenerate`, {});
    expect(regenerated.statusCode).toBe(200);
    expect((await call(t, owner, 'DELETE', `/api/v1/keys/${created.data.id}`)).statusCode).toBe(200);
    expect(await runDue()).toBe(3);
    const later = r.hits.slice(1);
    expect(later.map((h) => `${h.path} ${JSON.parse(h.body).type}`).sort()).toEqual(['/keysmith?source=test key.regenerated', '/keysmith?source=test key.revoked', '/revoked-only key.revoked']);
    for (const h of later.filter((x) => x.path.startsWith('/keysmith'))) {
      expect(checkSignature(h.headers['keysmith-signature'], secret, h.body).valid).toBe(true);
      expect(h.body).not.toContain(regenerated.json().rawKey);
    }
    const regen = JSON.parse(later.find((h) => JSON.parse(h.body).type === 'key.regenerated')?.body ?? '{}');
    expect(regen.data.key).toEqual({ id: created.data.id, name: 'Billing', prefix: regenerated.json().data.prefix });
    // One event, one id and createdAt, for every webhook that gets it.
    const revokes = later.filter((h) => JSON.parse(h.body).type === 'key.revoked').map((h) => JSON.parse(h.body));
    expect(revokes[0]).toEqual(revokes[1]);

    const log = await deliveriesOf(owner, hook.id);
    expect(log.total).toBe(3);
    expect(log.data.map((d) => d.type)).toEqual(expect.arrayContaining(['key.created', 'key.regenerated', 'key.revoked']));
    for (const d of log.data) {
      expect(d).toMatchObject({ webhookId: hook.id, status: 'delivered', nextAttemptAt: null, deliveredAt: expect.any(String) });
      expect(d.attempts).toEqual([{ at: expect.any(String), status: 200, durationMs: expect.any(Number), error: null }]);
    }
    expect(await runDue()).toBe(0);
    expect(r.hits).toHaveLength(4);
  });

  it('sends on its own, on the worker interval, without anyone calling runDue', async () => {
    const app = await testApp({ env: { KEYSMITH_WEBHOOK_INTERVAL_MS: '20' } });
    const r = await receiver();
    const owner = await app.signup();
    const { secret } = await createWebhook(owner, { url: r.url() }, app);
    await app.createKey(owner);
    for (let i = 0; i < 250 && r.hits.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.hits).toHaveLength(1);
    expect(checkSignature(r.hits[0]?.headers['keysmith-signature'], secret, r.hits[0]?.body ?? '').valid).toBe(true);
  });

  it('gives a receiver that fails twice then succeeds exactly three attempts, each listed with status and duration', async () => {
    const r = await receiver((_hit, n) => (n <= 2 ? 500 : 200));
    const owner = await t.signup();
    const { data: hook, secret } = await createWebhook(owner, { url: r.url() });
    const createdAt = t.clock.now();
    await t.createKey(owner);

    expect(await runDue()).toBe(1);
    let [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery).toMatchObject({ status: 'pending', nextAttemptAt: new Date(createdAt + 30 * SECOND).toISOString(), attempts: [{ status: 500, error: null }] });
    // Not due yet: nothing is sent.
    t.clock.advance(29 * SECOND);
    expect(await runDue()).toBe(0);
    t.clock.advance(SECOND);
    expect(await runDue()).toBe(1);
    [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery).toMatchObject({ status: 'pending', nextAttemptAt: new Date(createdAt + 30 * SECOND + 2 * MINUTE).toISOString() });
    t.clock.advance(2 * MINUTE);
    expect(await runDue()).toBe(1);
    [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery).toMatchObject({ status: 'delivered', nextAttemptAt: null, deliveredAt: new Date(t.clock.now()).toISOString() });
    expect(delivery?.attempts).toEqual([
      { at: new Date(createdAt).toISOString(), status: 500, durationMs: expect.any(Number), error: null },
      { at: new Date(createdAt + 30 * SECOND).toISOString(), status: 500, durationMs: expect.any(Number), error: null },
      { at: new Date(createdAt + 150 * SECOND).toISOString(), status: 200, durationMs: expect.any(Number), error: null },
    ]);
    for (const a of delivery?.attempts ?? []) expect(Number.isInteger(a.durationMs) && a.durationMs >= 0 && a.durationMs < 3000).toBe(true);

    // Exactly three, the same event each time, each signed at its own moment.
    t.clock.advance(2 * HOUR);
    expect(await runDue()).toBe(0);
    expect(r.hits).toHaveLength(3);
    expect(new Set(r.hits.map((h) => h.body)).size).toBe(1);
    const stamps = r.hits.map((h) => checkSignature(h.headers['keysmith-signature'], secret, h.body));
    expect(stamps.every((s) => s.valid)).toBe(true);
    expect(stamps.map((s) => s.t)).toEqual([createdAt, createdAt + 30 * SECOND, createdAt + 150 * SECOND].map((ms) => Math.floor(ms / 1000)));
  });

  it('records an attempt the receiver does not answer within the timeout as a timeout, and retries it', async () => {
    const app = await testApp({ env: { KEYSMITH_WEBHOOK_TIMEOUT_MS: '200' } });
    const r = await receiver((_hit, n) => (n === 1 ? 'hang' : 200));
    const owner = await app.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() }, app);
    await app.createKey(owner);
    const started = Date.now();
    expect(await runDue(app.app)).toBe(1);
    expect(Date.now() - started).toBeLessThan(3000);
    let [delivery] = (await deliveriesOf(owner, hook.id, app)).data;
    expect(delivery?.status).toBe('pending');
    expect(delivery?.attempts).toEqual([{ at: expect.any(String), status: null, durationMs: expect.any(Number), error: 'timeout: no answer within 200 ms' }]);
    expect(delivery?.attempts[0]?.durationMs).toBeGreaterThanOrEqual(190);
    app.clock.advance(30 * SECOND);
    expect(await runDue(app.app)).toBe(1);
    [delivery] = (await deliveriesOf(owner, hook.id, app)).data;
    expect(delivery?.status).toBe('delivered');
    expect(delivery?.attempts.map((a) => a.status)).toEqual([null, 200]);
  });

  it('records an unreachable receiver as an error without a status', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await t.createKey(owner);
    await runDue();
    const [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery?.attempts).toEqual([{ at: expect.any(String), status: null, durationMs: expect.any(Number), error: expect.stringContaining('ECONNREFUSED') }]);
  });

  it('still delivers after a restart in the middle of the retries (deliveries are stored, not in memory)', async () => {
    const r = await receiver((_hit, n) => (n === 1 ? 503 : 200));
    const owner = await t.signup();
    const { data: hook, secret } = await createWebhook(owner, { url: r.url() });
    await t.createKey(owner);
    expect(await runDue()).toBe(1);
    expect(r.hits).toHaveLength(1);
    // The first instance stops; a new one starts on the same database.
    await t.app.close();
    const next = await sibling(t);
    t.clock.advance(30 * SECOND);
    expect(await runDue(next.app)).toBe(1);
    expect(r.hits).toHaveLength(2);
    expect(r.hits[1]?.body).toBe(r.hits[0]?.body);
    expect(checkSignature(r.hits[1]?.headers['keysmith-signature'], secret, r.hits[1]?.body ?? '').valid).toBe(true);
    const [delivery] = (await deliveriesOf(owner, hook.id, next)).data;
    expect(delivery).toMatchObject({ status: 'delivered', attempts: [{ status: 503 }, { status: 200 }] });
  });

  it('leaves a delivery claimed by an instance that died mid-send until the claim expires, then sends it once', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    await t.createKey(owner);
    // Another instance claimed it and vanished before recording anything.
    const store = createStore(t.handle.db, t.handle.dialect);
    const now = t.clock.now();
    expect(await store.webhooks.claimDue(now, now + MINUTE, 'lck_vanished', 10)).toHaveLength(1);
    expect(await runDue()).toBe(0);
    t.clock.advance(MINUTE - 1);
    expect(await runDue()).toBe(0);
    t.clock.advance(1);
    expect(await runDue()).toBe(1);
    expect(r.hits).toHaveLength(1);
    const [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery).toMatchObject({ status: 'delivered', attempts: [{ status: 200 }] });
    // The vanished instance cannot record anything on it any more.
    const stale = await store.transaction((tx) => tx.webhooks.finishAttempt(delivery?.id ?? '', 'lck_vanished', null, { status: 'failed' }));
    expect(stale).toBe(false);
    expect((await deliveriesOf(owner, hook.id)).data[0]?.status).toBe('delivered');
  });

  it('gives up 24 hours after the event: status failed, the last attempt no later than 24 h after it', async () => {
    const r = await receiver(() => 500);
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    const createdAt = t.clock.now();
    await t.createKey(owner);
    let delivery: Delivery | undefined;
    for (let i = 0; i < 30; i += 1) {
      await runDue();
      [delivery] = (await deliveriesOf(owner, hook.id)).data;
      if (delivery?.status !== 'pending') break;
      t.clock.set(Date.parse(delivery.nextAttemptAt as string));
    }
    expect(delivery).toMatchObject({ status: 'failed', nextAttemptAt: null, deliveredAt: null });
    const times = delivery?.attempts.map((a) => Date.parse(a.at)) ?? [];
    expect(times).toHaveLength(11);
    expect(times[times.length - 1]).toBe(createdAt + 24 * HOUR);
    expect(times.every((at) => at <= createdAt + 24 * HOUR)).toBe(true);
    expect(delivery?.attempts.every((a) => a.status === 500)).toBe(true);
    expect(r.hits).toHaveLength(11);
    t.clock.advance(48 * HOUR);
    expect(await runDue()).toBe(0);
    expect(r.hits).toHaveLength(11);
  });

  it('drops a pending delivery of a webhook disabled meanwhile, without sending it', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    await t.createKey(owner);
    expect((await call(t, owner, 'PATCH', `${BASE}/${hook.id}`, { enabled: false })).statusCode).toBe(200);
    await runDue();
    expect(r.hits).toHaveLength(0);
    const [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery).toMatchObject({ status: 'failed', attempts: [] });
    // Enabled again, it can be retried by hand: one attempt, now.
    expect((await call(t, owner, 'PATCH', `${BASE}/${hook.id}`, { enabled: true })).statusCode).toBe(200);
    const res = await retry(owner, hook.id, delivery?.id ?? '');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ status: 'delivered', attempts: [{ status: 200 }] });
    expect(r.hits).toHaveLength(1);
  });

  it('pages through deliveries newest first', async () => {
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: 'http://127.0.0.1:9/' });
    for (let i = 0; i < 3; i += 1) {
      await t.createKey(owner, { name: `key ${i}` });
      t.clock.advance(SECOND);
    }
    const first = await deliveriesOf(owner, hook.id, t, '?limit=2');
    expect(first.total).toBe(3);
    expect(first.data.map((d) => Date.parse(d.createdAt))).toEqual([t.clock.now() - SECOND, t.clock.now() - 2 * SECOND]);
    const second = await deliveriesOf(owner, hook.id, t, `?limit=2&cursor=${first.nextCursor}`);
    expect(second).toMatchObject({ nextCursor: null, data: [expect.objectContaining({ createdAt: new Date(t.clock.now() - 3 * SECOND).toISOString() })] });
    const back = await deliveriesOf(owner, hook.id, t, `?limit=2&cursor=${second.prevCursor}`);
    expect(back.data.map((d) => d.id)).toEqual(first.data.map((d) => d.id));
  });

  it.skipIf(process.env.KEYSMITH_TEST_DB !== 'postgres')('revokes a key while a webhook of its team is being deleted: the revoke waits for the delete and stores nothing for it', async () => {
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: 'http://127.0.0.1:9/', events: ['key.revoked'] });
    const key = await t.createKey(owner);
    const other = new pg.Client({ connectionString: TEST_PG_URL });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`delete from ${t.schema}.webhooks where id = $1`, [hook.id]);
      const revoke = call(t, owner, 'DELETE', `/api/v1/keys/${key.data.id}`);
      // Time for the revoke to reach the webhook read (it then waits for this transaction).
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.query('commit');
      const res = await revoke;
      expect(res.statusCode, res.body).toBe(200);
    } finally {
      await other.end();
    }
    expect((await t.verify({ key: key.rawKey })).code).toBe('REVOKED');
    const { rows } = await sql<{ n: string }>`select count(*) as n from webhook_deliveries`.execute(t.handle.db);
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('stores a key event in the key change\'s transaction: when the event cannot be stored, the change is rolled back', async () => {
    const deliveries = deliveriesThatFail();
    const app = await testApp({ wrapStore: deliveries.wrapStore });
    const owner = await app.signup();
    const { data: hook } = await createWebhook(owner, { url: 'http://127.0.0.1:9/', events: ['key.created', 'key.revoked', 'key.regenerated'] }, app);
    const kept = await app.createKey(owner, { name: 'kept' });
    expect((await deliveriesOf(owner, hook.id, app)).total).toBe(1);

    deliveries.fail(true);
    const created = await call(app, owner, 'POST', '/api/v1/keys', { name: 'never made' });
    expect(created.statusCode, created.body).toBe(500);
    expect(created.body).not.toContain('disk full');
    // The failure is the injected one, in the log for the operator.
    expect(app.logs.join('\n')).toContain('disk full');
    expect((await call(app, owner, 'DELETE', `/api/v1/keys/${kept.data.id}`)).statusCode).toBe(500);
    expect((await call(app, owner, 'POST', `/api/v1/keys/${kept.data.id}/regenerate`, {})).statusCode).toBe(500);
    // Nothing of the three changes stayed: one key, still active, its secret still the one that verifies.
    const list = (await call(app, owner, 'GET', '/api/v1/keys')).json();
    expect(list.data.map((k: { name: string; status: string }) => [k.name, k.status])).toEqual([['kept', 'active']]);
    expect((await app.verify({ key: kept.rawKey })).code).toBe('VALID');
    const audit = (await call(app, owner, 'GET', '/api/v1/audit-logs')).json();
    expect(audit.data.filter((e: { action: string }) => e.action.startsWith('key.')).map((e: { action: string }) => e.action)).toEqual(['key.created']);
    expect((await deliveriesOf(owner, hook.id, app)).total).toBe(1);

    deliveries.fail(false);
    app.clock.advance(SECOND);
    expect((await call(app, owner, 'DELETE', `/api/v1/keys/${kept.data.id}`)).statusCode).toBe(200);
    expect((await deliveriesOf(owner, hook.id, app)).data.map((d) => d.type)).toEqual(['key.revoked', 'key.created']);
    expect((await app.verify({ key: kept.rawKey })).code).toBe('REVOKED');
  });
});

describe('POST /webhooks/:id/test', () => {
  it('sends a webhook.test event to that webhook alone and answers with the first attempt', async () => {
    const r = await receiver((_hit, n) => (n === 2 ? 500 : 200));
    const owner = await t.signup();
    const { data: hook, secret } = await createWebhook(owner, { url: r.url('/tested') });
    await createWebhook(owner, { url: r.url('/bystander'), events: ['key.created', 'key.revoked'] });
    const res = await call(t, owner, 'POST', `${BASE}/${hook.id}/test`);
    expect(res.statusCode, res.body).toBe(200);
    const delivery = res.json().data as Delivery;
    expect(delivery).toEqual({
      id: expect.stringMatching(/^whd_/),
      webhookId: hook.id,
      eventId: expect.stringMatching(/^evt_/),
      type: 'webhook.test',
      status: 'delivered',
      createdAt: new Date(t.clock.now()).toISOString(),
      deliveredAt: new Date(t.clock.now()).toISOString(),
      nextAttemptAt: null,
      attempts: [{ at: new Date(t.clock.now()).toISOString(), status: 200, durationMs: expect.any(Number), error: null }],
    });
    expect(r.hits.map((h) => h.path)).toEqual(['/tested']);
    const event = JSON.parse(r.hits[0]?.body ?? '{}');
    expect(event).toMatchObject({ id: delivery.eventId, type: 'webhook.test', data: { webhook: { id: hook.id, url: hook.url } } });
    expect(checkSignature(r.hits[0]?.headers['keysmith-signature'], secret, r.hits[0]?.body ?? '').valid).toBe(true);
    // The worker does not send it again.
    expect(await runDue()).toBe(0);

    // A failing receiver: the answer says so, and the delivery is retried like any other.
    const failed = (await call(t, owner, 'POST', `${BASE}/${hook.id}/test`, {})).json().data as Delivery;
    expect(failed).toMatchObject({ status: 'pending', attempts: [{ status: 500, error: null }], nextAttemptAt: new Date(t.clock.now() + 30 * SECOND).toISOString() });
    expect((await deliveriesOf(owner, hook.id)).data.map((d) => d.id).sort()).toEqual([failed.id, delivery.id].sort());
    t.clock.advance(30 * SECOND);
    expect(await runDue()).toBe(1);
    const retried = (await deliveriesOf(owner, hook.id)).data.find((d) => d.id === failed.id);
    expect(retried).toMatchObject({ status: 'delivered', attempts: [{ status: 500 }, { status: 200 }] });
  });

  it('answers 409 for a disabled webhook, and 404 for an unknown one', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url(), enabled: false });
    const res = await call(t, owner, 'POST', `${BASE}/${hook.id}/test`, {});
    expect(res.statusCode).toBe(409);
    expect(errorOf(res).code).toBe('CONFLICT');
    expect((await call(t, owner, 'POST', `${BASE}/whk_doesnotexist/test`, {})).statusCode).toBe(404);
    expect(r.hits).toHaveLength(0);
  });
});

describe('POST /webhooks/:id/deliveries/:deliveryId/retry', () => {
  it('retries a delivery that gave up after 24 h: failed again while the receiver fails, delivered with one more attempt once it answers 200', async () => {
    let answer = 500;
    const r = await receiver(() => answer);
    const owner = await t.signup();
    const { data: hook, secret } = await createWebhook(owner, { url: r.url() });
    const createdAt = t.clock.now();
    await t.createKey(owner);
    let delivery: Delivery | undefined;
    for (let i = 0; i < 30; i += 1) {
      await runDue();
      [delivery] = (await deliveriesOf(owner, hook.id)).data;
      if (delivery?.status !== 'pending') break;
      t.clock.set(Date.parse(delivery.nextAttemptAt as string));
    }
    expect(delivery).toMatchObject({ status: 'failed', nextAttemptAt: null });
    expect(delivery?.attempts).toHaveLength(11);
    const id = delivery?.id as string;

    // Still failing, after the window: one attempt now, then failed again, nothing scheduled.
    t.clock.set(createdAt + 25 * HOUR);
    let res = await retry(owner, hook.id, id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ id, status: 'failed', nextAttemptAt: null, deliveredAt: null });
    expect(res.json().data.attempts).toHaveLength(12);
    expect(r.hits).toHaveLength(12);
    t.clock.advance(HOUR);
    expect(await runDue()).toBe(0);

    // The receiver is fixed: the retry delivers it.
    answer = 200;
    res = await retry(owner, hook.id, id);
    expect(res.statusCode, res.body).toBe(200);
    const retried = res.json().data as Delivery;
    expect(retried).toMatchObject({ id, eventId: delivery?.eventId, status: 'delivered', nextAttemptAt: null, deliveredAt: new Date(t.clock.now()).toISOString() });
    expect(retried.attempts).toHaveLength(13);
    expect(retried.attempts.slice(0, 12).every((a) => a.status === 500)).toBe(true);
    expect(retried.attempts[12]).toEqual({ at: new Date(t.clock.now()).toISOString(), status: 200, durationMs: expect.any(Number), error: null });
    expect((await deliveriesOf(owner, hook.id)).data).toEqual([retried]);
    // The same event, signed at the moment of the retry.
    expect(r.hits).toHaveLength(13);
    const last = r.hits[12] as Hit;
    expect(last.body).toBe(r.hits[0]?.body);
    expect(last.headers['keysmith-event-id']).toBe(delivery?.eventId);
    const stamp = checkSignature(last.headers['keysmith-signature'], secret, last.body);
    expect(stamp).toEqual({ t: Math.floor(t.clock.now() / 1000), valid: true });

    // Delivered: another retry is a 409 and sends nothing.
    res = await retry(owner, hook.id, id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already delivered/) });
    expect(r.hits).toHaveLength(13);
    expect(await runDue()).toBe(0);
  });

  it('attempts a pending delivery now, before its turn; a failure is rescheduled by the usual backoff', async () => {
    const r = await receiver((_hit, n) => (n <= 2 ? 500 : 200));
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    const createdAt = t.clock.now();
    await t.createKey(owner);
    expect(await runDue()).toBe(1);
    const [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery).toMatchObject({ status: 'pending', nextAttemptAt: new Date(createdAt + 30 * SECOND).toISOString() });
    const id = delivery?.id as string;

    t.clock.advance(5 * SECOND);
    let res = await retry(owner, hook.id, id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({
      id,
      status: 'pending',
      nextAttemptAt: new Date(t.clock.now() + 2 * MINUTE).toISOString(),
      attempts: [{ status: 500 }, { at: new Date(t.clock.now()).toISOString(), status: 500 }],
    });
    // The old turn is gone: nothing is due at it.
    t.clock.set(createdAt + 30 * SECOND);
    expect(await runDue()).toBe(0);

    res = await retry(owner, hook.id, id);
    expect(res.json().data).toMatchObject({ status: 'delivered', nextAttemptAt: null, attempts: [{ status: 500 }, { status: 500 }, { status: 200 }] });
    t.clock.advance(2 * HOUR);
    expect(await runDue()).toBe(0);
    expect(r.hits).toHaveLength(3);
  });

  it('makes exactly one attempt of two concurrent retries (the other is a 409), and keeps the worker off it meanwhile', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first attempt fails; the next is held until the test lets it answer.
    const r = await receiver(async (_hit, n) => {
      if (n === 1) return 500;
      await gate;
      return 200;
    });
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    await t.createKey(owner);
    expect(await runDue()).toBe(1);
    const id = (await deliveriesOf(owner, hook.id)).data[0]?.id as string;

    const both = [retry(owner, hook.id, id), retry(owner, hook.id, id)];
    // The one that claimed it waits on the receiver, so the one that answers first lost the claim.
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000));
    const first = await Promise.race([...both, timeout]);
    expect(first, 'one retry answers while the other is attempting').not.toBeNull();
    expect(first?.statusCode).toBe(409);
    expect(first?.json().error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/in progress/) });
    await expect.poll(() => r.hits.length).toBe(2);
    // While the attempt is in flight: another retry is refused, and the worker does not take it.
    expect((await retry(owner, hook.id, id)).statusCode).toBe(409);
    t.clock.advance(30 * SECOND);
    expect(await runDue()).toBe(0);

    release();
    const answers = await Promise.all(both);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    const winner = answers.find((a) => a.statusCode === 200);
    expect(winner?.json().data).toMatchObject({ id, status: 'delivered', attempts: [{ status: 500 }, { status: 200 }] });
    expect(r.hits).toHaveLength(2);
    const attempts = await t.handle.db.selectFrom('webhook_attempts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(attempts.n)).toBe(2);
  });

  it('answers 409 while the worker holds the delivery, and retries it once that claim has expired', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    await t.createKey(owner);
    const id = (await deliveriesOf(owner, hook.id)).data[0]?.id as string;
    // A sender claimed it and vanished before recording anything.
    const store = createStore(t.handle.db, t.handle.dialect);
    const now = t.clock.now();
    expect(await store.webhooks.claimDue(now, now + MINUTE, 'lck_vanished', 10)).toHaveLength(1);
    const res = await retry(owner, hook.id, id);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toMatch(/in progress/);
    expect(r.hits).toHaveLength(0);
    t.clock.advance(MINUTE);
    const later = await retry(owner, hook.id, id);
    expect(later.statusCode, later.body).toBe(200);
    expect(later.json().data).toMatchObject({ status: 'delivered', attempts: [{ status: 200 }] });
    expect(r.hits).toHaveLength(1);
    // The vanished sender cannot record anything on it.
    expect(await store.transaction((tx) => tx.webhooks.finishAttempt(id, 'lck_vanished', null, { status: 'failed' }))).toBe(false);
  });

  it("is 404 for another team's webhook, an unknown delivery or another webhook's; 403 for developers and viewers; 409 for a disabled webhook", async () => {
    const r = await receiver(() => 500);
    const owner = await t.signup();
    const { data: a } = await createWebhook(owner, { url: r.url('/a') });
    const { data: b } = await createWebhook(owner, { url: r.url('/b') });
    await t.createKey(owner);
    expect(await runDue()).toBe(2);
    const [ofA] = (await deliveriesOf(owner, a.id)).data;
    const [ofB] = (await deliveriesOf(owner, b.id)).data;
    const idA = ofA?.id as string;

    for (const [hookId, deliveryId] of [
      [a.id, ofB?.id as string],
      [a.id, 'whd_doesnotexist'],
      ['whk_doesnotexist', idA],
    ]) {
      const res = await retry(owner, hookId as string, deliveryId as string);
      expect(res.statusCode, `${hookId} ${deliveryId}`).toBe(404);
      expect(errorOf(res).code).toBe('NOT_FOUND');
    }
    const stranger = await t.signup();
    expect((await retry(stranger, a.id, idA)).statusCode).toBe(404);
    expect((await retry(stranger, a.id, idA, t, owner.team.id)).statusCode).toBe(404);
    const url = `${BASE}/${a.id}/deliveries/${idA}/retry`;
    expect((await t.request({ method: 'POST', url, token: true, teamId: stranger.team.id, body: {} })).statusCode).toBe(404);
    for (const role of ['developer', 'viewer'] as const) {
      const person = await t.member(owner, role);
      const res = await retry(person, a.id, idA, t, owner.team.id);
      expect(res.statusCode, role).toBe(403);
      expect(errorOf(res).code).toBe('FORBIDDEN');
    }
    expect((await retry(owner, a.id, 'not-an-id')).statusCode).toBe(400);
    const extra = await call(t, owner, 'POST', url, { force: true });
    expect(errorOf(extra).details?.[0]?.path).toBe('force');
    expect(r.hits).toHaveLength(2);

    expect((await call(t, owner, 'PATCH', `${BASE}/${a.id}`, { enabled: false })).statusCode).toBe(200);
    const disabled = await retry(owner, a.id, idA);
    expect(disabled.statusCode).toBe(409);
    expect(errorOf(disabled).code).toBe('CONFLICT');
    expect(r.hits).toHaveLength(2);
    // Nothing refused touched the delivery; a service token of the team may retry.
    expect((await deliveriesOf(owner, a.id)).data).toEqual([ofA]);
    const bySvc = await t.request({ method: 'POST', url: `${BASE}/${b.id}/deliveries/${ofB?.id}/retry`, token: true, teamId: owner.team.id, body: {} });
    expect(bySvc.statusCode, bySvc.body).toBe(200);
    expect(bySvc.json().data.attempts).toHaveLength(2);
  });
});

describe('two instances', () => {
  it('running the worker at the same time send each attempt once', async () => {
    // Slow answers, so both instances are sending at once; each first attempt fails.
    const seen = new Map<string, number>();
    const r = await receiver(async (hit) => {
      const id = `${hit.path} ${String(hit.headers['keysmith-event-id'])}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 15));
      return seen.get(id) === 1 ? 500 : 200;
    });
    const other = await sibling(t);
    const owner = await t.signup();
    const hooks: string[] = [];
    for (const path of ['/a', '/b', '/c']) hooks.push((await createWebhook(owner, { url: r.url(path) })).data.id);
    for (let i = 0; i < 8; i += 1) await t.createKey(owner, { name: `key ${i}` });
    const deliveries = 3 * 8;

    const rounds = async () => {
      const counts = await Promise.all([runDue(t.app), runDue(other.app), runDue(t.app), runDue(other.app)]);
      return counts.reduce((a, b) => a + b, 0);
    };
    expect(await rounds()).toBe(deliveries);
    expect(r.hits).toHaveLength(deliveries);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    t.clock.advance(30 * SECOND);
    expect(await rounds()).toBe(deliveries);
    expect(r.hits).toHaveLength(2 * deliveries);
    expect([...seen.values()].every((n) => n === 2)).toBe(true);
    expect(await rounds()).toBe(0);

    for (const id of hooks) {
      const page = await deliveriesOf(owner, id, t, '?limit=100');
      expect(page.total).toBe(8);
      for (const d of page.data) expect(d).toMatchObject({ status: 'delivered', attempts: [{ status: 500 }, { status: 200 }] });
    }
    const attempts = await t.handle.db.selectFrom('webhook_attempts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(attempts.n)).toBe(2 * deliveries);
  });
});

describe('failing closed without the signing key', () => {
  it('answers 503 CREDENTIAL_UNAVAILABLE to a test, and sends nothing unsigned, on an instance without the master key', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook, secret } = await createWebhook(owner, { url: r.url() });
    const other = await sibling(t, { masterKey: Buffer.alloc(32, 7).toString('base64') });

    const res = await call(other, owner, 'POST', `${BASE}/${hook.id}/test`, {});
    expect(res.statusCode).toBe(503);
    expect(errorOf(res).code).toBe('CREDENTIAL_UNAVAILABLE');
    expect((await deliveriesOf(owner, hook.id)).total).toBe(0);

    await t.createKey(owner);
    expect(await runDue(other.app)).toBe(1);
    expect(r.hits).toHaveLength(0);
    let [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery).toMatchObject({ status: 'pending', attempts: [{ status: null, durationMs: 0, error: expect.stringMatching(/signing secret/) }] });
    // An instance with the key sends it at the next attempt.
    t.clock.advance(30 * SECOND);
    expect(await runDue(t.app)).toBe(1);
    expect(checkSignature(r.hits[0]?.headers['keysmith-signature'], secret, r.hits[0]?.body ?? '').valid).toBe(true);
    [delivery] = (await deliveriesOf(owner, hook.id)).data;
    expect(delivery?.status).toBe('delivered');
  });

  it('answers 503 CREDENTIAL_UNAVAILABLE to a retry on an instance without the master key, leaving the delivery as it was', async () => {
    const r = await receiver(() => 500);
    const owner = await t.signup();
    const { data: hook } = await createWebhook(owner, { url: r.url() });
    await t.createKey(owner);
    expect(await runDue()).toBe(1);
    const [before] = (await deliveriesOf(owner, hook.id)).data;
    const other = await sibling(t, { masterKey: Buffer.alloc(32, 7).toString('base64') });
    const res = await retry(owner, hook.id, before?.id as string, other);
    expect(res.statusCode).toBe(503);
    expect(errorOf(res).code).toBe('CREDENTIAL_UNAVAILABLE');
    expect(r.hits).toHaveLength(1);
    expect((await deliveriesOf(owner, hook.id)).data).toEqual([before]);
    // Nor is it claimed: an instance with the key retries it at once.
    expect((await retry(owner, hook.id, before?.id as string)).statusCode).toBe(200);
    expect(r.hits).toHaveLength(2);
  });

  it('answers 503 CREDENTIAL_UNAVAILABLE to creating a webhook on an instance without a vault', async () => {
    const owner = await t.signup();
    const app = await buildApp({
      config: t.config,
      store: createStore(t.handle.db, t.handle.dialect, { sqlite: t.handle.sqlite }),
      clock: t.clock,
      random: cryptoRandom,
      hasher: createArgon2Hasher({ memoryCost: 1024, timeCost: 1 }),
      vault: null,
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: BASE,
        headers: { cookie: `keysmith_session=${owner.cookie}`, origin: ORIGIN },
        payload: { url: 'http://127.0.0.1:9/', events: ['key.created'] },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('CREDENTIAL_UNAVAILABLE');
      const list = await app.inject({ method: 'GET', url: BASE, headers: { cookie: `keysmith_session=${owner.cookie}` } });
      expect(list.json().total).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe('master key rotation', () => {
  it('re-seals webhook secrets under the new master key, so an instance with only the new key still signs with the same secret', async () => {
    const r = await receiver();
    const owner = await t.signup();
    const { data: hook, secret } = await createWebhook(owner, { url: r.url() });
    const oldKey = readFileSync(`${t.config.dataDir}/master.key`, 'utf8').trim();
    const newKey = Buffer.alloc(32, 9).toString('base64');
    const store = createStore(t.handle.db, t.handle.dialect);
    expect(await rotateWebhookSecrets(store, createVault(parseMasterKeys(`${newKey},${oldKey}`)))).toEqual({ rewrapped: 1, failed: [] });
    expect(await rotateWebhookSecrets(store, createVault(parseMasterKeys(`${newKey},${oldKey}`)))).toEqual({ rewrapped: 0, failed: [] });
    const onlyNew = await sibling(t, { masterKey: newKey });
    const res = await call(onlyNew, owner, 'POST', `${BASE}/${hook.id}/test`, {});
    expect(res.statusCode, res.body).toBe(200);
    expect(checkSignature(r.hits[0]?.headers['keysmith-signature'], secret, r.hits[0]?.body ?? '').valid).toBe(true);
    // The old key alone no longer opens it.
    expect((await call(t, owner, 'POST', `${BASE}/${hook.id}/test`, {})).statusCode).toBe(503);
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
  expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['webhooks', 'webhook_deliveries', 'webhook_attempts']));
  const lines: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ row: string }>`select row_to_json(x)::text as row from ${sql.id(app.schema as string, table_name)} x`.execute(app.handle.db);
    lines.push(...rows.rows.map((r) => r.row));
  }
  return Buffer.from(lines.join('\n'), 'utf8');
}

describe('signing secrets at rest and in logs', () => {
  it('keeps no signing secret, nor its base64 or hex, in the database, its WAL or the log', async () => {
    const r = await receiver((_hit, n) => (n === 1 ? 500 : 200));
    const owner = await t.signup();
    const secrets: string[] = [];
    const ids: string[] = [];
    for (const path of ['/one', '/two']) {
      const created = await createWebhook(owner, { url: r.url(path), events: ['key.created', 'key.revoked'] });
      secrets.push(created.secret);
      ids.push(created.data.id);
    }
    const byService = await t.request({ method: 'POST', url: BASE, token: true, teamId: owner.team.id, body: { url: r.url('/svc'), events: ['key.created'] } });
    secrets.push(byService.json().secret);
    const key = await t.createKey(owner);
    await call(t, owner, 'DELETE', `/api/v1/keys/${key.data.id}`);
    await runDue();
    t.clock.advance(30 * SECOND);
    await runDue();
    for (const id of ids) {
      await call(t, owner, 'POST', `${BASE}/${id}/test`, {});
      await deliveriesOf(owner, id);
    }
    expect(r.hits.length).toBeGreaterThan(5);

    const stored = await databaseContents(t);
    // The scan sees what is stored in clear: the URLs.
    expect(stored.includes(r.url('/one'))).toBe(true);
    const logs = t.logs.join('\n');
    expect(logs).toContain('/api/v1/webhooks');
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_/);
      for (const form of [secret, secret.slice('whsec_'.length), Buffer.from(secret).toString('base64').slice(0, 24), Buffer.from(secret).toString('hex').slice(0, 32)]) {
        expect(stored.includes(form), 'database').toBe(false);
        expect(logs.includes(form), 'logs').toBe(false);
      }
    }
  });
});
