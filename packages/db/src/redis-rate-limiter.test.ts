import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter, type RateLimitSetting } from '@keysmith/core';
import { createRedisRateLimiter, type RateLimiterLogger, type RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter';

const REDIS_URL = process.env.KEYSMITH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisAddress = new URL(REDIS_URL);
// A time on a minute boundary, so that 60-second windows start here.
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const setting = { limit: 3, windowSeconds: 60 };

const admin = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, retryStrategy: () => null, maxRetriesPerRequest: 0 });
let adminError: Error | undefined;
admin.on('error', (error: Error) => (adminError = error));
// These tests need a real Redis: every one of them fails, none skips, without it.
const redisAnswers = admin
  .connect()
  .then(() => admin.ping())
  .catch((error: Error) => {
    throw new Error(`Redis is required for the rate limiter tests at ${REDIS_URL} (KEYSMITH_TEST_REDIS_URL): ${(adminError ?? error).message}`);
  });
redisAnswers.catch(() => {});
beforeEach(() => redisAnswers.then(() => undefined));
afterAll(() => {
  admin.disconnect();
});

let counter = 0;
const opened: Array<{ close(): Promise<void> }> = [];
const prefixes: string[] = [];

/** A prefix of its own, so that test files and cases running at once never share a counter. */
function uniquePrefix(): string {
  counter += 1;
  const prefix = `keysmith:test:${process.pid}:${Date.now()}:${counter}:`;
  prefixes.push(prefix);
  return prefix;
}

function limiter(options: Partial<RedisRateLimiterOptions> & { prefix: string }): RedisRateLimiter {
  const created = createRedisRateLimiter({ url: REDIS_URL, ...options });
  opened.push(created);
  return created;
}

function logs() {
  const lines: Array<{ level: 'warn' | 'info'; details: object; message: string }> = [];
  const logger: RateLimiterLogger = {
    warn: (details, message) => lines.push({ level: 'warn', details, message }),
    info: (details, message) => lines.push({ level: 'info', details, message }),
  };
  return { lines, logger, count: (level: 'warn' | 'info') => lines.filter((l) => l.level === level).length };
}

afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
  if (admin.status !== 'ready') return;
  for (const prefix of prefixes.splice(0)) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  }
});

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it holds; fails after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A TCP proxy in front of Redis that a test can cut (stop/start) or make unresponsive (hold:
 * commands still reach Redis, replies are kept back until release).
 */
async function redisProxy() {
  const sockets = new Set<Socket>();
  let held = false;
  const heldReplies: Array<() => void> = [];
  const server: Server = createServer((client) => {
    const upstream = connect(Number(redisAddress.port || 6379), redisAddress.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => (held ? heldReplies.push(() => client.write(chunk)) : client.write(chunk)));
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  const proxy = {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start: () => listen(port),
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      for (const write of heldReplies.splice(0)) write();
    },
  };
  opened.push({ close: () => (server.listening ? stop() : Promise.resolve()) });
  return proxy;
}

describe('Redis rate limiter: the same windows as the memory limiter', () => {
  it('gives the same answers as the memory limiter for the same hits', async () => {
    const redis = limiter({ prefix: uniquePrefix() });
    const memory = createMemoryRateLimiter();
    const one: RateLimitSetting = { limit: 1, windowSeconds: 1 };
    const hits: Array<[string, RateLimitSetting, number]> = [
      ['key_a', setting, T0],
      ['key_a', setting, T0 + 1_000],
      ['key_b', setting, T0 + 1_500],
      ['key_a', setting, T0 + 30_000],
      ['key_a', setting, T0 + 59_999],
      ['key_a', setting, T0 + 60_000],
      ['key_b', setting, T0 + 61_000],
      ['key_c', one, T0 + 5],
      ['key_c', one, T0 + 999],
      ['key_c', one, T0 + 1_000],
      ['key_c', one, T0 + 3_500],
      ['key_a', setting, T0 + 119_999],
      ['key_a', setting, T0 + 180_001],
    ];
    for (const [keyId, s, now] of hits) expect(await redis.hit(keyId, s, now), `${keyId} at +${now - T0} ms`).toEqual(await memory.hit(keyId, s, now));
  });

  it('allows `limit` requests in a window, counts down what remains, never below zero', async () => {
    const redis = limiter({ prefix: uniquePrefix() });
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await redis.hit('key_1', setting, T0 + i * 1000));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0, 0]);
  });

  it('says the window resets at its end, aligned to multiples of the window', async () => {
    const redis = limiter({ prefix: uniquePrefix() });
    expect((await redis.hit('key_1', setting, T0 + 12_345)).resetAt).toBe(T0 + 60_000);
    expect((await redis.hit('key_1', setting, T0 + 59_999)).resetAt).toBe(T0 + 60_000);
    expect((await redis.hit('key_1', setting, T0 + 60_000)).resetAt).toBe(T0 + 120_000);
  });

  it('starts afresh in the next window', async () => {
    const redis = limiter({ prefix: uniquePrefix() });
    for (let i = 0; i < 4; i += 1) await redis.hit('key_1', setting, T0 + 1000);
    expect((await redis.hit('key_1', setting, T0 + 59_999)).allowed).toBe(false);
    expect(await redis.hit('key_1', setting, T0 + 60_000)).toEqual({ allowed: true, remaining: 2, resetAt: T0 + 120_000 });
  });

  it('counts each key on its own', async () => {
    const redis = limiter({ prefix: uniquePrefix() });
    for (let i = 0; i < 3; i += 1) await redis.hit('key_1', setting, T0);
    expect((await redis.hit('key_1', setting, T0)).allowed).toBe(false);
    expect(await redis.hit('key_2', setting, T0)).toEqual({ allowed: true, remaining: 2, resetAt: T0 + 60_000 });
  });

  it('names counters by prefix, key id and window start only, and lets Redis drop them after the window', async () => {
    const prefix = uniquePrefix();
    const redis = limiter({ prefix });
    await redis.hit('key_1', setting, T0 + 20_000);
    expect(await admin.keys(`${prefix}*`)).toEqual([`${prefix}key_1:${T0}`]);
    const ttl = await admin.pttl(`${prefix}key_1:${T0}`);
    // The 40 s left of the window, plus a few seconds for clocks that differ between instances.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(40_000 + 5_000);
  });
});

describe('Redis rate limiter: one limit across instances', () => {
  it('lets exactly `limit` of 500 concurrent hits through, from two instances at once', async () => {
    const prefix = uniquePrefix();
    // Two limiters are two Redis clients, as two server instances would have. The generous
    // command timeout keeps a busy test machine from sending hits to the memory fallback.
    const a = limiter({ prefix, commandTimeoutMs: 10_000 });
    const b = limiter({ prefix, commandTimeoutMs: 10_000 });
    const limit = { limit: 50, windowSeconds: 60 };
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? a : b).hit('key_1', limit, T0 + (i % 7))));
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(50);
    // Every allowed hit saw a distinct count: no two took the same place in the window.
    expect(new Set(allowed.map((r) => r.remaining))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => i)));
    expect(results.filter((r) => !r.allowed).every((r) => r.remaining === 0 && r.resetAt === T0 + 60_000)).toBe(true);
    expect(await admin.get(`${prefix}key_1:${T0}`)).toBe('500');
  });

  it('shares one window between instances with the same prefix, and none between prefixes', async () => {
    const prefix = uniquePrefix();
    const a = limiter({ prefix });
    const b = limiter({ prefix });
    const other = limiter({ prefix: uniquePrefix() });
    await a.hit('key_1', setting, T0);
    await b.hit('key_1', setting, T0 + 1);
    expect(await a.hit('key_1', setting, T0 + 2)).toEqual({ allowed: true, remaining: 0, resetAt: T0 + 60_000 });
    expect((await b.hit('key_1', setting, T0 + 3)).allowed).toBe(false);
    expect((await other.hit('key_1', setting, T0 + 4)).remaining).toBe(2);
  });
});

describe('Redis rate limiter: when Redis does not answer', () => {
  it('counts per instance when Redis is unreachable, never throws, and warns once', async () => {
    const port = await closedPort();
    const { lines, logger, count } = logs();
    const a = limiter({ prefix: uniquePrefix(), url: `redis://:hunter2-secret@127.0.0.1:${port}`, logger });
    const b = limiter({ prefix: uniquePrefix(), url: `redis://127.0.0.1:${port}` });
    const results = [];
    for (let i = 0; i < 5; i += 1) results.push(await a.hit('key_1', setting, T0 + i));
    expect(results).toEqual([
      { allowed: true, remaining: 2, resetAt: T0 + 60_000 },
      { allowed: true, remaining: 1, resetAt: T0 + 60_000 },
      { allowed: true, remaining: 0, resetAt: T0 + 60_000 },
      { allowed: false, remaining: 0, resetAt: T0 + 60_000 },
      { allowed: false, remaining: 0, resetAt: T0 + 60_000 },
    ]);
    // Another instance has its own count: limits hold per instance.
    expect((await b.hit('key_1', setting, T0)).remaining).toBe(2);
    // Many hits at once during the outage: still no throw, still one warning.
    const burst = await Promise.all(Array.from({ length: 100 }, () => a.hit('key_2', setting, T0)));
    expect(burst.filter((r) => r.allowed)).toHaveLength(3);
    expect(count('warn')).toBe(1);
    expect(lines[0]?.message).toMatch(/Redis is not answering/);
    expect(lines[0]?.details).toEqual({ redis: `redis://127.0.0.1:${port}`, reason: expect.stringMatching(/ECONNREFUSED|closed|not connected/) });
    // The password of the URL is in no log line.
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('does not hang on a server that accepts connections but never answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const sockets: Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    opened.push({
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    });
    const { logger, count } = logs();
    const a = limiter({ prefix: uniquePrefix(), url: `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`, logger, commandTimeoutMs: 200 });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => a.hit('key_1', setting, T0 + i)));
    expect(results.map((r) => r.allowed).sort()).toEqual([false, false, true, true, true]);
    expect(count('warn')).toBe(1);
  });

  it('falls back when the connection is lost, warns once, and counts in Redis again once it is back', async () => {
    const prefix = uniquePrefix();
    const proxy = await redisProxy();
    const { lines, logger, count } = logs();
    const a = limiter({ prefix, url: proxy.url, logger });
    const b = limiter({ prefix });
    // Another instance spends the window in Redis: a sees it.
    for (let i = 0; i < 3; i += 1) await b.hit('key_1', setting, T0);
    expect((await a.hit('key_1', setting, T0)).allowed).toBe(false);

    await proxy.stop();
    // Without Redis, a counts on its own: its window starts empty.
    const during = [];
    for (let i = 0; i < 4; i += 1) during.push((await a.hit('key_1', setting, T0 + 1)).allowed);
    expect(during).toEqual([true, true, true, false]);
    expect(count('warn')).toBe(1);

    await proxy.start();
    await waitFor('the limiter to use Redis again', async () => {
      await a.hit('key_poll', setting, T0);
      return count('info') === 1;
    });
    expect(lines.at(-1)?.message).toMatch(/Redis answers again/);
    // Back on the shared count: what b spends, a sees.
    expect((await a.hit('key_2', setting, T0)).remaining).toBe(2);
    expect((await b.hit('key_2', setting, T0)).remaining).toBe(1);
    expect((await a.hit('key_2', setting, T0)).remaining).toBe(0);
    expect((await b.hit('key_2', setting, T0)).allowed).toBe(false);
    expect(count('warn')).toBe(1);
  });

  it('falls back when Redis is slower than the command timeout, and checks it again until it answers', async () => {
    const prefix = uniquePrefix();
    const proxy = await redisProxy();
    const { logger, count } = logs();
    const a = limiter({ prefix, url: proxy.url, logger, commandTimeoutMs: 200, probeIntervalMs: 50 });
    const b = limiter({ prefix });
    for (let i = 0; i < 3; i += 1) await b.hit('key_1', setting, T0);
    expect((await a.hit('key_1', setting, T0)).allowed).toBe(false);

    proxy.hold();
    const during = [];
    for (let i = 0; i < 4; i += 1) during.push((await a.hit('key_1', setting, T0)).allowed);
    expect(during).toEqual([true, true, true, false]);
    expect(count('warn')).toBe(1);

    proxy.release();
    await waitFor('the limiter to use Redis again', async () => {
      await a.hit('key_poll', setting, T0);
      return count('info') === 1;
    });
    expect((await a.hit('key_2', setting, T0)).remaining).toBe(2);
    expect((await b.hit('key_2', setting, T0)).remaining).toBe(1);
    expect((await a.hit('key_1', setting, T0)).allowed).toBe(false);
    expect(count('warn')).toBe(1);
  });

  it('counts in memory after close, and closes twice without error', async () => {
    const { logger, count } = logs();
    const a = limiter({ prefix: uniquePrefix(), logger });
    expect((await a.hit('key_1', setting, T0)).remaining).toBe(2);
    await a.close();
    await a.close();
    expect((await a.hit('key_1', setting, T0)).remaining).toBe(2);
    expect(count('warn')).toBe(0);
  });
});
