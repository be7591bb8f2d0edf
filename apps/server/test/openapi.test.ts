import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { ERROR_CODES } from '@keysmith/core';
import { buildTestApp, type TestApp } from './helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

// Every operation of the contract (shared/API.md), with path parameters as OpenAPI writes them.
const CONTRACT_OPERATIONS: Array<[method: string, path: string]> = [
  ['post', '/api/v1/auth/signup'],
  ['post', '/api/v1/auth/login'],
  ['post', '/api/v1/auth/logout'],
  ['get', '/api/v1/me'],
  ['get', '/api/v1/teams'],
  ['post', '/api/v1/teams'],
  ['get', '/api/v1/team'],
  ['patch', '/api/v1/team'],
  ['get', '/api/v1/team/members'],
  ['post', '/api/v1/team/invitations'],
  ['post', '/api/v1/invitations/accept'],
  ['patch', '/api/v1/team/members/{userId}'],
  ['delete', '/api/v1/team/members/{userId}'],
  ['get', '/api/v1/keys'],
  ['post', '/api/v1/keys'],
  ['get', '/api/v1/keys/{id}'],
  ['patch', '/api/v1/keys/{id}'],
  ['delete', '/api/v1/keys/{id}'],
  ['post', '/api/v1/keys/{id}/regenerate'],
  ['get', '/api/v1/keys/{id}/usage'],
  ['get', '/api/v1/usage'],
  ['post', '/api/v1/keys/verify'],
  ['get', '/api/v1/audit-logs'],
  ['get', '/api/v1/scopes'],
  ['get', '/healthz'],
  ['get', '/readyz'],
];

interface OpenApiOperation {
  parameters?: Array<{ in: string; name: string }>;
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: { $ref?: string } }> }>;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }> };
}

async function openApiDocument(): Promise<OpenApiDocument> {
  const res = await t.request({ url: '/api/v1/openapi.json' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json();
}

/** GETs `url` and follows redirects, as a browser would. */
async function getFollowingRedirects(url: string): Promise<LightMyRequestResponse> {
  let current = url;
  for (let hop = 0; hop < 5; hop += 1) {
    const res = await t.request({ url: current });
    if (res.statusCode < 300 || res.statusCode >= 400) return res;
    const location = res.headers.location;
    if (typeof location !== 'string') throw new Error(`redirect without Location from ${current}`);
    current = new URL(location, `http://localhost${current}`).pathname;
  }
  throw new Error(`too many redirects from ${url}`);
}

describe('the OpenAPI document', () => {
  it('is an OpenAPI 3 document', async () => {
    const doc = await openApiDocument();
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
  });

  it('lists every path and method of the contract', async () => {
    const doc = await openApiDocument();
    const missing = CONTRACT_OPERATIONS.filter(([method, path]) => doc.paths[path]?.[method] === undefined);
    expect(missing).toEqual([]);
  });

  it('declares the path parameters of the contract', async () => {
    const doc = await openApiDocument();
    const pathParameters = (method: string, path: string) =>
      (doc.paths[path]?.[method]?.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
    expect(pathParameters('get', '/api/v1/keys/{id}')).toEqual(['id']);
    expect(pathParameters('post', '/api/v1/keys/{id}/regenerate')).toEqual(['id']);
    expect(pathParameters('delete', '/api/v1/team/members/{userId}')).toEqual(['userId']);
  });

  it('has an Error schema whose code enum holds every error code of the domain', async () => {
    const doc = await openApiDocument();
    const codes = doc.components.schemas.Error?.properties.error.properties.code.enum ?? [];
    const missing = ERROR_CODES.filter((code) => !codes.includes(code));
    expect(missing).toEqual([]);
  });

  it('documents the error shape for the 4xx and 5xx answers of every contract operation', async () => {
    const doc = await openApiDocument();
    const undocumented: string[] = [];
    for (const [method, path] of CONTRACT_OPERATIONS) {
      const responses = doc.paths[path]?.[method]?.responses ?? {};
      for (const range of ['4XX', '5XX']) {
        const schema = responses[range]?.content?.['application/json']?.schema;
        if (schema?.$ref !== '#/components/schemas/Error') undocumented.push(`${method.toUpperCase()} ${path} ${range}`);
      }
    }
    expect(undocumented).toEqual([]);
  });
});

describe('the interactive reference', () => {
  it('serves an HTML page at /docs', async () => {
    const res = await getFollowingRedirects('/docs');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/<html/i);
    expect(res.body).toContain('swagger-ui');
  });

  it('serves the scripts the page loads', async () => {
    const page = await getFollowingRedirects('/docs');
    const scripts = [...page.body.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      const res = await t.request({ url: new URL(src, 'http://localhost/docs/').pathname });
      expect(res.statusCode, src).toBe(200);
      expect(res.headers['content-type'], src).toMatch(/javascript/);
    }
  });

  it('loads the same document that /api/v1/openapi.json serves', async () => {
    // The page's initializer resolves "./json" against /docs/.
    const initializer = await t.request({ url: '/docs/static/swagger-initializer.js' });
    expect(initializer.body).toContain("resolveUrl('./json')");
    const loaded = await t.request({ url: '/docs/json' });
    expect(loaded.statusCode).toBe(200);
    expect(loaded.json().paths).toEqual((await openApiDocument()).paths);
  });
});

describe('every response', () => {
  const probes: Array<{ name: string; page?: boolean; send: () => Promise<LightMyRequestResponse> }> = [
    { name: 'a health check', page: true, send: () => t.request({ url: '/healthz' }) },
    { name: 'the OpenAPI document', send: () => t.request({ url: '/api/v1/openapi.json' }) },
    { name: 'the docs page', page: true, send: () => getFollowingRedirects('/docs') },
    { name: 'an unknown route', send: () => t.request({ url: '/api/v1/nothing-here' }) },
    { name: 'an unauthenticated request', send: () => t.request({ url: '/api/v1/me' }) },
    { name: 'an invalid body', send: () => t.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email: 'x' } }) },
    { name: 'a verification', send: () => t.request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body: { key: 'pk_live_nope' } }) },
  ];

  it('carries an x-request-id header, repeated in error bodies', async () => {
    const seen = new Set<string>();
    for (const probe of probes) {
      const res = await probe.send();
      const id = res.headers['x-request-id'];
      expect(id, probe.name).toEqual(expect.any(String));
      expect((id as string).length, probe.name).toBeGreaterThan(0);
      seen.add(id as string);
      if (res.statusCode >= 400) expect(res.json().error.requestId, probe.name).toBe(id);
    }
    expect(seen.size).toBe(probes.length); // one id per request
  });

  it('carries the security headers', async () => {
    for (const probe of probes) {
      const res = await probe.send();
      expect(res.headers['x-content-type-options'], probe.name).toBe('nosniff');
      // Pages allow their own origin; JSON API answers allow nothing (OWASP REST cheat sheet).
      const csp = String(res.headers['content-security-policy']);
      expect(csp, probe.name).toContain(probe.page ? "default-src 'self'" : "default-src 'none'");
      expect(res.headers['x-frame-options'], probe.name).toMatch(/^(DENY|SAMEORIGIN)$/);
    }
  });
});
