import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('GET /healthz', () => {
  it('answers 200 {status:"ok"} without credentials', async () => {
    const res = await t.request({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('still answers 200 when the database is gone, since it only says the process is up', async () => {
    await t.handle.close();
    const res = await t.request({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('GET /readyz', () => {
  it('answers 200 while the database answers', async () => {
    const res = await t.request({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
  });

  it('answers 503 once the database handle is closed', async () => {
    expect((await t.request({ url: '/readyz' })).statusCode).toBe(200);
    await t.handle.close();
    const res = await t.request({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    // Nothing about the database's internals leaks out.
    expect(res.body).not.toMatch(/sqlite|postgres|destroyed|stack|at .*\.ts/i);
  });
});

describe('GET /api/v1/scopes', () => {
  it('lists the instance scope catalog, in order, each with a description', async () => {
    const owner = await t.signup();
    const res = await t.request({ url: '/api/v1/scopes', cookie: owner.cookie });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { data: Array<{ name: string; description: string }> };
    expect(body.data.map((s) => s.name)).toEqual(['read', 'write', 'admin']);
    for (const scope of body.data) {
      expect(Object.keys(scope).sort()).toEqual(['description', 'name']);
      expect(scope.description.length).toBeGreaterThan(0);
    }
  });

  it('answers the same catalog to a service token', async () => {
    const res = await t.request({ url: '/api/v1/scopes', token: true });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((s: { name: string }) => s.name)).toEqual(['read', 'write', 'admin']);
  });

  it('follows KEYSMITH_SCOPES', async () => {
    // (The default catalog, read and write, is checked on a real server in cli.test.ts.)
    const custom = await buildTestApp({ env: { KEYSMITH_SCOPES: 'billing:read, billing:write ,deploy' } });
    try {
      const res = await custom.request({ url: '/api/v1/scopes', token: true });
      expect(res.json().data.map((s: { name: string }) => s.name)).toEqual(['billing:read', 'billing:write', 'deploy']);
    } finally {
      await custom.close();
    }
  });
});
