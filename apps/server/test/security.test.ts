import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type RequestOptions, type TestApp, type TestUser } from './helpers';

/**
 * The shared security suite: every team-scoped route answers 401 without credentials, 404 for
 * another team's objects, 400 for an unknown field or query parameter, and 403 for a role that
 * lacks the route's permission.
 */

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

type Method = NonNullable<RequestOptions['method']>;
type Permission = 'keys.read' | 'keys.write' | 'members.manage' | 'audit.read' | 'team.manage';
type Role = 'admin' | 'developer' | 'viewer';

/** Objects of one team the routes address. */
interface Objects {
  keyId: string;
  /** A member of the team who is not its only owner. */
  memberId: string;
  /** A (disabled) webhook of the team. */
  webhookId: string;
  /** A delivery of that webhook (a test sent before it was disabled). */
  deliveryId: string;
  /** An alert of the team (a revoked key presented). */
  alertId: string;
}

interface Route {
  method: Method;
  url: (o: Objects) => string;
  body?: Record<string, unknown>;
  permission: Permission;
  /** Whether the route acts on one object named in the path (so a foreign id is a 404 even without X-Team-Id). */
  object?: boolean;
}

const ROUTES: Route[] = [
  { method: 'GET', url: () => '/api/v1/keys', permission: 'keys.read' },
  { method: 'POST', url: () => '/api/v1/keys', body: { name: 'New key' }, permission: 'keys.write' },
  { method: 'GET', url: (o) => `/api/v1/keys/${o.keyId}`, permission: 'keys.read', object: true },
  { method: 'PATCH', url: (o) => `/api/v1/keys/${o.keyId}`, body: { name: 'Renamed' }, permission: 'keys.write', object: true },
  { method: 'DELETE', url: (o) => `/api/v1/keys/${o.keyId}`, permission: 'keys.write', object: true },
  { method: 'DELETE', url: (o) => `/api/v1/keys/${o.keyId}?purge=true`, permission: 'keys.write', object: true },
  { method: 'POST', url: (o) => `/api/v1/keys/${o.keyId}/regenerate`, body: {}, permission: 'keys.write', object: true },
  { method: 'GET', url: (o) => `/api/v1/keys/${o.keyId}/usage`, permission: 'keys.read', object: true },
  { method: 'GET', url: () => '/api/v1/usage', permission: 'keys.read' },
  { method: 'GET', url: () => '/api/v1/team', permission: 'keys.read' },
  { method: 'PATCH', url: () => '/api/v1/team', body: { name: 'Renamed team' }, permission: 'team.manage' },
  { method: 'GET', url: () => '/api/v1/team/members', permission: 'keys.read' },
  { method: 'POST', url: () => '/api/v1/team/invitations', body: { email: 'invitee@example.com', role: 'viewer' }, permission: 'members.manage' },
  { method: 'PATCH', url: (o) => `/api/v1/team/members/${o.memberId}`, body: { role: 'developer' }, permission: 'members.manage', object: true },
  { method: 'DELETE', url: (o) => `/api/v1/team/members/${o.memberId}`, permission: 'members.manage', object: true },
  { method: 'GET', url: () => '/api/v1/audit-logs', permission: 'audit.read' },
  { method: 'GET', url: () => '/api/v1/webhooks', permission: 'members.manage' },
  { method: 'POST', url: () => '/api/v1/webhooks', body: { url: 'http://127.0.0.1:9/new', events: ['key.created'] }, permission: 'members.manage' },
  { method: 'GET', url: (o) => `/api/v1/webhooks/${o.webhookId}`, permission: 'members.manage', object: true },
  { method: 'PATCH', url: (o) => `/api/v1/webhooks/${o.webhookId}`, body: { events: ['key.revoked'] }, permission: 'members.manage', object: true },
  { method: 'DELETE', url: (o) => `/api/v1/webhooks/${o.webhookId}`, permission: 'members.manage', object: true },
  { method: 'POST', url: (o) => `/api/v1/webhooks/${o.webhookId}/test`, body: {}, permission: 'members.manage', object: true },
  { method: 'GET', url: (o) => `/api/v1/webhooks/${o.webhookId}/deliveries`, permission: 'members.manage', object: true },
  { method: 'POST', url: (o) => `/api/v1/webhooks/${o.webhookId}/deliveries/${o.deliveryId}/retry`, body: {}, permission: 'members.manage', object: true },
  { method: 'GET', url: () => '/api/v1/alerts', permission: 'keys.read' },
  { method: 'POST', url: (o) => `/api/v1/alerts/${o.alertId}/read`, body: {}, permission: 'keys.read', object: true },
  { method: 'POST', url: () => '/api/v1/alerts/read-all', body: {}, permission: 'keys.read' },
  { method: 'GET', url: () => '/api/v1/alert-settings', permission: 'keys.read' },
  { method: 'PUT', url: () => '/api/v1/alert-settings', body: { rules: { 'key.unused': { enabled: false } } }, permission: 'members.manage' },
  { method: 'GET', url: (o) => `/api/v1/keys/${o.keyId}/activity`, permission: 'keys.read', object: true },
];

/** The contract's table: a role that lacks each permission (none lacks keys.read). */
const LACKING: Record<Permission, Role | null> = {
  'keys.read': null,
  'keys.write': 'viewer',
  'members.manage': 'developer',
  'audit.read': 'developer',
  'team.manage': 'admin',
};

const label = (r: Route) => `${r.method} ${r.url({ keyId: ':id', memberId: ':userId', webhookId: ':id', deliveryId: ':deliveryId', alertId: ':id' })}`;

/** Asserts the contract's error shape and that x-request-id repeats the body's requestId. */
function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect({ status: res.statusCode, body: res.body }).toMatchObject({ status });
  const body = res.json();
  expect(body).toEqual({
    error: { code, message: expect.any(String), requestId: expect.any(String), ...(body.error.details ? { details: expect.any(Array) } : {}) },
  });
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(res.headers['x-request-id']).toBe(body.error.requestId);
}

interface TeamWorld {
  owner: TestUser;
  objects: Objects;
}

/** A team with an owner, one key and a viewer member. */
async function team(): Promise<TeamWorld> {
  const owner = await t.signup();
  const key = await t.createKey(owner, { name: 'Existing key' });
  const member = await t.member(owner, 'viewer');
  // Disabled after one test (to port 9, where nothing answers), so no route of the suite sends anything to it.
  const webhook = await t.request({ method: 'POST', url: '/api/v1/webhooks', cookie: owner.cookie, body: { url: 'http://127.0.0.1:9/hook', events: ['key.created'] } });
  if (webhook.statusCode !== 201) throw new Error(`create webhook failed: ${webhook.statusCode} ${webhook.body}`);
  const webhookId = webhook.json().data.id as string;
  const tested = await t.request({ method: 'POST', url: `/api/v1/webhooks/${webhookId}/test`, cookie: owner.cookie, body: {} });
  if (tested.statusCode !== 200) throw new Error(`webhook test failed: ${tested.statusCode} ${tested.body}`);
  const disabled = await t.request({ method: 'PATCH', url: `/api/v1/webhooks/${webhookId}`, cookie: owner.cookie, body: { enabled: false } });
  if (disabled.statusCode !== 200) throw new Error(`disable webhook failed: ${disabled.statusCode} ${disabled.body}`);
  // A revoked key presented raises an alert (read back through the API).
  const revoked = await t.createKey(owner, { name: 'Revoked key' });
  await t.request({ method: 'DELETE', url: `/api/v1/keys/${revoked.data.id}`, cookie: owner.cookie });
  await t.verify({ key: revoked.rawKey });
  const alertId = (await t.request({ url: '/api/v1/alerts', cookie: owner.cookie })).json().data[0]?.id;
  if (typeof alertId !== 'string') throw new Error('no alert for the revoked key');
  return { owner, objects: { keyId: key.data.id, memberId: member.user.id, webhookId, deliveryId: tested.json().data.id, alertId } };
}

/** What a team looks like to the outside: its audit total, keys and members (read with the service token). */
async function snapshot(teamId: string) {
  const read = async (url: string) => (await t.request({ url, token: true, teamId })).json();
  const audit = await read('/api/v1/audit-logs?limit=1');
  const keys = await read('/api/v1/keys?limit=100');
  const members = await read('/api/v1/team/members');
  const current = await read('/api/v1/team');
  const webhooks = await read('/api/v1/webhooks?limit=100');
  const alerts = await read('/api/v1/alerts?limit=100');
  const alertSettings = await read('/api/v1/alert-settings');
  return { auditTotal: audit.total, keys: keys.data, members: members.data, team: current.data, webhooks: webhooks.data, alerts: alerts.data, alertSettings: alertSettings.data };
}

function send(route: Route, objects: Objects, extra: Partial<RequestOptions> = {}) {
  return t.request({ method: route.method, url: route.url(objects), ...(route.body ? { body: route.body } : {}), ...extra });
}

describe.each(ROUTES.map((r) => [label(r), r] as const))('%s', (_name, route) => {
  it('answers 401 UNAUTHENTICATED without credentials, with a bad session, or with a bad token', async () => {
    const a = await team();
    const before = await snapshot(a.owner.team.id);
    for (const extra of [{}, { cookie: 'not-a-session' }, { token: 'not-the-service-token-but-long-enough-000' }, { teamId: a.owner.team.id }]) {
      expectError(await send(route, a.objects, extra), 401, 'UNAUTHENTICATED');
    }
    expect(await snapshot(a.owner.team.id)).toEqual(before);
  });

  it("answers 404 NOT_FOUND for another team's objects, with or without that team's X-Team-Id", async () => {
    const a = await team();
    const b = await team();
    const beforeA = await snapshot(a.owner.team.id);
    const beforeB = await snapshot(b.owner.team.id);
    // The owner of A addresses B's team (not a member of it).
    expectError(await send(route, b.objects, { cookie: a.owner.cookie, teamId: b.owner.team.id }), 404, 'NOT_FOUND');
    if (route.object) {
      // Without a header A's owner acts on A, where B's objects do not exist.
      expectError(await send(route, b.objects, { cookie: a.owner.cookie }), 404, 'NOT_FOUND');
      expectError(await send(route, b.objects, { cookie: a.owner.cookie, teamId: a.owner.team.id }), 404, 'NOT_FOUND');
      // A service token naming team A cannot reach B's objects either.
      expectError(await send(route, b.objects, { token: true, teamId: a.owner.team.id }), 404, 'NOT_FOUND');
    }
    expect(await snapshot(a.owner.team.id)).toEqual(beforeA);
    expect(await snapshot(b.owner.team.id)).toEqual(beforeB);
  });

  it(route.body ? 'answers 400 VALIDATION_FAILED for an unknown body field' : 'answers 400 VALIDATION_FAILED for an unknown query parameter', async () => {
    const a = await team();
    const before = await snapshot(a.owner.team.id);
    let res: LightMyRequestResponse;
    if (route.body) {
      res = await t.request({ method: route.method, url: route.url(a.objects), cookie: a.owner.cookie, body: { ...route.body, teamId: a.owner.team.id } });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.json().error.details).toEqual([{ path: 'teamId', message: expect.any(String) }]);
    } else {
      const url = route.url(a.objects);
      res = await t.request({ method: route.method, url: `${url}${url.includes('?') ? '&' : '?'}bogus=1`, cookie: a.owner.cookie });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.json().error.details).toEqual([{ path: 'bogus', message: expect.any(String) }]);
    }
    expect(await snapshot(a.owner.team.id)).toEqual(before);
  });

  const lacking = LACKING[route.permission];
  if (lacking) {
    it(`answers 403 FORBIDDEN to ${lacking === 'admin' ? 'an' : 'a'} ${lacking}, who lacks ${route.permission}`, async () => {
      const a = await team();
      const person = await t.member(a.owner, lacking);
      const before = await snapshot(a.owner.team.id);
      expectError(await send(route, a.objects, { cookie: person.cookie, teamId: a.owner.team.id }), 403, 'FORBIDDEN');
      expect(await snapshot(a.owner.team.id)).toEqual(before);
    });
  } else {
    it('is allowed to every role of the team', async () => {
      const a = await team();
      for (const role of ['admin', 'developer', 'viewer'] as const) {
        const person = await t.member(a.owner, role);
        const res = await send(route, a.objects, { cookie: person.cookie, teamId: a.owner.team.id });
        expect(res.statusCode).toBe(200);
      }
    });
  }

  it('answers 400 to a service token without X-Team-Id and 404 for an unknown team', async () => {
    const a = await team();
    const before = await snapshot(a.owner.team.id);
    const missing = await send(route, a.objects, { token: true });
    expectError(missing, 400, 'VALIDATION_FAILED');
    expect(missing.json().error.details).toEqual([{ path: 'X-Team-Id', message: expect.any(String) }]);
    for (const teamId of ['team_doesnotexist', 'bogus']) {
      expectError(await send(route, a.objects, { token: true, teamId }), 404, 'NOT_FOUND');
    }
    expect(await snapshot(a.owner.team.id)).toEqual(before);
  });
});

describe('request ids', () => {
  it('sends an x-request-id on every answer, a new one each time, never taken from the caller', async () => {
    const ok = await t.request({ url: '/healthz', headers: { 'x-request-id': 'chosen-by-caller' } });
    const err = await t.request({ url: '/api/v1/team', headers: { 'x-request-id': 'chosen-by-caller' } });
    expect(ok.headers['x-request-id']).toEqual(expect.stringMatching(/^req_/));
    expect(err.headers['x-request-id']).toEqual(expect.stringMatching(/^req_/));
    expect(ok.headers['x-request-id']).not.toBe(err.headers['x-request-id']);
    expect(err.json().error.requestId).toBe(err.headers['x-request-id']);
  });
});

describe('service tokens', () => {
  it('act on the team named by X-Team-Id with full rights', async () => {
    const owner = await t.signup();
    const res = await t.request({ method: 'POST', url: '/api/v1/keys', token: true, teamId: owner.team.id, body: { name: 'from CI' } });
    expect(res.statusCode).toBe(201);
    const keys = await t.request({ url: '/api/v1/keys', cookie: owner.cookie });
    expect(keys.json().data.map((k: { id: string }) => k.id)).toEqual([res.json().data.id]);
  });
});
