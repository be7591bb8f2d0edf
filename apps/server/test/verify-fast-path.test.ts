import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, SERVICE_TOKEN, type TestApp, type TestUser } from './helpers';

// The verification fast path (src/http/fast-verify.ts) answers the common request before
// Fastify's router; the Fastify route answers everything else. These tests hold the two to
// one contract: the same answers byte for byte (but the request id), and the hand-over.

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const VERIFY = '/api/v1/keys/verify';
/** Headers that differ per request by nature. */
const PER_REQUEST = new Set(['x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP request to the listening app (Content-Length unless told to send chunked). */
function send(app: TestApp, options: { headers?: Record<string, string>; body?: string; path?: string; chunked?: boolean }): Promise<Answer> {
  const address = app.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const body = options.body ?? '';
  const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}`, ...options.headers };
  if (!options.chunked) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: options.path ?? VERIFY, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunked) {
      // Two chunks, no Content-Length: the framing only Fastify's path takes.
      req.write(body.slice(0, 5));
      req.end(body.slice(5));
    } else req.end(body);
  });
}

/** The same request through Fastify's own pipeline (inject never reaches the fast path). */
async function throughFastify(app: TestApp, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await app.app.inject({
    method: 'POST',
    url: VERIFY,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}`, ...headers },
    payload: body,
  });
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body: res.body };
}

/** Status, body with its request id taken out, and every header that is not per request. */
function comparable(answer: Answer) {
  const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !PER_REQUEST.has(name)));
  let body: unknown = answer.body;
  try {
    const parsed = JSON.parse(answer.body) as { error?: { requestId?: string } };
    if (parsed.error) {
      expect(parsed.error.requestId).toBe(answer.headers['x-request-id']);
      parsed.error.requestId = '<id>';
    }
    body = parsed;
  } catch {
    // not JSON: compared as text
  }
  return { status: answer.status, headers, body };
}

/** Log lines Fastify wrote for requests it routed itself ("incoming request", at info). */
function routedByFastify(app: TestApp): number {
  return app.logs.filter((line) => line.includes('"msg":"incoming request"') && line.includes(VERIFY)).length;
}

async function setup(): Promise<{ t: TestApp; owner: TestUser }> {
  t = await buildTestApp();
  return { t, owner: await t.signup() };
}

describe('the verification fast path', () => {
  it('answers every kind of request exactly as the Fastify route does', async () => {
    const { t, owner } = await setup();
    const plain = await t.createKey(owner, { scopes: ['read'], metadata: { plan: 'pro' } });
    const revoked = await t.createKey(owner);
    expect((await t.request({ method: 'DELETE', url: `/api/v1/keys/${revoked.data.id}`, cookie: owner.cookie })).statusCode).toBe(200);
    const limited = await t.createKey(owner, { credits: { limit: 5 }, rateLimit: { limit: 3, windowSeconds: 60 } });
    const bodies = [
      JSON.stringify({ key: plain.rawKey }),
      JSON.stringify({ key: plain.rawKey, scopes: ['read', 'admin'] }),
      JSON.stringify({ key: plain.rawKey, context: { ip: '203.0.113.9', userAgent: 'probe/1.0' } }),
      JSON.stringify({ key: revoked.rawKey }),
      JSON.stringify({ key: `${plain.rawKey.slice(0, -1)}x` }),
      JSON.stringify({ key: 'pk_live_nope' }),
      JSON.stringify({}),
      JSON.stringify({ key: 1 }),
      JSON.stringify({ key: plain.rawKey, extra: true }),
      JSON.stringify({ key: plain.rawKey, cost: 1001 }),
      JSON.stringify({ key: plain.rawKey, context: { ip: 'not-an-ip' } }),
      JSON.stringify({ key: 'a\u0000b' }),
      JSON.stringify({ key: plain.rawKey, scopes: ['re\u0000ad'] }),
      '{"key": "unterminated',
      '',
      'null',
      '[]',
      '{"__proto__": {"polluted": true}, "key": "x"}',
      '{"constructor": {"prototype": {"polluted": true}}, "key": "x"}',
      `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
      `{"key": "x", "scopes": ${'['.repeat(70)}${']'.repeat(70)}}`,
    ];
    for (const body of bodies) {
      const before = routedByFastify(t);
      const fast = await send(t, { body });
      expect(routedByFastify(t), `fast path for ${body}`).toBe(before);
      const reference = await throughFastify(t, body);
      expect(comparable(fast), body).toEqual(comparable(reference));
    }
    // Credits and rate limits: both paths spend from the same state, then refuse alike.
    const spend = (cost: number) => JSON.stringify({ key: limited.rawKey, cost });
    expect(JSON.parse((await send(t, { body: spend(2) })).body)).toMatchObject({ valid: true, credits: { remaining: 3 }, rateLimit: { limit: 3, remaining: 2 } });
    expect(JSON.parse((await throughFastify(t, spend(2))).body)).toMatchObject({ valid: true, credits: { remaining: 1 }, rateLimit: { limit: 3, remaining: 1 } });
    expect(JSON.parse((await send(t, { body: spend(1) })).body)).toMatchObject({ valid: true, credits: { remaining: 0 }, rateLimit: { limit: 3, remaining: 0 } });
    const refused = await send(t, { body: spend(1) });
    expect(JSON.parse(refused.body)).toMatchObject({ valid: false, code: 'RATE_LIMITED' });
    expect(comparable(refused)).toEqual(comparable(await throughFastify(t, spend(1))));
  });

  it('answers with the security headers and a fresh request id', async () => {
    const { t, owner } = await setup();
    const { rawKey } = await t.createKey(owner);
    const a = await send(t, { body: JSON.stringify({ key: rawKey }) });
    const b = await send(t, { body: JSON.stringify({ key: rawKey }) });
    for (const answer of [a, b]) {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['x-request-id']).toMatch(/^req_[0-9a-f]{16}[0-9a-z]+$/);
    }
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    expect(routedByFastify(t)).toBe(0);
  });

  it('leaves every other request to Fastify, which answers it', async () => {
    const { t, owner } = await setup();
    const { rawKey } = await t.createKey(owner);
    const body = JSON.stringify({ key: rawKey });
    const cases: Array<{ name: string; options: Parameters<typeof send>[1]; status: number; code?: string }> = [
      { name: 'a lower-case bearer scheme', options: { body, headers: { authorization: `bearer ${SERVICE_TOKEN}` } }, status: 200, code: 'VALID' },
      { name: 'an unknown service token', options: { body, headers: { authorization: 'Bearer svc_unknown_0123456789abcdefghijklmnopqrstuv' } }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'no token at all', options: { body, headers: { authorization: '' } }, status: 401, code: 'UNAUTHENTICATED' },
      { name: 'a chunked body', options: { body, chunked: true }, status: 200, code: 'VALID' },
      { name: 'a query string', options: { body, path: `${VERIFY}?debug=1` }, status: 400, code: 'VALIDATION_FAILED' },
      { name: 'a trailing slash', options: { body, path: `${VERIFY}/` }, status: 200, code: 'VALID' },
      { name: 'a text body', options: { body, headers: { 'content-type': 'text/plain' } }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
      { name: 'a body over 64 KiB', options: { body: JSON.stringify({ key: rawKey, pad: 'x'.repeat(70_000) }) }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
    ];
    for (const c of cases) {
      const before = routedByFastify(t);
      const answer = await send(t, c.options);
      expect(routedByFastify(t), c.name).toBe(before + 1);
      expect(answer.status, c.name).toBe(c.status);
      const parsed = JSON.parse(answer.body) as { code?: string; error?: { code: string } };
      expect(parsed.code ?? parsed.error?.code, c.name).toBe(c.code);
      expect(answer.headers['x-content-type-options'], c.name).toBe('nosniff');
    }
  });

  it('answers 500 INTERNAL to an unexpected failure, as the route does, and keeps serving', async () => {
    // A record the serializer cannot write (a BigInt in its metadata): nothing real makes one,
    // so the store is wrapped to, for one key.
    t = await buildTestApp({
      wrapStore: (store) => ({
        ...store,
        keys: {
          ...store.keys,
          async findByHash(hash) {
            const key = await store.keys.findByHash(hash);
            return key && key.name === 'poisoned' ? { ...key, metadata: { big: 1n } } : key;
          },
        },
      }),
    });
    const owner = await t.signup();
    const poisoned = await t.createKey(owner, { name: 'poisoned' });
    const fine = await t.createKey(owner, { name: 'fine' });
    const body = JSON.stringify({ key: poisoned.rawKey });
    // The first answer waits for the lookup (a promise), the second comes from the cache (synchronous).
    for (const answer of [await send(t, { body }), await send(t, { body })]) {
      expect(answer.status).toBe(500);
      expect(comparable(answer)).toEqual(comparable(await throughFastify(t, body)));
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'INTERNAL' } });
    }
    expect(t.logs.join('')).toContain('unhandled error');
    expect(JSON.parse((await send(t, { body: JSON.stringify({ key: fine.rawKey }) })).body)).toMatchObject({ valid: true, code: 'VALID' });
  });

  it('serves many verifications at once, each counted once', async () => {
    const { t, owner } = await setup();
    const { data, rawKey } = await t.createKey(owner);
    const answers = await Promise.all(Array.from({ length: 300 }, () => send(t as TestApp, { body: JSON.stringify({ key: rawKey }) })));
    expect(answers.every((a) => a.status === 200 && (JSON.parse(a.body) as { code: string }).code === 'VALID')).toBe(true);
    const key = await t.request({ url: `/api/v1/keys/${data.id}`, cookie: owner.cookie });
    expect(key.json().data.usageCount).toBe(300);
  });
});
