import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, type TestUser } from './helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

const DAY = 24 * 3600 * 1000;

interface AuditRow {
  action: string;
  actor: { type: string; id: string; label: string };
  target: { type: string; id: string; label: string };
  details: Record<string, unknown>;
}

/** The team's audit entries (read as the service token, which may read any team's log). */
async function auditOf(teamId: string, action?: string): Promise<AuditRow[]> {
  const res = await t.request({ url: `/api/v1/audit-logs?limit=100${action ? `&action=${action}` : ''}`, token: true, teamId });
  expect(res.statusCode).toBe(200);
  return res.json().data as AuditRow[];
}

async function membersOf(owner: TestUser, teamId = owner.team.id) {
  const res = await t.request({ url: '/api/v1/team/members', cookie: owner.cookie, teamId });
  expect(res.statusCode).toBe(200);
  return res.json().data as { userId: string; email: string; name: string; role: string; joinedAt: string }[];
}

async function invite(owner: TestUser, email: string, role: string, teamId = owner.team.id) {
  return t.request({ method: 'POST', url: '/api/v1/team/invitations', cookie: owner.cookie, teamId, body: { email, role } });
}

describe('teams', () => {
  it('lists the teams a person belongs to with their role', async () => {
    const ada = await t.signup();
    const res = await t.request({ url: '/api/v1/teams', cookie: ada.cookie });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ data: [{ id: ada.team.id, name: ada.team.name, role: 'owner' }] });
  });

  it('creates a team with its creator as owner and audits team.created', async () => {
    const ada = await t.signup();
    const res = await t.request({ method: 'POST', url: '/api/v1/teams', cookie: ada.cookie, body: { name: '  Platform  ' } });
    expect(res.statusCode).toBe(201);
    const team = res.json().data;
    expect(team).toEqual({ id: expect.stringMatching(/^team_/), name: 'Platform', role: 'owner' });

    const list = await t.request({ url: '/api/v1/teams', cookie: ada.cookie });
    expect(list.json().data).toEqual(expect.arrayContaining([{ id: team.id, name: 'Platform', role: 'owner' }]));
    expect(list.json().data).toHaveLength(2);

    const created = await auditOf(team.id, 'team.created');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ actor: { type: 'user', id: ada.user.id }, target: { type: 'team', id: team.id, label: 'Platform' } });
  });

  it('refuses a team name that is empty or only spaces', async () => {
    const ada = await t.signup();
    for (const name of ['', '   ']) {
      const res = await t.request({ method: 'POST', url: '/api/v1/teams', cookie: ada.cookie, body: { name } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      expect(res.json().error.details[0].path).toBe('name');
    }
    expect((await t.request({ url: '/api/v1/teams', cookie: ada.cookie })).json().data).toHaveLength(1);
  });

  it('refuses to create a team with a service token, which is no person', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/teams', token: true, body: { name: 'Robots' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });
});

describe('the current team', () => {
  it('shows the personal team when no X-Team-Id is sent', async () => {
    const ada = await t.signup({ name: 'Ada' });
    const res = await t.request({ url: '/api/v1/team', cookie: ada.cookie });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ id: ada.team.id, name: ada.team.name, credits: null, createdAt: '2026-11-20T12:00:00.000Z' });
  });

  it('acts on the team named by X-Team-Id', async () => {
    const ada = await t.signup();
    const other = (await t.request({ method: 'POST', url: '/api/v1/teams', cookie: ada.cookie, body: { name: 'Other' } })).json().data;
    const res = await t.request({ url: '/api/v1/team', cookie: ada.cookie, teamId: other.id });
    expect(res.json().data).toMatchObject({ id: other.id, name: 'Other' });
    await t.createKey(ada, { name: 'in other' }, other.id);
    const personalKeys = await t.request({ url: '/api/v1/keys', cookie: ada.cookie });
    const otherKeys = await t.request({ url: '/api/v1/keys', cookie: ada.cookie, teamId: other.id });
    expect(personalKeys.json().total).toBe(0);
    expect(otherKeys.json().total).toBe(1);
  });

  it('answers 404 for an X-Team-Id of a team the caller is not in, and for one that does not exist', async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    for (const teamId of [bob.team.id, 'team_doesnotexist', 'not-a-team-id']) {
      const res = await t.request({ url: '/api/v1/team', cookie: ada.cookie, teamId });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
  });

  it('renames the team and sets and clears its credit balance, auditing team.updated', async () => {
    const ada = await t.signup();
    const renamed = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: ada.cookie, body: { name: 'Renamed', credits: { balance: 500 } } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().data).toMatchObject({ id: ada.team.id, name: 'Renamed', credits: { balance: 500 } });
    expect((await t.request({ url: '/api/v1/team', cookie: ada.cookie })).json().data.credits).toEqual({ balance: 500 });

    const cleared = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: ada.cookie, body: { credits: null } });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().data).toMatchObject({ name: 'Renamed', credits: null });

    const updates = await auditOf(ada.team.id, 'team.updated');
    expect(updates).toHaveLength(2);
    expect(updates.every((e) => e.actor.id === ada.user.id && e.target.id === ada.team.id)).toBe(true);
  });

  it('lets only an owner change the team: an admin gets 403 and nothing changes', async () => {
    const ada = await t.signup();
    const admin = await t.member(ada, 'admin');
    const res = await t.request({ method: 'PATCH', url: '/api/v1/team', cookie: admin.cookie, teamId: ada.team.id, body: { name: 'Hijacked', credits: { balance: 1 } } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    const team = (await t.request({ url: '/api/v1/team', cookie: ada.cookie })).json().data;
    expect(team).toMatchObject({ name: ada.team.name, credits: null });
    expect(await auditOf(ada.team.id, 'team.updated')).toHaveLength(0);
  });
});

describe('GET /me', () => {
  it("lists each team with its role and exactly the contract's permissions for that role", async () => {
    const ada = await t.signup();
    const expected: Record<'owner' | 'admin' | 'developer' | 'viewer', string[]> = {
      owner: ['keys.read', 'keys.write', 'provider_keys.read', 'provider_keys.write', 'provider_keys.reveal', 'members.manage', 'audit.read', 'team.manage'],
      admin: ['keys.read', 'keys.write', 'provider_keys.read', 'provider_keys.write', 'provider_keys.reveal', 'members.manage', 'audit.read'],
      developer: ['keys.read', 'keys.write', 'provider_keys.read'],
      viewer: ['keys.read', 'provider_keys.read'],
    };
    for (const role of ['admin', 'developer', 'viewer'] as const) {
      const person = await t.member(ada, role);
      const me = (await t.request({ url: '/api/v1/me', cookie: person.cookie })).json();
      const teams = me.teams as { id: string; role: string; permissions: string[] }[];
      expect(teams).toHaveLength(2);
      const own = teams.find((x) => x.id === person.team.id);
      const joined = teams.find((x) => x.id === ada.team.id);
      expect(own?.role).toBe('owner');
      expect([...(own?.permissions ?? [])].sort()).toEqual([...expected.owner].sort());
      expect(joined?.role).toBe(role);
      expect([...(joined?.permissions ?? [])].sort()).toEqual([...expected[role]].sort());
    }
  });
});

describe('members and invitations', () => {
  it('lists the members of the team with their roles', async () => {
    const ada = await t.signup({ name: 'Ada' });
    const dev = await t.member(ada, 'developer');
    const members = await membersOf(ada);
    expect(members).toHaveLength(2);
    expect(members).toEqual(
      expect.arrayContaining([
        { userId: ada.user.id, email: ada.user.email, name: 'Ada', role: 'owner', joinedAt: expect.any(String) },
        { userId: dev.user.id, email: dev.user.email, name: dev.user.name, role: 'developer', joinedAt: expect.any(String) },
      ]),
    );
    // Any member may see who is in the team.
    expect((await membersOf(dev, ada.team.id)).map((m) => m.userId).sort()).toEqual([ada.user.id, dev.user.id].sort());
  });

  it('creates an invitation whose token is shown once, not cached, and expires in 7 days', async () => {
    const ada = await t.signup();
    const res = await invite(ada, 'New.Person@Example.com', 'developer');
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.data).toEqual({ id: expect.any(String), email: 'new.person@example.com', role: 'developer', expiresAt: new Date(t.clock.now() + 7 * DAY).toISOString() });
    expect(body.inviteToken).toEqual(expect.any(String));
    expect(body.inviteToken.length).toBeGreaterThanOrEqual(32);

    const invited = await auditOf(ada.team.id, 'member.invited');
    expect(invited).toHaveLength(1);
    expect(invited[0]).toMatchObject({ actor: { id: ada.user.id }, target: { type: 'invitation', id: body.data.id }, details: { role: 'developer' } });
    // The token appears in no audit entry.
    expect(JSON.stringify(await auditOf(ada.team.id))).not.toContain(body.inviteToken);
  });

  it('joins the invited person with the invited role when they accept, and audits member.joined', async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    // E-mail addresses compare case-insensitively.
    const token = (await invite(ada, bob.user.email.toUpperCase(), 'viewer')).json().inviteToken;
    const accept = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: bob.cookie, body: { token } });
    expect(accept.statusCode).toBe(200);
    expect(accept.json()).toEqual({ data: { id: ada.team.id, name: ada.team.name, role: 'viewer' } });
    expect((await membersOf(ada)).find((m) => m.userId === bob.user.id)?.role).toBe('viewer');
    const teams = (await t.request({ url: '/api/v1/teams', cookie: bob.cookie })).json().data;
    expect(teams).toEqual(expect.arrayContaining([{ id: ada.team.id, name: ada.team.name, role: 'viewer' }]));

    const joined = await auditOf(ada.team.id, 'member.joined');
    expect(joined).toHaveLength(1);
    expect(joined[0]).toMatchObject({ actor: { type: 'user', id: bob.user.id }, target: { type: 'user', id: bob.user.id }, details: { role: 'viewer' } });
  });

  it('answers 404 when the same invitation is accepted a second time', async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    const token = (await invite(ada, bob.user.email, 'developer')).json().inviteToken;
    expect((await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: bob.cookie, body: { token } })).statusCode).toBe(200);
    const again = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: bob.cookie, body: { token } });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('NOT_FOUND');
    expect(await auditOf(ada.team.id, 'member.joined')).toHaveLength(1);
  });

  it('answers 404 for an invitation accepted after its 7 days have passed', async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    const token = (await invite(ada, bob.user.email, 'developer')).json().inviteToken;
    t.clock.advance(7 * DAY + 1);
    // Bob signs in again: the 7 idle days also ended his first session.
    const login = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: bob.user.email, password: 'correct horse battery' } });
    const cookie = login.cookies.find((c) => c.name === 'keysmith_session')?.value ?? '';
    const res = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie, body: { token } });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
    const members = await t.request({ url: '/api/v1/team/members', token: true, teamId: ada.team.id });
    expect(members.json().data.map((m: { userId: string }) => m.userId)).toEqual([ada.user.id]);
  });

  it('lets an invitation be accepted until just before it expires', async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    const token = (await invite(ada, bob.user.email, 'developer')).json().inviteToken;
    t.clock.advance(6 * DAY);
    const res = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: bob.cookie, body: { token } });
    expect(res.statusCode).toBe(200);
  });

  it("answers 404 when someone other than the invited e-mail accepts, and leaves the invitation usable", async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    const eve = await t.signup();
    const token = (await invite(ada, bob.user.email, 'admin')).json().inviteToken;
    const stolen = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: eve.cookie, body: { token } });
    expect(stolen.statusCode).toBe(404);
    expect(stolen.json().error.code).toBe('NOT_FOUND');
    expect((await membersOf(ada)).map((m) => m.userId)).not.toContain(eve.user.id);
    expect((await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: bob.cookie, body: { token } })).statusCode).toBe(200);
  });

  it('answers 404 for an unknown invitation token and 401 without a session', async () => {
    const ada = await t.signup();
    const bob = await t.signup();
    const token = (await invite(ada, bob.user.email, 'viewer')).json().inviteToken;
    const unknown = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: bob.cookie, body: { token: 'x'.repeat(40) } });
    expect(unknown.statusCode).toBe(404);
    const anonymous = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', body: { token } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an invitation to an unknown role or a malformed e-mail', async () => {
    const ada = await t.signup();
    const badRole = await invite(ada, 'x@example.com', 'superuser');
    expect(badRole.statusCode).toBe(400);
    expect(badRole.json().error.details[0].path).toBe('role');
    const badEmail = await invite(ada, 'not an email', 'viewer');
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error.details[0].path).toBe('email');
    expect(await auditOf(ada.team.id, 'member.invited')).toHaveLength(0);
  });
});

describe('roles and removal', () => {
  it("changes a member's role and audits member.role_changed", async () => {
    const ada = await t.signup();
    const dev = await t.member(ada, 'developer');
    const res = await t.request({ method: 'PATCH', url: `/api/v1/team/members/${dev.user.id}`, cookie: ada.cookie, body: { role: 'admin' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ userId: dev.user.id, email: dev.user.email, role: 'admin' });
    expect((await membersOf(ada)).find((m) => m.userId === dev.user.id)?.role).toBe('admin');
    const changed = await auditOf(ada.team.id, 'member.role_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ actor: { id: ada.user.id }, target: { type: 'user', id: dev.user.id }, details: { from: 'developer', to: 'admin' } });
    // The new role takes effect at once: an admin may read the audit log.
    expect((await t.request({ url: '/api/v1/audit-logs', cookie: dev.cookie, teamId: ada.team.id })).statusCode).toBe(200);
  });

  it('removes a member with 204, audits member.removed, and the person loses access to the team', async () => {
    const ada = await t.signup();
    const dev = await t.member(ada, 'developer');
    const res = await t.request({ method: 'DELETE', url: `/api/v1/team/members/${dev.user.id}`, cookie: ada.cookie });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await membersOf(ada)).map((m) => m.userId)).toEqual([ada.user.id]);
    const removed = await auditOf(ada.team.id, 'member.removed');
    expect(removed).toHaveLength(1);
    expect(removed[0]).toMatchObject({ target: { type: 'user', id: dev.user.id }, details: { role: 'developer' } });
    const after = await t.request({ url: '/api/v1/keys', cookie: dev.cookie, teamId: ada.team.id });
    expect(after.statusCode).toBe(404);
  });

  it('answers 404 for changing or removing someone who is not a member', async () => {
    const ada = await t.signup();
    const stranger = await t.signup();
    const patch = await t.request({ method: 'PATCH', url: `/api/v1/team/members/${stranger.user.id}`, cookie: ada.cookie, body: { role: 'admin' } });
    expect(patch.statusCode).toBe(404);
    const del = await t.request({ method: 'DELETE', url: `/api/v1/team/members/${stranger.user.id}`, cookie: ada.cookie });
    expect(del.statusCode).toBe(404);
    expect((await t.request({ url: '/api/v1/me', cookie: stranger.cookie })).json().teams).toHaveLength(1);
  });

  it('refuses with 409 to demote or remove the last owner', async () => {
    const ada = await t.signup();
    const demote = await t.request({ method: 'PATCH', url: `/api/v1/team/members/${ada.user.id}`, cookie: ada.cookie, body: { role: 'admin' } });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().error.code).toBe('CONFLICT');
    const remove = await t.request({ method: 'DELETE', url: `/api/v1/team/members/${ada.user.id}`, cookie: ada.cookie });
    expect(remove.statusCode).toBe(409);
    expect(remove.json().error.code).toBe('CONFLICT');
    // Not even a service token, which holds every permission, may leave a team without an owner.
    const byService = await t.request({ method: 'DELETE', url: `/api/v1/team/members/${ada.user.id}`, token: true, teamId: ada.team.id });
    expect(byService.statusCode).toBe(409);
    expect(await membersOf(ada)).toEqual([expect.objectContaining({ userId: ada.user.id, role: 'owner' })]);
    expect(await auditOf(ada.team.id, 'member.role_changed')).toHaveLength(0);
    expect(await auditOf(ada.team.id, 'member.removed')).toHaveLength(0);
  });

  it('lets one of two owners be demoted, and then refuses to demote the other', async () => {
    const ada = await t.signup();
    const bob = await t.member(ada, 'owner');
    const first = await t.request({ method: 'PATCH', url: `/api/v1/team/members/${bob.user.id}`, cookie: ada.cookie, body: { role: 'developer' } });
    expect(first.statusCode).toBe(200);
    expect(first.json().data.role).toBe('developer');
    const second = await t.request({ method: 'PATCH', url: `/api/v1/team/members/${ada.user.id}`, cookie: ada.cookie, body: { role: 'developer' } });
    expect(second.statusCode).toBe(409);
    expect((await membersOf(ada)).filter((m) => m.role === 'owner').map((m) => m.userId)).toEqual([ada.user.id]);
  });

  it('forbids an admin to grant or remove the owner role', async () => {
    const ada = await t.signup();
    const admin = await t.member(ada, 'admin');
    const dev = await t.member(ada, 'developer');
    const cases = [
      t.request({ method: 'PATCH', url: `/api/v1/team/members/${dev.user.id}`, cookie: admin.cookie, teamId: ada.team.id, body: { role: 'owner' } }),
      t.request({ method: 'PATCH', url: `/api/v1/team/members/${admin.user.id}`, cookie: admin.cookie, teamId: ada.team.id, body: { role: 'owner' } }),
      t.request({ method: 'PATCH', url: `/api/v1/team/members/${ada.user.id}`, cookie: admin.cookie, teamId: ada.team.id, body: { role: 'viewer' } }),
      t.request({ method: 'DELETE', url: `/api/v1/team/members/${ada.user.id}`, cookie: admin.cookie, teamId: ada.team.id }),
      invite(admin, 'future-owner@example.com', 'owner', ada.team.id),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    const roles = Object.fromEntries((await membersOf(ada)).map((m) => [m.userId, m.role]));
    expect(roles).toEqual({ [ada.user.id]: 'owner', [admin.user.id]: 'admin', [dev.user.id]: 'developer' });
    // An admin may still manage the roles below owner.
    const ok = await t.request({ method: 'PATCH', url: `/api/v1/team/members/${dev.user.id}`, cookie: admin.cookie, teamId: ada.team.id, body: { role: 'viewer' } });
    expect(ok.statusCode).toBe(200);
  });

  it('forbids a developer or viewer to manage members', async () => {
    const ada = await t.signup();
    const dev = await t.member(ada, 'developer');
    const viewer = await t.member(ada, 'viewer');
    for (const person of [dev, viewer]) {
      const res = await t.request({ method: 'PATCH', url: `/api/v1/team/members/${viewer.user.id}`, cookie: person.cookie, teamId: ada.team.id, body: { role: 'admin' } });
      expect(res.statusCode).toBe(403);
      expect((await invite(person, 'x@example.com', 'viewer', ada.team.id)).statusCode).toBe(403);
    }
    expect((await membersOf(ada)).find((m) => m.userId === viewer.user.id)?.role).toBe('viewer');
  });

  /** Five teams owned by both Ada and Bob, so a race has more than one chance to show. */
  async function twoOwnerTeams() {
    const ada = await t.signup();
    const bob = await t.signup();
    const teams: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const team = (await t.request({ method: 'POST', url: '/api/v1/teams', cookie: ada.cookie, body: { name: `Race ${i}` } })).json().data.id as string;
      const token = (await invite(ada, bob.user.email, 'owner', team)).json().inviteToken;
      expect((await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: bob.cookie, body: { token } })).statusCode).toBe(200);
      teams.push(team);
    }
    return { ada, bob, teams };
  }

  async function ownersOf(teamId: string): Promise<number> {
    const members = (await t.request({ url: '/api/v1/team/members', token: true, teamId })).json().data as { role: string }[];
    return members.filter((m) => m.role === 'owner').length;
  }

  it('keeps at least one owner when both of two owners are removed at the same time', async () => {
    const { ada, bob, teams } = await twoOwnerTeams();
    const results = await Promise.all(
      teams.flatMap((teamId) => [
        t.request({ method: 'DELETE', url: `/api/v1/team/members/${bob.user.id}`, cookie: ada.cookie, teamId }),
        t.request({ method: 'DELETE', url: `/api/v1/team/members/${ada.user.id}`, cookie: bob.cookie, teamId }),
      ]),
    );
    expect(results.filter((r) => r.statusCode >= 500)).toEqual([]);
    for (const teamId of teams) expect(await ownersOf(teamId)).toBe(1);
    expect(results.filter((r) => r.statusCode === 204)).toHaveLength(teams.length);
  });

  it('keeps at least one owner when two owners demote each other at the same time', async () => {
    const { ada, bob, teams } = await twoOwnerTeams();
    const results = await Promise.all(
      teams.flatMap((teamId) => [
        t.request({ method: 'PATCH', url: `/api/v1/team/members/${bob.user.id}`, cookie: ada.cookie, teamId, body: { role: 'admin' } }),
        t.request({ method: 'PATCH', url: `/api/v1/team/members/${ada.user.id}`, cookie: bob.cookie, teamId, body: { role: 'admin' } }),
      ]),
    );
    expect(results.filter((r) => r.statusCode >= 500)).toEqual([]);
    for (const teamId of teams) expect(await ownersOf(teamId)).toBe(1);
  });
});
