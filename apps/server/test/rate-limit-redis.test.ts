import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedisRateLimiter, type RateLimiterLogger, type RedisRateLimiter } from '@keysmith/db';
import { ConfigError, loadConfig } from '../src/config';
import { buildTestApp, dialect, PASSWORD, SERVICE_TOKEN, tallyCodes, verifyAllAtOnce, type SiblingApp, type TestApp, type Verifier } from './helpers';
import { BIN, cliEnv, freePort, ROOT, send, waitFor } from './processes';

const REDIS_URL = process.env.KEYSMITH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisAddress = new URL(REDIS_URL);

/** Sends one command to Redis over a plain socket and returns the first chunk of its reply. */
function redisCommand(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(redisAddress.port || 6379), redisAddress.hostname);
    socket.setTimeout(2_000, () => socket.destroy(new Error('no answer within 2 s')));
    socket.on('error', reject);
    socket.once('data', (chunk) => {
      resolve(chunk.toString('utf8'));
      socket.end();
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

// These tests need a real Redis: every one of them fails, none skips, without it.
const redisAnswers = redisCommand('PING')
  .catch((error: Error) => error.message)
  .then((reply) => {
    if (!reply.startsWith('+PONG')) throw new Error(`Redis is required for the rate limit tests at ${REDIS_URL} (KEYSMITH_TEST_REDIS_URL): ${reply.trim()}`);
  });
redisAnswers.catch(() => {});
beforeEach(() => redisAnswers);

let counter = 0;
/** A prefix of its own per test, so test files running at once never share a counter. */
function uniquePrefix(): string {
  counter += 1;
  return `keysmith:test:${dialect}:${process.pid}:${Date.now()}:${counter}:`;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  // Siblings first, then the app, then the limiters: the order the server closes them in.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Redis limiter, as one instance would make from REDIS_URL, closed after the test. */
function redisLimiter(prefix: string, options: { url?: string; logger?: RateLimiterLogger } = {}): RedisRateLimiter {
  // A generous command timeout: on a busy test machine a slow reply must not send a hit to the
  // memory fallback, which would make the exact counts below a matter of luck.
  const limiter = createRedisRateLimiter({ commandTimeoutMs: 10_000, ...options, url: options.url ?? REDIS_URL, prefix });
  cleanups.push(() => limiter.close());
  return limiter;
}

async function testApp(options: Parameters<typeof buildTestApp>[0] = {}): Promise<TestApp> {
  const t = await buildTestApp(options);
  cleanups.push(() => t.close());
  return t;
}

async function sibling(t: TestApp, options: Parameters<TestApp['sibling']>[0] = {}): Promise<SiblingApp> {
  const other = await t.sibling(options);
  cleanups.push(() => other.close());
  return other;
}

type Answer = { valid: boolean; code: string; rateLimit?: { limit: number; remaining: number; resetAt: string } | null };

/** Fires `count` verifications of `key` at once, spread round-robin over `apps`. */
const verifyAtOnce = (apps: Verifier[], key: string, count: number) => verifyAllAtOnce<Answer>(apps, { key }, count);
const tally = tallyCodes;

const rateLimit = { limit: 20, windowSeconds: 60 };
const windowEnd = (now: number) => new Date(Math.floor(now / 60_000) * 60_000 + 60_000).toISOString();

describe(`rate limits with REDIS_URL on ${dialect}`, () => {
  it.skipIf(dialect !== 'postgres')('gives exactly 20 VALID out of 200 concurrent verifications split across two instances', async () => {
    const prefix = uniquePrefix();
    // Each instance has its own Redis client, as two server processes with one REDIS_URL would.
    const t = await testApp({ rateLimiter: redisLimiter(prefix) });
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner, { rateLimit });
    // Started after the key exists, so it knows the key from its first lookup.
    const other = await sibling(t, { rateLimiter: redisLimiter(prefix) });
    const answers = await verifyAtOnce([t, other], rawKey, 200);
    expect(tally(answers)).toEqual({ VALID: 20, RATE_LIMITED: 180 });
    const resetAt = windowEnd(t.clock.now());
    for (const a of answers.filter((x) => x.code === 'RATE_LIMITED')) expect(a.rateLimit).toEqual({ limit: 20, remaining: 0, resetAt });
    // Each VALID answer took its own place in the window.
    const remaining = answers.filter((x) => x.code === 'VALID').map((x) => x.rateLimit?.remaining);
    expect(new Set(remaining)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i)));
  });

  it.skipIf(dialect !== 'postgres')('without REDIS_URL each instance limits on its own: two instances let up to 2 × the limit through', async () => {
    const t = await testApp();
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner, { rateLimit });
    const other = await sibling(t);
    const answers = await verifyAtOnce([t, other], rawKey, 200);
    expect(tally(answers)).toEqual({ VALID: 40, RATE_LIMITED: 160 });
  });

  it('counts in Redis: 200 concurrent verifications give exactly 20 VALID, and another instance sees the spent window', async () => {
    const prefix = uniquePrefix();
    const t = await testApp({ rateLimiter: redisLimiter(prefix) });
    const owner = await t.signup();
    const { data, rawKey } = await t.createKey(owner, { rateLimit });
    const answers = await verifyAtOnce([t], rawKey, 200);
    expect(tally(answers)).toEqual({ VALID: 20, RATE_LIMITED: 180 });
    for (const a of answers.filter((x) => x.code === 'RATE_LIMITED')) expect(a.rateLimit).toMatchObject({ remaining: 0 });
    // What another instance's limiter finds in Redis for this key.
    const elsewhere = await redisLimiter(prefix).hit(data.id, rateLimit, t.clock.now());
    expect(elsewhere).toEqual({ allowed: false, remaining: 0, resetAt: Date.parse(windowEnd(t.clock.now())) });
  });

  it('opens a new window once the clock passes resetAt', async () => {
    const t = await testApp({ rateLimiter: redisLimiter(uniquePrefix()) });
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner, { rateLimit: { limit: 2, windowSeconds: 60 } });
    const resetAt = windowEnd(t.clock.now());
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', rateLimit: { limit: 2, remaining: 1, resetAt } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', rateLimit: { limit: 2, remaining: 0, resetAt } });
    expect(await t.verify({ key: rawKey })).toMatchObject({ valid: false, code: 'RATE_LIMITED', rateLimit: { limit: 2, remaining: 0, resetAt } });
    t.clock.set(Date.parse(resetAt));
    expect(await t.verify({ key: rawKey })).toMatchObject({ code: 'VALID', rateLimit: { limit: 2, remaining: 1, resetAt: windowEnd(Date.parse(resetAt)) } });
  });

  it('keeps verifying when Redis is unreachable: limits hold per instance, one warning, no secret logged', async () => {
    const port = await closedPort();
    let t: TestApp | undefined;
    // The limiter logs through the app's logger, as the server wires it.
    const logger: RateLimiterLogger = { warn: (d, m) => t?.app.log.warn(d, m), info: (d, m) => t?.app.log.info(d, m) };
    t = await testApp({ rateLimiter: redisLimiter(uniquePrefix(), { url: `redis://:redis-password-123@127.0.0.1:${port}`, logger }) });
    const owner = await t.signup();
    const { rawKey } = await t.createKey(owner, { rateLimit });
    const answers = await verifyAtOnce([t], rawKey, 50);
    expect(tally(answers)).toEqual({ VALID: 20, RATE_LIMITED: 30 });
    const warnings = t.logs.filter((line) => line.includes('Redis is not answering'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: 40, redis: `redis://127.0.0.1:${port}` });
    const logs = t.logs.join('\n');
    expect(logs).not.toContain(rawKey);
    expect(logs).not.toContain('redis-password-123');
  });
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('REDIS_URL in the configuration', () => {
  it('is optional, and accepts redis:// and rediss:// URLs', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: '' }).redisUrl).toBeUndefined();
    for (const url of ['redis://127.0.0.1:6379', 'rediss://user:secret@cache.example.com:6380/2', 'redis://localhost']) {
      expect(loadConfig({ REDIS_URL: url }).redisUrl).toBe(url);
    }
  });

  it('refuses anything else with a clear message that does not repeat the value', () => {
    for (const url of ['http://cache.example.com:6379', 'localhost:6379', 'redis://', 'redis://:top-secret@exa mple.com', 'postgres://u:top-secret@h/db']) {
      let error: unknown;
      try {
        loadConfig({ REDIS_URL: url });
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe('REDIS_URL must be a redis:// or rediss:// URL');
    }
  });
});

// The real `keysmith serve` (SQLite in a temporary directory: the CLI takes no PostgreSQL schema).
describe.skipIf(dialect !== 'sqlite')('keysmith serve with REDIS_URL', { timeout: 120_000 }, () => {
  it('counts rate limits in Redis, shared with other instances, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-redis-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: ROOT,
      env: cliEnv(dataDir, { PORT: String(port), HOST: '127.0.0.1', REDIS_URL, KEYSMITH_SERVICE_TOKENS: SERVICE_TOKEN }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    await waitFor('the server to be ready', () => output.includes('Keysmith is ready') || child.exitCode !== null, 60_000);
    expect(output).toMatch(/"rateLimits":"redis".*Keysmith is ready/);

    const signup = await send(port, 'POST', '/api/v1/auth/signup', { body: { email: 'ops@example.com', password: PASSWORD, name: 'Ops' } });
    expect(signup.status, signup.body).toBe(201);
    const session = /keysmith_session=([^;]+)/.exec(([] as string[]).concat(signup.headers['set-cookie'] ?? []).join(';'))?.[1] as string;
    const headers = { cookie: `keysmith_session=${session}`, origin: `http://127.0.0.1:${port}` };
    // A day-long window, so that this test and the server (on the real clock) are in the same one.
    const dayLimit = { limit: 3, windowSeconds: 86_400 };
    const created = await send(port, 'POST', '/api/v1/keys', { headers, body: { name: 'shared', rateLimit: dayLimit } });
    expect(created.status, created.body).toBe(201);
    const { data, rawKey } = JSON.parse(created.body) as { data: { id: string }; rawKey: string };
    const dayStart = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    cleanups.push(async () => void (await redisCommand('DEL', `keysmith:rl:${data.id}:${dayStart}`)));

    // Another instance (this test, on the server's default prefix) spends two of the three.
    const elsewhere = redisLimiter('keysmith:rl:');
    for (let i = 0; i < 2; i += 1) expect((await elsewhere.hit(data.id, dayLimit, Date.now())).allowed).toBe(true);
    const verify = async () => {
      const res = await send(port, 'POST', '/api/v1/keys/verify', { headers: { authorization: `Bearer ${SERVICE_TOKEN}` }, body: { key: rawKey } });
      expect(res.status, res.body).toBe(200);
      return JSON.parse(res.body) as Answer;
    };
    expect(await verify()).toMatchObject({ code: 'VALID', rateLimit: { limit: 3, remaining: 0 } });
    expect(await verify()).toMatchObject({ code: 'RATE_LIMITED', rateLimit: { limit: 3, remaining: 0 } });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).not.toContain(rawKey);
    expect(output).not.toContain(session);
  });

  it('refuses to start with a REDIS_URL that is not redis:// or rediss://', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-redis-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: ROOT,
      env: cliEnv(dataDir, { PORT: String(await freePort()), REDIS_URL: 'https://user:top-secret@cache.example.com' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('keysmith: REDIS_URL must be a redis:// or rediss:// URL');
    expect(stderr).not.toContain('top-secret');
  });
});
