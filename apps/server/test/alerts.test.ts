import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, deliveriesThatFail, type TestApp, type TestUser, withSchemaLock } from './helpers';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The test clock starts at 2026-11-20T12:00:00.000Z. */
const START = Date.UTC(2026, 10, 20, 12, 0, 0);
// Nothing is flushed or sent behind the test's back: usage is written by reads (and close), webhooks by runDue().
const ENV = { KEYSMITH_USAGE_FLUSH_MS: '60000', KEYSMITH_WEBHOOK_INTERVAL_MS: '0' };

let t: TestApp;
const servers: Server[] = [];
beforeEach(async () => {
  t = await buildTestApp({ start: START, env: ENV });
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await t.close();
});

interface Alert {
  id: string;
  type: string;
  severity: 'info' | 'warning' | 'critical';
  keyId: string | null;
  message: string;
  details: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

interface Page<T> {
  data: T[];
  nextCursor: string | null;
  prevCursor: string | null;
  total: number;
}

const ALERT_FIELDS = ['createdAt', 'details', 'id', 'keyId', 'message', 'readAt', 'severity', 'type'];
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The team's alerts; the read writes pending usage and waits for the rules first. Read with the
 * service token (a session would expire over the months these tests skip), or as `user` in `teamId`.
 */
async function alerts(user: TestUser, query = '', teamId?: string): Promise<Page<Alert>> {
  const who = teamId ? { cookie: user.cookie, teamId } : { token: true as const, teamId: user.team.id };
  const res = await t.request({ url: `/api/v1/alerts${query}`, ...who });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Asserts the team has exactly one alert, of this type and severity, and returns it. */
async function onlyAlert(user: TestUser, type: string, severity: Alert['severity']): Promise<Alert> {
  const page = await alerts(user);
  expect(page.data.map((a) => `${a.type}/${a.severity}`)).toEqual([`${type}/${severity}`]);
  expect(page.total).toBe(1);
  const alert = page.data[0] as Alert;
  expect(Object.keys(alert).sort()).toEqual(ALERT_FIELDS);
  return alert;
}

async function expectNoAlerts(user: TestUser): Promise<void> {
  const page = await alerts(user);
  expect(page.data.map((a) => `${a.type}: ${a.message}`)).toEqual([]);
}

async function verify(key: string, context?: { ip?: string; userAgent?: string }, extra: Record<string, unknown> = {}): Promise<string> {
  return (await t.verify({ key, ...extra, ...(context ? { context } : {}) })).code;
}

async function verifyTimes(n: number, key: string, context?: { ip?: string; userAgent?: string }): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < n; i += 1) codes.push(await verify(key, context));
  return codes;
}

function call(user: TestUser, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, teamId?: string) {
  return t.request({ method, url, cookie: user.cookie, ...(teamId ? { teamId } : {}), ...(body !== undefined ? { body } : {}) });
}

async function putSettings(user: TestUser, rules: Record<string, unknown>) {
  const res = await call(user, 'PUT', '/api/v1/alert-settings', { rules });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

describe('context on verify', () => {
  it('refuses a context whose ip is not an IP address or whose userAgent is over 512 characters (400)', async () => {
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner);
    const cases: Array<[context: Record<string, unknown>, path: string]> = [
      [{ ip: 'not-an-ip' }, 'context.ip'],
      [{ ip: '203.0.113.256' }, 'context.ip'],
      [{ ip: '203.0.113.7/24' }, 'context.ip'],
      [{ ip: '2001:db8::g' }, 'context.ip'],
      [{ ip: 42 }, 'context.ip'],
      [{ userAgent: 'x'.repeat(513) }, 'context.userAgent'],
      [{ userAgent: 7 }, 'context.userAgent'],
      [{ country: 'NL' }, 'context.country'],
    ];
    for (const [context, path] of cases) {
      const res = await t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: rawKey, context } });
      expect(res.statusCode, JSON.stringify(context)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      expect(res.json().error.details?.[0]?.path, JSON.stringify(context)).toBe(path);
    }
    expect(await verify(rawKey, { ip: '203.0.113.7', userAgent: 'x'.repeat(512) })).toBe('VALID');
  });

  it('keeps the /24 and /48 networks and the user agents a key was used from: GET /keys/:id/activity', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner, { scopes: ['read'] });
    const first = t.clock.now();
    await verify(rawKey, { ip: '203.0.113.7', userAgent: 'curl/8' });
    t.clock.advance(MINUTE);
    await verify(rawKey, { ip: '203.0.113.99', userAgent: 'curl/8' });
    t.clock.advance(MINUTE);
    // Rejected uses of a known key count too; so does an IPv6 caller, by its /48.
    expect(await verify(rawKey, { ip: '2001:db8:abcd:12::1', userAgent: 'sdk/2.1' }, { scopes: ['admin'] })).toBe('INSUFFICIENT_SCOPES');
    t.clock.advance(MINUTE);
    await verify(rawKey, { ip: '2001:0DB8:ABCD:00ff::2' });
    await verify(rawKey, { ip: '::ffff:198.51.100.4' });
    await verify(rawKey);
    const last = t.clock.now();

    const res = await call(owner, 'GET', `/api/v1/keys/${data.id}/activity`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: {
        networks: [
          { network: '198.51.100.0/24', firstSeenAt: iso(last), lastSeenAt: iso(last), count: 1 },
          { network: '2001:db8:abcd::/48', firstSeenAt: iso(first + 2 * MINUTE), lastSeenAt: iso(last), count: 2 },
          { network: '203.0.113.0/24', firstSeenAt: iso(first), lastSeenAt: iso(first + MINUTE), count: 2 },
        ],
        userAgents: [
          { userAgent: 'sdk/2.1', firstSeenAt: iso(first + 2 * MINUTE), lastSeenAt: iso(first + 2 * MINUTE), count: 1 },
          { userAgent: 'curl/8', firstSeenAt: iso(first), lastSeenAt: iso(first + MINUTE), count: 2 },
        ],
      },
    });

    // Counts add up across flushes, per network.
    t.clock.advance(HOUR);
    await verify(rawKey, { ip: '203.0.113.1' });
    const again = (await call(owner, 'GET', `/api/v1/keys/${data.id}/activity`)).json().data;
    expect(again.networks[0]).toEqual({ network: '203.0.113.0/24', firstSeenAt: iso(first), lastSeenAt: iso(t.clock.now()), count: 3 });

    // A key never used with a context has no activity; another team's key is not found; a viewer may read it.
    const quiet = await t.createKey(owner);
    expect((await call(owner, 'GET', `/api/v1/keys/${quiet.data.id}/activity`)).json()).toEqual({ data: { networks: [], userAgents: [] } });
    const stranger = await t.signup();
    expect((await call(stranger, 'GET', `/api/v1/keys/${data.id}/activity`)).statusCode).toBe(404);
    const viewer = await t.member(owner, 'viewer');
    expect((await call(viewer, 'GET', `/api/v1/keys/${data.id}/activity`, undefined, owner.team.id)).statusCode).toBe(200);
  });

  it('keeps at most 50 networks per key, the most recently seen', async () => {
    const owner = await t.signup();
    await putSettings(owner, { 'key.new_network': { enabled: false } });
    const { data, rawKey } = await t.createKey(owner);
    for (let batch = 0; batch < 4; batch += 1) {
      // 16 networks per flush are kept: each read below writes one batch.
      for (let i = 0; i < 16; i += 1) await verify(rawKey, { ip: `10.${batch}.${i}.1` });
      t.clock.advance(MINUTE);
      await alerts(owner);
    }
    const networks = (await call(owner, 'GET', `/api/v1/keys/${data.id}/activity`)).json().data.networks as Array<{ network: string }>;
    expect(networks).toHaveLength(50);
    // The 14 seen first went.
    expect(networks.map((n) => n.network)).not.toContain('10.0.0.0/24');
    expect(networks.map((n) => n.network)).toContain('10.3.15.0/24');
  });
});

describe('key.new_network', () => {
  it('raises one warning when a key is used from a network it has not used in 30 days; not on its first use, nor for steady traffic', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    // The very first use: its network is the baseline.
    await verify(rawKey, { ip: '203.0.113.7', userAgent: 'billing/1' });
    await expectNoAlerts(owner);
    // Steady calls from that network for days, other addresses of it included.
    for (let day = 0; day < 5; day += 1) {
      t.clock.advance(DAY);
      await verifyTimes(3, rawKey, { ip: `203.0.113.${day + 10}` });
      await expectNoAlerts(owner);
    }
    // Another network.
    await verify(rawKey, { ip: '198.51.100.23' });
    const alert = await onlyAlert(owner, 'key.new_network', 'warning');
    expect(alert).toMatchObject({ keyId: data.id, readAt: null, createdAt: iso(t.clock.now()) });
    expect(alert.details).toMatchObject({ network: '198.51.100.0/24', previouslySeenAt: null, keyName: 'Test key' });
    expect(alert.message).toContain('198.51.100.0/24');

    // Used from it again, and from the first one: no second alert.
    t.clock.advance(HOUR);
    await verify(rawKey, { ip: '198.51.100.24' });
    await verify(rawKey, { ip: '203.0.113.7' });
    expect((await alerts(owner)).total).toBe(1);

    // 31 days on the first network only; then the second one is new again.
    for (let day = 0; day < 31; day += 3) {
      t.clock.advance(3 * DAY);
      await verify(rawKey, { ip: '203.0.113.7' });
    }
    await verify(rawKey, { ip: '198.51.100.1' });
    const page = await alerts(owner);
    expect(page.data.map((a) => a.type)).toEqual(['key.new_network', 'key.new_network']);
    expect(page.data[0]?.details.previouslySeenAt).toEqual(expect.any(String));
  });

  it('raises one per new IPv6 /48, and none for another address in a /48 already used', async () => {
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner);
    await verify(rawKey, { ip: '2001:db8:abcd:12::1' });
    await verify(rawKey, { ip: '2001:db8:abcd:99::7' });
    await expectNoAlerts(owner);
    await verify(rawKey, { ip: '2001:db8:abce::1' });
    const alert = await onlyAlert(owner, 'key.new_network', 'warning');
    expect(alert.details.network).toBe('2001:db8:abce::/48');
  });

  it('raises nothing when the rule is disabled', async () => {
    const owner = await t.signup();
    await putSettings(owner, { 'key.new_network': { enabled: false } });
    const { rawKey } = await t.createKey(owner);
    await verify(rawKey, { ip: '203.0.113.7' });
    await verify(rawKey, { ip: '198.51.100.7' });
    await verify(rawKey, { ip: '2001:db8::1' });
    await expectNoAlerts(owner);
  });
});

describe('key.revoked_used', () => {
  it('raises one critical alert when a revoked key is still presented, at most one per key per hour', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    expect(await verify(rawKey)).toBe('VALID');
    await expectNoAlerts(owner);
    t.clock.advance(30 * MINUTE); // 12:30
    expect((await call(owner, 'DELETE', `/api/v1/keys/${data.id}`)).statusCode).toBe(200);
    expect(await verifyTimes(3, rawKey, { ip: '192.0.2.1' })).toEqual(['REVOKED', 'REVOKED', 'REVOKED']);
    const alert = await onlyAlert(owner, 'key.revoked_used', 'critical');
    expect(alert.keyId).toBe(data.id);
    expect(alert.details).toMatchObject({ status: 'revoked', count: 3, codes: { REVOKED: 3 } });

    // Within the hour, across the top of the clock hour too (13:10): still one.
    t.clock.advance(20 * MINUTE);
    await verify(rawKey);
    expect((await alerts(owner)).total).toBe(1);
    t.clock.advance(20 * MINUTE);
    await verify(rawKey);
    expect((await alerts(owner)).total).toBe(1);
    // An hour after the first (13:35): a second one.
    t.clock.advance(25 * MINUTE);
    await verify(rawKey);
    const page = await alerts(owner);
    expect(page.data.map((a) => a.type)).toEqual(['key.revoked_used', 'key.revoked_used']);
  });

  it('raises one for a disabled key and one for an expired key, and none for other rejections', async () => {
    const owner = await t.signup();
    const disabled = await t.createKey(owner, { name: 'Disabled' });
    const expiring = await t.createKey(owner, { name: 'Expiring', expiresAt: iso(START + HOUR) });
    const scoped = await t.createKey(owner, { name: 'Scoped', scopes: ['read'] });
    const limited = await t.createKey(owner, { name: 'Limited', rateLimit: { limit: 1, windowSeconds: 60 } });
    const credits = await t.createKey(owner, { name: 'No credits', credits: { limit: 0 } });
    expect((await call(owner, 'PATCH', `/api/v1/keys/${disabled.data.id}`, { enabled: false })).statusCode).toBe(200);
    // Rejections that are no sign of a leaked, retired key.
    expect(await verify(scoped.rawKey, undefined, { scopes: ['admin'] })).toBe('INSUFFICIENT_SCOPES');
    expect(await verifyTimes(3, limited.rawKey)).toEqual(['VALID', 'RATE_LIMITED', 'RATE_LIMITED']);
    expect(await verify(credits.rawKey)).toBe('USAGE_EXCEEDED');
    await expectNoAlerts(owner);

    expect(await verifyTimes(2, disabled.rawKey)).toEqual(['INACTIVE', 'INACTIVE']);
    t.clock.advance(2 * HOUR);
    expect(await verify(expiring.rawKey)).toBe('EXPIRED');
    const page = await alerts(owner);
    expect(page.data.map((a) => [a.type, a.severity, a.keyId, a.details.status])).toEqual(
      expect.arrayContaining([
        ['key.revoked_used', 'critical', disabled.data.id, 'inactive'],
        ['key.revoked_used', 'critical', expiring.data.id, 'expired'],
      ]),
    );
    expect(page.total).toBe(2);
  });

  it('raises one when the old secret of a regenerated key is presented', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    const res = await call(owner, 'POST', `/api/v1/keys/${data.id}/regenerate`, {});
    expect(res.statusCode).toBe(200);
    expect(await verify(res.json().rawKey)).toBe('VALID');
    expect(await verifyTimes(2, rawKey)).toEqual(['REVOKED', 'REVOKED']);
    const alert = await onlyAlert(owner, 'key.revoked_used', 'critical');
    expect(alert.message).toContain('old secret');
    expect(alert.details).toMatchObject({ status: 'active', count: 2 });
  });

  it('raises nothing when the rule is disabled', async () => {
    const owner = await t.signup();
    await putSettings(owner, { 'key.revoked_used': { enabled: false } });
    const { data, rawKey } = await t.createKey(owner);
    await call(owner, 'DELETE', `/api/v1/keys/${data.id}`);
    expect(await verifyTimes(5, rawKey)).toEqual(Array(5).fill('REVOKED'));
    await expectNoAlerts(owner);
  });
});

describe('key.usage_spike', () => {
  it('raises one warning when calls in the last hour are over 5× the hourly average and at least 100', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    // Five quiet hours: 2 calls each.
    for (let h = 0; h < 5; h += 1) {
      t.clock.set(START + h * HOUR + 30 * MINUTE);
      await verifyTimes(2, rawKey);
      await expectNoAlerts(owner);
    }
    // Then 150 in one hour.
    t.clock.set(START + 5 * HOUR + 30 * MINUTE);
    await verifyTimes(150, rawKey);
    const alert = await onlyAlert(owner, 'key.usage_spike', 'warning');
    expect(alert.keyId).toBe(data.id);
    expect(alert.details).toMatchObject({ calls: 151, hourlyAverage: 2, baselineHours: 5, factor: 5, minCalls: 100 });
    // More of the same within the hour: no second alert.
    t.clock.advance(10 * MINUTE);
    await verifyTimes(30, rawKey);
    expect((await alerts(owner)).total).toBe(1);
  });

  it('raises nothing for steady traffic, however busy, nor for a burst under 100 calls, nor for a key in its first hour', async () => {
    const owner = await t.signup();
    const steady = await t.createKey(owner, { name: 'Steady' });
    const small = await t.createKey(owner, { name: 'Small' });
    // A new key's first hour has no baseline: 120 calls at once are no spike.
    await verifyTimes(120, steady.rawKey);
    await verify(small.rawKey);
    await expectNoAlerts(owner);
    for (let h = 1; h <= 3; h += 1) {
      t.clock.set(START + h * HOUR + 10 * MINUTE);
      await verifyTimes(110, steady.rawKey);
      await expectNoAlerts(owner);
    }
    // 60 calls against an average under 1: over 5×, but under 100.
    await verifyTimes(60, small.rawKey);
    await expectNoAlerts(owner);
  });

  it('follows the team thresholds, and raises nothing when disabled', async () => {
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner);
    await putSettings(owner, { 'key.usage_spike': { enabled: true, factor: 2, minCalls: 10 } });
    t.clock.set(START + HOUR + 30 * MINUTE);
    await verifyTimes(12, rawKey);
    expect((await onlyAlert(owner, 'key.usage_spike', 'warning')).details).toMatchObject({ calls: 12, factor: 2, minCalls: 10 });

    const other = await t.signup();
    const key = await t.createKey(other);
    await putSettings(other, { 'key.usage_spike': { enabled: false, factor: 2, minCalls: 10 } });
    t.clock.set(START + 2 * HOUR + 30 * MINUTE);
    await verifyTimes(12, key.rawKey);
    await expectNoAlerts(other);
  });
});

describe('key.credits_low', () => {
  it("raises one warning when a key's remaining credits fall under 10 % of its limit", async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner, { credits: { limit: 100 } });
    await verifyTimes(90, rawKey);
    // 10 left: not under 10 %.
    await expectNoAlerts(owner);
    await verify(rawKey);
    const alert = await onlyAlert(owner, 'key.credits_low', 'warning');
    expect(alert).toMatchObject({ keyId: data.id, details: { subject: 'key', remaining: 9, limit: 100, percent: 10 } });
    await verifyTimes(5, rawKey);
    expect((await alerts(owner)).total).toBe(1);
    // New credits re-arm it.
    t.clock.advance(MINUTE);
    expect((await call(owner, 'PATCH', `/api/v1/keys/${data.id}`, { credits: { limit: 20 } })).statusCode).toBe(200);
    await verifyTimes(18, rawKey);
    // 2 left of 20: not under 10 %; 1 left is.
    expect((await alerts(owner)).total).toBe(1);
    await verify(rawKey);
    expect((await alerts(owner)).data.map((a) => a.details.remaining)).toEqual([1, 9]);
  });

  it("raises one team-wide warning when the team's balance falls under 10 % of the balance set", async () => {
    const owner = await t.signup();
    expect((await call(owner, 'PATCH', '/api/v1/team', { credits: { balance: 50 } })).statusCode).toBe(200);
    const { rawKey } = await t.createKey(owner);
    await verifyTimes(45, rawKey);
    await expectNoAlerts(owner);
    await verify(rawKey);
    const alert = await onlyAlert(owner, 'key.credits_low', 'warning');
    expect(alert).toMatchObject({ keyId: null, details: { subject: 'team', remaining: 4, limit: 50 } });
    await verifyTimes(2, rawKey);
    expect((await alerts(owner)).total).toBe(1);
  });

  it('raises nothing for keys with plenty of credits or none, and nothing when disabled', async () => {
    const owner = await t.signup();
    const plenty = await t.createKey(owner, { credits: { limit: 1000 } });
    const unlimited = await t.createKey(owner);
    await verifyTimes(20, plenty.rawKey);
    await verifyTimes(20, unlimited.rawKey);
    await expectNoAlerts(owner);

    const other = await t.signup();
    await putSettings(other, { 'key.credits_low': { enabled: false } });
    const low = await t.createKey(other, { credits: { limit: 10 } });
    await verifyTimes(10, low.rawKey);
    await expectNoAlerts(other);
  });
});

describe('key.expiring_soon and key.unused (the sweep)', () => {
  const sweep = () => t.app.alerts.runSweep();

  it('raises one info alert for a key that expires within 7 days, once', async () => {
    const owner = await t.signup();
    const soon = await t.createKey(owner, { name: 'Soon', expiresAt: iso(START + 10 * DAY) });
    await t.createKey(owner, { name: 'Later', expiresAt: iso(START + 60 * DAY) });
    await t.createKey(owner, { name: 'Never' });
    expect(await sweep()).toBe(0);
    t.clock.advance(4 * DAY);
    expect(await sweep()).toBe(1);
    const alert = await onlyAlert(owner, 'key.expiring_soon', 'info');
    expect(alert).toMatchObject({ keyId: soon.data.id, details: { expiresAt: iso(START + 10 * DAY), days: 7 } });
    t.clock.advance(DAY);
    expect(await sweep()).toBe(0);
    expect((await alerts(owner)).total).toBe(1);
    // Once expired it raises nothing more.
    t.clock.advance(6 * DAY);
    expect(await sweep()).toBe(0);
  });

  it('raises one info alert for an active key not used for 90 days, once; none for keys used recently', async () => {
    const owner = await t.signup();
    const idle = await t.createKey(owner, { name: 'Idle' });
    const busy = await t.createKey(owner, { name: 'Busy' });
    const gone = await t.createKey(owner, { name: 'Revoked' });
    const off = await t.createKey(owner, { name: 'Disabled' });
    await call(owner, 'DELETE', `/api/v1/keys/${gone.data.id}`);
    await call(owner, 'PATCH', `/api/v1/keys/${off.data.id}`, { enabled: false });
    await verify(idle.rawKey);
    t.clock.advance(89 * DAY);
    await verify(busy.rawKey);
    expect(await sweep()).toBe(0);
    t.clock.advance(2 * DAY);
    expect(await sweep()).toBe(1);
    const alert = await onlyAlert(owner, 'key.unused', 'info');
    expect(alert).toMatchObject({ keyId: idle.data.id, details: { lastUsedAt: iso(START), days: 90 } });
    expect(await sweep()).toBe(0);
    // Used again, then idle again for 90 days: once more.
    await verify(idle.rawKey);
    t.clock.advance(91 * DAY);
    await verify(busy.rawKey);
    expect(await sweep()).toBe(1);
    expect((await alerts(owner, '?type=key.unused')).data.map((a) => a.keyId)).toEqual([idle.data.id, idle.data.id]);
  });

  it('follows the team thresholds, and raises nothing when disabled', async () => {
    const owner = await t.signup();
    await putSettings(owner, { 'key.expiring_soon': { enabled: true, days: 30 }, 'key.unused': { enabled: false } });
    await t.createKey(owner, { expiresAt: iso(START + 20 * DAY) });
    await t.createKey(owner, { name: 'Idle' });
    expect(await sweep()).toBe(1);
    await onlyAlert(owner, 'key.expiring_soon', 'info');
    t.clock.advance(100 * DAY);
    expect(await sweep()).toBe(0);
  });
});

describe('GET /api/v1/alerts', () => {
  /** Five revoked keys presented: five critical alerts, a second apart. */
  async function fiveAlerts(owner: TestUser): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { data, rawKey } = await t.createKey(owner, { name: `Key ${i}` });
      await call(owner, 'DELETE', `/api/v1/keys/${data.id}`);
      await verify(rawKey);
      ids.unshift((await alerts(owner)).data[0]?.id as string);
      t.clock.advance(1000);
    }
    return ids;
  }

  it('pages newest first, back and forth, and filters by type and by unread', async () => {
    const owner = await t.signup();
    const ids = await fiveAlerts(owner);
    const { rawKey } = await t.createKey(owner);
    await verify(rawKey, { ip: '203.0.113.1' });
    await verify(rawKey, { ip: '198.51.100.1' });
    const all = await alerts(owner);
    expect(all.total).toBe(6);
    expect(all.data[0]?.type).toBe('key.new_network');

    const first = await alerts(owner, '?type=key.revoked_used&limit=2');
    expect(first.data.map((a) => a.id)).toEqual(ids.slice(0, 2));
    expect(first).toMatchObject({ total: 5, prevCursor: null, nextCursor: expect.any(String) });
    const second = await alerts(owner, `?type=key.revoked_used&limit=2&cursor=${first.nextCursor}`);
    expect(second.data.map((a) => a.id)).toEqual(ids.slice(2, 4));
    const back = await alerts(owner, `?type=key.revoked_used&limit=2&cursor=${second.prevCursor}`);
    expect(back.data.map((a) => a.id)).toEqual(ids.slice(0, 2));
    const last = await alerts(owner, `?type=key.revoked_used&limit=2&cursor=${second.nextCursor}`);
    expect(last).toMatchObject({ data: [expect.objectContaining({ id: ids[4] })], nextCursor: null });
    expect((await alerts(owner, '?type=key.unused')).total).toBe(0);

    // By key: only that key's alerts, and none of a key without any.
    const ofOne = await alerts(owner, `?keyId=${all.data[1]?.keyId}`);
    expect(ofOne).toMatchObject({ total: 1, data: [expect.objectContaining({ id: all.data[1]?.id })] });
    const quiet = await t.createKey(owner);
    expect((await alerts(owner, `?keyId=${quiet.data.id}`)).total).toBe(0);

    // Read one: it leaves the unread filter and joins the read one.
    const readAt = t.clock.now();
    const res = await call(owner, 'POST', `/api/v1/alerts/${ids[1]}/read`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ id: ids[1], readAt: iso(readAt) });
    t.clock.advance(MINUTE);
    // Reading it again keeps the first time.
    expect((await call(owner, 'POST', `/api/v1/alerts/${ids[1]}/read`, {})).json().data.readAt).toBe(iso(readAt));
    expect((await alerts(owner, '?unread=true')).data.map((a) => a.id)).not.toContain(ids[1]);
    expect((await alerts(owner, '?unread=true')).total).toBe(5);
    expect((await alerts(owner, '?unread=false')).data.map((a) => a.id)).toEqual([ids[1]]);

    // Read all: the rest.
    const readAll = await call(owner, 'POST', '/api/v1/alerts/read-all');
    expect(readAll.json()).toEqual({ data: { updated: 5 } });
    expect((await alerts(owner, '?unread=true')).total).toBe(0);
    expect((await alerts(owner)).data.every((a) => a.readAt !== null)).toBe(true);
    expect((await call(owner, 'POST', '/api/v1/alerts/read-all', {})).json()).toEqual({ data: { updated: 0 } });
  });

  it('refuses bad queries, unknown alerts and bodies with fields (400/404)', async () => {
    const owner = await t.signup();
    for (const query of ['?type=key.exploded', '?unread=maybe', '?limit=0', '?limit=101', '?cursor=nonsense', '?bogus=1', '?keyId=team_1', '?keyId=key_%00']) {
      expect((await call(owner, 'GET', `/api/v1/alerts${query}`)).statusCode, query).toBe(400);
    }
    expect((await call(owner, 'POST', '/api/v1/alerts/alr_doesnotexist/read')).statusCode).toBe(404);
    expect((await call(owner, 'POST', '/api/v1/alerts/not-an-id/read')).statusCode).toBe(400);
    const [id] = await fiveAlerts(owner);
    const res = await call(owner, 'POST', `/api/v1/alerts/${id}/read`, { readAt: iso(START) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].path).toBe('readAt');
    expect((await alerts(owner, '?unread=true')).total).toBe(5);
  });

  it("lets every role read and mark alerts; another team's alert is 404, and their alerts are their own", async () => {
    const owner = await t.signup();
    const [id] = await fiveAlerts(owner);
    const viewer = await t.member(owner, 'viewer');
    expect((await alerts(viewer, '', owner.team.id)).total).toBe(5);
    expect((await call(viewer, 'POST', `/api/v1/alerts/${id}/read`, undefined, owner.team.id)).statusCode).toBe(200);
    const stranger = await t.signup();
    expect((await alerts(stranger)).total).toBe(0);
    expect((await call(stranger, 'POST', `/api/v1/alerts/${id}/read`)).statusCode).toBe(404);
    expect((await call(stranger, 'POST', `/api/v1/alerts/${id}/read`, undefined, owner.team.id)).statusCode).toBe(404);
    expect((await t.request({ method: 'POST', url: `/api/v1/alerts/${id}/read`, token: true, teamId: stranger.team.id, body: {} })).statusCode).toBe(404);
    expect((await call(stranger, 'POST', '/api/v1/alerts/read-all')).json()).toEqual({ data: { updated: 0 } });
    expect((await alerts(owner, '?unread=true')).total).toBe(4);
  });
});

describe('alert settings', () => {
  const DEFAULTS = {
    'key.new_network': { enabled: true },
    'key.revoked_used': { enabled: true },
    'key.usage_spike': { enabled: true, factor: 5, minCalls: 100 },
    'key.credits_low': { enabled: true, percent: 10 },
    'key.expiring_soon': { enabled: true, days: 7 },
    'key.unused': { enabled: true, days: 90 },
  };

  it('answers the defaults until the team saves its own; PUT replaces them all, audited', async () => {
    const owner = await t.signup();
    expect((await call(owner, 'GET', '/api/v1/alert-settings')).json()).toEqual({ data: { rules: DEFAULTS, updatedAt: null } });
    const saved = await putSettings(owner, { 'key.usage_spike': { enabled: true, factor: 3 }, 'key.unused': { enabled: false, days: 30 } });
    const expected = { ...DEFAULTS, 'key.usage_spike': { enabled: true, factor: 3, minCalls: 100 }, 'key.unused': { enabled: false, days: 30 } };
    expect(saved).toEqual({ rules: expected, updatedAt: iso(t.clock.now()) });
    expect((await call(owner, 'GET', '/api/v1/alert-settings')).json().data).toEqual(saved);
    // A second PUT replaces: what it leaves out is back at the default.
    t.clock.advance(MINUTE);
    const replaced = await putSettings(owner, { 'key.revoked_used': { enabled: false } });
    expect(replaced.rules).toEqual({ ...DEFAULTS, 'key.revoked_used': { enabled: false } });
    const audit = (await call(owner, 'GET', '/api/v1/audit-logs?action=alert_settings.updated')).json();
    expect(audit.total).toBe(2);
    expect(audit.data[0].details).toEqual({ rules: ['key.revoked_used'], disabled: ['key.revoked_used'] });
    // Another team keeps its defaults.
    const stranger = await t.signup();
    expect((await call(stranger, 'GET', '/api/v1/alert-settings')).json().data).toEqual({ rules: DEFAULTS, updatedAt: null });
  });

  it('validates strictly: unknown rules and fields, a missing enabled, thresholds out of range (400)', async () => {
    const owner = await t.signup();
    const cases: unknown[] = [
      {},
      { rules: { 'key.exploded': { enabled: true } } },
      { rules: { 'key.new_network': { enabled: true, days: 3 } } },
      { rules: { 'key.new_network': {} } },
      { rules: { 'key.new_network': { enabled: 'yes' } } },
      { rules: { 'key.usage_spike': { enabled: true, factor: 0.5 } } },
      { rules: { 'key.usage_spike': { enabled: true, minCalls: 0 } } },
      { rules: { 'key.usage_spike': { enabled: true, minCalls: 1.5 } } },
      { rules: { 'key.credits_low': { enabled: true, percent: 0 } } },
      { rules: { 'key.credits_low': { enabled: true, percent: 100 } } },
      { rules: { 'key.expiring_soon': { enabled: true, days: 0 } } },
      { rules: { 'key.unused': { enabled: true, days: 99999 } } },
      { rules: {}, teamId: owner.team.id },
      { rules: [] },
    ];
    for (const body of cases) {
      const res = await call(owner, 'PUT', '/api/v1/alert-settings', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await call(owner, 'GET', '/api/v1/alert-settings')).json().data.updatedAt).toBeNull();
  });

  it('needs members.manage to change: 403 for a developer and a viewer, who may still read them', async () => {
    const owner = await t.signup();
    for (const role of ['developer', 'viewer'] as const) {
      const person = await t.member(owner, role);
      const res = await call(person, 'PUT', '/api/v1/alert-settings', { rules: { 'key.unused': { enabled: false } } }, owner.team.id);
      expect(res.statusCode, role).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
      expect((await call(person, 'GET', '/api/v1/alert-settings', undefined, owner.team.id)).statusCode).toBe(200);
    }
    const admin = await t.member(owner, 'admin');
    expect((await call(admin, 'PUT', '/api/v1/alert-settings', { rules: { 'key.unused': { enabled: false } } }, owner.team.id)).statusCode).toBe(200);
    expect((await call(owner, 'GET', '/api/v1/alert-settings')).json().data.rules['key.unused']).toEqual({ enabled: false, days: 90 });
    // Another team: 404.
    const stranger = await t.signup();
    expect((await call(stranger, 'PUT', '/api/v1/alert-settings', { rules: {} }, owner.team.id)).statusCode).toBe(404);
    expect((await call(stranger, 'GET', '/api/v1/alert-settings', undefined, owner.team.id)).statusCode).toBe(404);
  });
});

describe('alerts and their webhook events in one transaction', () => {
  it('keeps neither when the deliveries cannot be stored, and raises the alert once they can', async () => {
    const deliveries = deliveriesThatFail();
    await t.close();
    t = await buildTestApp({ start: START, env: ENV, wrapStore: deliveries.wrapStore });
    const owner = await t.signup();
    const hook = await call(owner, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/', events: ['key.revoked_used'] });
    expect(hook.statusCode, hook.body).toBe(201);
    const deliveriesOfHook = async () => (await call(owner, 'GET', `/api/v1/webhooks/${hook.json().data.id}/deliveries`)).json().data.map((d: { type: string }) => d.type);
    const { data, rawKey } = await t.createKey(owner);
    expect((await call(owner, 'DELETE', `/api/v1/keys/${data.id}`)).statusCode).toBe(200);

    deliveries.fail(true);
    expect(await verify(rawKey)).toBe('REVOKED');
    await expectNoAlerts(owner);
    await t.app.alerts.settle();
    expect(t.logs.join('\n')).toContain('alerts: storing a key.revoked_used alert (will retry) failed');
    expect(t.logs.join('\n')).toContain('disk full');
    expect(await deliveriesOfHook()).toEqual([]);

    deliveries.fail(false);
    // The sweep tries it again, as found: one use, at the time of that use.
    expect(await t.app.alerts.runSweep()).toBe(1);
    const alert = await onlyAlert(owner, 'key.revoked_used', 'critical');
    expect(alert).toMatchObject({ keyId: data.id, createdAt: iso(START), details: { count: 1 } });
    expect(await deliveriesOfHook()).toEqual(['key.revoked_used']);
    // Stored once: neither another try nor another use within the hour makes a second.
    expect(await t.app.alerts.runSweep()).toBe(0);
    expect(await verify(rawKey)).toBe('REVOKED');
    expect((await alerts(owner)).total).toBe(1);
    expect(await deliveriesOfHook()).toEqual(['key.revoked_used']);
  });

  it('tries an alert that could not be stored once more when the instance stops', async () => {
    const deliveries = deliveriesThatFail();
    await t.close();
    t = await buildTestApp({ start: START, env: ENV, wrapStore: deliveries.wrapStore });
    const owner = await t.signup();
    expect((await call(owner, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/', events: ['key.revoked_used'] })).statusCode).toBe(201);
    const { data, rawKey } = await t.createKey(owner);
    expect((await call(owner, 'DELETE', `/api/v1/keys/${data.id}`)).statusCode).toBe(200);
    deliveries.fail(true);
    expect(await verify(rawKey)).toBe('REVOKED');
    await expectNoAlerts(owner);
    deliveries.fail(false);
    await t.app.close();
    const { rows } = await sql<{ type: string; key_id: string }>`select type, key_id from alerts`.execute(t.handle.db);
    expect(rows).toEqual([{ type: 'key.revoked_used', key_id: data.id }]);
  });

  it('puts the usage back when the rules cannot read the keys, and judges it with the next flush', async () => {
    let failing = false;
    await t.close();
    t = await buildTestApp({
      start: START,
      env: ENV,
      wrapStore: (store) => ({
        ...store,
        alerts: { ...store.alerts, keyFacts: (ids) => (failing ? Promise.reject(new Error('connection reset')) : store.alerts.keyFacts(ids)) },
      }),
    });
    const owner = await t.signup();
    const revoked = await t.createKey(owner);
    const other = await t.createKey(owner);
    expect((await call(owner, 'DELETE', `/api/v1/keys/${revoked.data.id}`)).statusCode).toBe(200);

    failing = true;
    expect(await verifyTimes(2, revoked.rawKey)).toEqual(['REVOKED', 'REVOKED']);
    await expectNoAlerts(owner);
    expect(t.logs.join('\n')).toMatch(/alerts: evaluating alert rules failed/);

    failing = false;
    // Another key's use flushes a batch that says nothing of the revoked key; the work put back does.
    expect(await verify(other.rawKey)).toBe('VALID');
    const alert = await onlyAlert(owner, 'key.revoked_used', 'critical');
    expect(alert).toMatchObject({ keyId: revoked.data.id, details: { count: 2, codes: { REVOKED: 2 } } });
  });
});

describe('alerts as webhook events', () => {
  interface Hit {
    headers: IncomingHttpHeaders;
    body: string;
  }

  async function receiver() {
    const hits: Hit[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end('thanks');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { hits, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
  }

  it('sends a key.revoked_used alert to a webhook subscribed to it, and not to one that is not', async () => {
    const owner = await t.signup();
    const subscribed = await receiver();
    const other = await receiver();
    for (const [r, events] of [
      [subscribed, ['key.revoked_used']],
      [other, ['key.new_network', 'key.created']],
    ] as const) {
      expect((await call(owner, 'POST', '/api/v1/webhooks', { url: r.url, events })).statusCode).toBe(201);
    }
    const { data, rawKey } = await t.createKey(owner);
    await call(owner, 'DELETE', `/api/v1/keys/${data.id}`);
    await verify(rawKey);
    const alert = await onlyAlert(owner, 'key.revoked_used', 'critical');
    await t.app.webhookDelivery.runDue();
    expect(subscribed.hits).toHaveLength(1);
    const event = JSON.parse(subscribed.hits[0]?.body ?? '{}');
    expect(event).toEqual({
      id: expect.stringMatching(/^evt_/),
      type: 'key.revoked_used',
      createdAt: alert.createdAt,
      data: { alert, key: { id: data.id, name: 'Test key', prefix: data.prefix }, teamId: owner.team.id },
    });
    expect(subscribed.hits[0]?.headers['keysmith-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    // The other webhook got key.created only.
    expect(other.hits.map((h) => JSON.parse(h.body).type)).toEqual(['key.created']);
    // The same condition again raises (and sends) nothing more.
    await verify(rawKey);
    await alerts(owner);
    expect(await t.app.webhookDelivery.runDue()).toBe(0);
  });
});

describe('evaluation off the verification path', () => {
  it('answers verifications while the rules cannot run, and logs the failure', async () => {
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner);
    await call(owner, 'DELETE', `/api/v1/keys/${data.id}`);
    // The alerts table gone: every rule fails, yet verification and usage go on. (Under the
    // schema lock: other tests' migrations scan every schema's tables.)
    await withSchemaLock('exclusive', () => sql`drop table alerts`.execute(t.handle.db));
    expect(await verifyTimes(3, rawKey)).toEqual(['REVOKED', 'REVOKED', 'REVOKED']);
    const usage = await call(owner, 'GET', `/api/v1/keys/${data.id}/usage?from=${iso(START)}&to=${iso(START + HOUR)}&interval=hour`);
    expect(usage.json().data).toEqual([{ t: iso(START), valid: 0, rejected: 3, creditsUsed: 0 }]);
    await t.app.alerts.settle();
    expect(t.logs.join('\n')).toMatch(/alerts: .* failed/);
  });
});
