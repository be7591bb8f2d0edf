import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, cookieFrom, ORIGIN, PASSWORD, type TestApp } from './helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('signup', () => {
  it('creates the user and a personal team with the user as owner, and starts a session', async () => {
    const res = await t.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email: '  Ada@Example.COM ', password: PASSWORD, name: 'Ada' } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({ email: 'ada@example.com', name: 'Ada' });
    expect(body.user.id).toMatch(/^usr_/);
    expect(body.user).not.toHaveProperty('passwordHash');
    expect(body.team).toMatchObject({ role: 'owner' });
    const cookie = res.cookies.find((c) => c.name === 'keysmith_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.secure).toBeFalsy();
    const me = await t.request({ url: '/api/v1/me', cookie: cookieFrom(res) });
    expect(me.statusCode).toBe(200);
    expect(me.json().teams).toEqual([expect.objectContaining({ id: body.team.id, role: 'owner', permissions: expect.arrayContaining(['team.manage']) })]);
  });

  it('answers 409 CONFLICT for an e-mail already registered, whatever its case', async () => {
    await t.signup({ email: 'grace@example.com' });
    const res = await t.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email: 'GRACE@example.com', password: PASSWORD, name: 'G' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
  });

  it('refuses passwords shorter than 8 or longer than 256 characters', async () => {
    for (const password of ['short', 'x'.repeat(257)]) {
      const res = await t.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email: 'p@example.com', password, name: 'P' } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details[0].path).toBe('password');
    }
  });

  it('sets the Secure flag when KEYSMITH_SECURE_COOKIES is true', async () => {
    const secure = await buildTestApp({ env: { KEYSMITH_SECURE_COOKIES: 'true' } });
    try {
      const res = await secure.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email: 's@example.com', password: PASSWORD, name: 'S' } });
      expect(res.cookies.find((c) => c.name === 'keysmith_session')?.secure).toBe(true);
    } finally {
      await secure.close();
    }
  });
});

describe('login', () => {
  it('starts a session with the right password', async () => {
    const { user } = await t.signup({ email: 'lin@example.com' });
    const res = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'LIN@example.com', password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    expect(res.json().user.id).toBe(user.id);
    const me = await t.request({ url: '/api/v1/me', cookie: cookieFrom(res) });
    expect(me.json().user.id).toBe(user.id);
  });

  it('gives the same answer for an unknown e-mail as for a wrong password', async () => {
    await t.signup({ email: 'known@example.com' });
    const wrong = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'known@example.com', password: 'wrong password' } });
    const unknown = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'nobody@example.com', password: 'wrong password' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: { error: Record<string, unknown> }) => ({ ...b.error, requestId: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
  });

  it('answers 429 with Retry-After after 5 failures in 15 minutes, even with the right password, then lets in again', async () => {
    await t.signup({ email: 'throttle@example.com' });
    for (let i = 0; i < 5; i += 1) {
      const res = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'throttle@example.com', password: 'nope nope' } });
      expect(res.statusCode).toBe(401);
    }
    const blocked = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'throttle@example.com', password: PASSWORD } });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    t.clock.advance(15 * 60 * 1000 + 1);
    const later = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'throttle@example.com', password: PASSWORD } });
    expect(later.statusCode).toBe(200);
  });

  it('lets no more than 5 of 20 parallel wrong attempts be checked', async () => {
    await t.signup({ email: 'parallel@example.com' });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'parallel@example.com', password: 'wrong guess' } })),
    );
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(15);
  });
});

describe('sessions', () => {
  it('ends the session at logout, server-side', async () => {
    const { cookie } = await t.signup();
    const out = await t.request({ method: 'POST', url: '/api/v1/auth/logout', cookie });
    expect(out.statusCode).toBe(204);
    const me = await t.request({ url: '/api/v1/me', cookie });
    expect(me.statusCode).toBe(401);
    expect(me.json().error.code).toBe('UNAUTHENTICATED');
  });

  it('expires a session after 7 days without use', async () => {
    const { cookie } = await t.signup();
    t.clock.advance(7 * 24 * 3600 * 1000 + 1);
    expect((await t.request({ url: '/api/v1/me', cookie })).statusCode).toBe(401);
  });

  it('keeps an active session alive but ends it 30 days after login', async () => {
    const { cookie } = await t.signup();
    for (let day = 0; day < 29; day += 1) {
      t.clock.advance(24 * 3600 * 1000);
      expect((await t.request({ url: '/api/v1/me', cookie })).statusCode).toBe(200);
    }
    t.clock.advance(24 * 3600 * 1000);
    expect((await t.request({ url: '/api/v1/me', cookie })).statusCode).toBe(401);
  });

  it('tells a page whether it is signed in through /auth/session without an error status', async () => {
    const anonymous = await t.request({ url: '/api/v1/auth/session' });
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.json()).toEqual({ user: null, teams: [] });
    const stale = await t.request({ url: '/api/v1/auth/session', cookie: 'not-a-session' });
    expect(stale.json()).toEqual({ user: null, teams: [] });
    const { cookie, user } = await t.signup();
    const signedIn = await t.request({ url: '/api/v1/auth/session', cookie });
    expect(signedIn.json().user.id).toBe(user.id);
    expect(signedIn.json().teams).toEqual((await t.request({ url: '/api/v1/me', cookie })).json().teams);
  });

  it('answers 401 for an unknown session cookie', async () => {
    expect((await t.request({ url: '/api/v1/me', cookie: 'not-a-session' })).statusCode).toBe(401);
  });

  it('refuses a cookie-authenticated change without our Origin, and accepts Referer or a trusted origin', async () => {
    const { cookie } = await t.signup();
    const evil = await t.request({ method: 'POST', url: '/api/v1/teams', cookie, body: { name: 'x' }, headers: { origin: 'https://evil.example' } });
    expect(evil.statusCode).toBe(403);
    expect(evil.json().error.code).toBe('FORBIDDEN');
    const none = await t.app.inject({ method: 'POST', url: '/api/v1/teams', headers: { cookie: `keysmith_session=${cookie}` }, payload: { name: 'x' } });
    expect(none.statusCode).toBe(403);
    const referer = await t.app.inject({ method: 'POST', url: '/api/v1/teams', headers: { cookie: `keysmith_session=${cookie}`, referer: `${ORIGIN}/keys` }, payload: { name: 'x' } });
    expect(referer.statusCode).toBe(201);
    const trusted = await buildTestApp({ env: { KEYSMITH_TRUSTED_ORIGINS: 'https://app.example.com' } });
    try {
      const u = await trusted.signup();
      const ok = await trusted.request({ method: 'POST', url: '/api/v1/teams', cookie: u.cookie, body: { name: 'x' }, headers: { origin: 'https://app.example.com' } });
      expect(ok.statusCode).toBe(201);
    } finally {
      await trusted.close();
    }
  });
});
