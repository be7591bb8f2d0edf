import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helpers';

let t: TestApp;
let dist: string;
beforeEach(async () => {
  dist = mkdtempSync(join(tmpdir(), 'keysmith-dist-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  t = await buildTestApp({ dashboardDir: dist });
});
afterEach(async () => {
  await t.close();
  rmSync(dist, { recursive: true, force: true });
});

describe('serving the dashboard', () => {
  it('serves the index page at / to be revalidated every time', async () => {
    const res = await t.request({ url: '/', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.body).toContain('<div id="root">');
  });

  it('caches hashed assets for a year as immutable', async () => {
    const res = await t.request({ url: '/assets/index-abc123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers client-side routes with the index page (SPA fallback)', async () => {
    for (const url of ['/keys', '/keys/key_abc', '/team/members?x=1']) {
      const res = await t.request({ url, headers: { accept: 'text/html,application/xhtml+xml' } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<div id="root">');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('keeps JSON 404s for API paths, missing assets and non-page requests', async () => {
    for (const [url, accept] of [['/api/v1/nope', 'text/html'], ['/assets/missing.js', '*/*'], ['/keys', 'application/json']] as const) {
      const res = await t.request({ url, headers: { accept } });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
    const post = await t.request({ method: 'POST', url: '/keys', headers: { accept: 'text/html' }, body: {} });
    expect(post.statusCode).toBe(404);
  });
});
