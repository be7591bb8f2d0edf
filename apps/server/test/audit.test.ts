import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, PASSWORD, type TestApp, type TestUser } from './helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

interface Entry {
  id: string;
  action: string;
  actor: { type: string; id: string; label: string };
  target: { type: string; id: string; label: string };
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  details: Record<string, unknown>;
}

async function list(caller: TestUser, query = '', teamId = caller.team.id) {
  const res = await t.request({ url: `/api/v1/audit-logs${query}`, cookie: caller.cookie, teamId });
  expect(res.statusCode).toBe(200);
  return res.json() as { data: Entry[]; nextCursor: string | null; prevCursor: string | null; total: number };
}

async function rename(owner: TestUser, name: string) {
  const res = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: owner.cookie, body: { name } });
  expect(res.statusCode).toBe(200);
}

describe('GET /api/v1/audit-logs', () => {
  it('records a team change with the full entry shape', async () => {
    const ada = await t.signup({ name: 'Ada' });
    const res = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: ada.cookie, body: { name: 'Analytical' }, headers: { 'user-agent': 'audit-test/1.0' } });
    expect(res.statusCode).toBe(200);
    const { data } = await list(ada, '?action=team.updated');
    expect(data).toHaveLength(1);
    const entry = data[0] as Entry;
    expect(Object.keys(entry).sort()).toEqual(['action', 'actor', 'createdAt', 'details', 'id', 'ip', 'target', 'userAgent']);
    expect(entry).toEqual({
      id: expect.any(String),
      action: 'team.updated',
      actor: { type: 'user', id: ada.user.id, label: ada.user.email },
      target: { type: 'team', id: ada.team.id, label: 'Analytical' },
      ip: '127.0.0.1',
      userAgent: 'audit-test/1.0',
      createdAt: '2026-11-20T12:00:00.000Z',
      details: expect.any(Object),
    });
  });

  it('records logins and failed logins in the personal team, without the password', async () => {
    const ada = await t.signup({ email: 'ada@example.com' });
    const wrong = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'ada@example.com', password: 'not my password' } });
    expect(wrong.statusCode).toBe(401);
    const right = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'ada@example.com', password: PASSWORD } });
    expect(right.statusCode).toBe(200);

    const failed = (await list(ada, '?action=auth.login_failed')).data;
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ actor: { id: ada.user.id }, target: { type: 'user', id: ada.user.id } });
    const logins = (await list(ada, '?action=auth.login')).data;
    expect(logins).toHaveLength(1);
    expect(logins[0]).toMatchObject({ actor: { type: 'user', id: ada.user.id }, target: { type: 'user', id: ada.user.id } });

    const all = JSON.stringify((await list(ada, '?limit=100')).data);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain('not my password');
  });

  it('keeps login entries out of the other teams a person belongs to', async () => {
    const ada = await t.signup();
    const bob = await t.member(ada, 'admin');
    await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: bob.user.email, password: PASSWORD } });
    expect((await list(bob, '?action=auth.login', ada.team.id)).total).toBe(0);
    expect((await list(bob, '?action=auth.login')).total).toBe(1);
  });

  it('pages newest first with nextCursor, prevCursor and total', async () => {
    const ada = await t.signup();
    for (let i = 1; i <= 5; i += 1) {
      t.clock.advance(1000);
      await rename(ada, `Name ${i}`);
    }
    const first = await list(ada, '?action=team.updated&limit=2');
    expect(first.total).toBe(5);
    expect(first.data.map((e) => e.target.label)).toEqual(['Name 5', 'Name 4']);
    expect(first.prevCursor).toBeNull();
    expect(first.nextCursor).toEqual(expect.any(String));

    const second = await list(ada, `?action=team.updated&limit=2&cursor=${first.nextCursor}`);
    expect(second.data.map((e) => e.target.label)).toEqual(['Name 3', 'Name 2']);
    expect(second.total).toBe(5);
    expect(second.prevCursor).toEqual(expect.any(String));

    const third = await list(ada, `?action=team.updated&limit=2&cursor=${second.nextCursor}`);
    expect(third.data.map((e) => e.target.label)).toEqual(['Name 1']);
    expect(third.nextCursor).toBeNull();

    const back = await list(ada, `?action=team.updated&limit=2&cursor=${second.prevCursor}`);
    expect(back.data.map((e) => e.target.label)).toEqual(['Name 5', 'Name 4']);

    const times = (await list(ada, '?limit=100')).data.map((e) => e.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('keeps a stable newest-first order for entries written in the same millisecond', async () => {
    const ada = await t.signup();
    for (let i = 1; i <= 4; i += 1) await rename(ada, `Same ${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(ada, `?action=team.updated&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    expect(seen).toEqual((await list(ada, '?action=team.updated')).data.map((e) => e.id));
  });

  it('filters by action and by targetId', async () => {
    const ada = await t.signup();
    const dev = await t.member(ada, 'developer');
    const viewer = await t.member(ada, 'viewer');
    await t.request({ method: 'PATCH', url: `/api/v1/team/members/${dev.user.id}`, cookie: ada.cookie, body: { role: 'admin' } });
    await t.request({ method: 'PATCH', url: `/api/v1/team/members/${viewer.user.id}`, cookie: ada.cookie, body: { role: 'developer' } });

    const joined = await list(ada, '?action=member.joined');
    expect(joined.total).toBe(2);
    expect(joined.data.every((e) => e.action === 'member.joined')).toBe(true);

    const aboutDev = await list(ada, `?targetId=${dev.user.id}`);
    expect(aboutDev.data.map((e) => e.action).sort()).toEqual(['member.joined', 'member.role_changed']);
    expect(aboutDev.data.every((e) => e.target.id === dev.user.id)).toBe(true);

    const both = await list(ada, `?action=member.role_changed&targetId=${viewer.user.id}`);
    expect(both.total).toBe(1);
    expect(both.data[0]?.details).toMatchObject({ from: 'viewer', to: 'developer' });
  });

  it('refuses an action that is not in the catalog', async () => {
    const ada = await t.signup();
    const res = await t.request({ url: '/api/v1/audit-logs?action=team.exploded', cookie: ada.cookie });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].path).toBe('action');
  });

  it('shows the log to owners and admins, and answers 403 to developers and viewers', async () => {
    const ada = await t.signup();
    const admin = await t.member(ada, 'admin');
    const dev = await t.member(ada, 'developer');
    const viewer = await t.member(ada, 'viewer');
    expect((await list(ada)).total).toBeGreaterThan(0);
    expect((await list(admin, '', ada.team.id)).total).toBeGreaterThan(0);
    for (const person of [dev, viewer]) {
      const res = await t.request({ url: '/api/v1/audit-logs', cookie: person.cookie, teamId: ada.team.id });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
  });

  it('shows only the entries of the team it is asked for', async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    await rename(bob, 'Bob secret team');
    const adas = (await list(ada, '?limit=100')).data;
    expect(adas.some((e) => e.target.id === bob.team.id)).toBe(false);
    expect(JSON.stringify(adas)).not.toContain('Bob secret team');
  });

  it('lets a service token read a team log with X-Team-Id and records its changes as the service', async () => {
    const ada = await t.signup();
    const change = await t.request({ method: 'PATCH', url: '/api/v1/team', token: true, teamId: ada.team.id, body: { name: 'Renamed by CI' } });
    expect(change.statusCode).toBe(200);
    const created = await t.request({ method: 'POST', url: '/api/v1/keys', token: true, teamId: ada.team.id, body: { name: 'from CI' } });
    expect(created.statusCode).toBe(201);

    const res = await t.request({ url: '/api/v1/audit-logs?limit=100', token: true, teamId: ada.team.id });
    expect(res.statusCode).toBe(200);
    const entries = res.json().data as Entry[];
    const updated = entries.find((e) => e.action === 'team.updated');
    expect(updated?.actor).toEqual({ type: 'service', id: expect.any(String), label: expect.any(String) });
    const keyCreated = entries.find((e) => e.action === 'key.created');
    expect(keyCreated?.actor.type).toBe('service');
    expect(keyCreated?.target.id).toBe(created.json().data.id);
    // The service token itself is in no entry.
    expect(JSON.stringify(entries)).not.toContain('svc_test_token');
  });
});
