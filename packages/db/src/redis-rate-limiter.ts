import { Redis } from 'ioredis';
import { createMemoryRateLimiter, type RateLimiter } from '@keysmith/core';

/** Where the limiter reports an outage and the recovery (the app's pino logger fits). */
export interface RateLimiterLogger {
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface RedisRateLimiterOptions {
  /** `redis://` or `rediss://` URL. Its credentials are never logged. */
  url: string;
  /** Prefix of every Redis key the limiter writes (default `keysmith:rl:`). */
  prefix?: string;
  logger?: RateLimiterLogger;
  /** How long one hit waits for Redis before it is counted in memory instead (default 500 ms). */
  commandTimeoutMs?: number;
  /** How long a connection attempt may take (default 2000 ms). */
  connectTimeoutMs?: number;
  /** While Redis is connected but not answering, how often a hit checks it again (default 1000 ms). */
  probeIntervalMs?: number;
}

export interface RedisRateLimiter extends RateLimiter {
  /** Closes the Redis connection; later hits are counted in this instance's memory. */
  close(): Promise<void>;
}

/**
 * One hit on one window's counter, atomically: increments it and makes sure Redis drops it after
 * the window (ARGV[1] ms from now). Concurrent hits from any number of instances get distinct counts.
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return count
`;

/**
 * A counter outlives its window by this much, so an instance whose clock is a little behind still
 * finds it instead of starting the window afresh.
 */
const CLOCK_SKEW_MS = 5_000;

type LimiterClient = Redis & { keysmithRateLimitHit(key: string, ttlMs: number): Promise<number> };

/** `redis://host:port` without credentials, for logs. */
function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'redis';
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A fixed-window rate limiter in Redis, shared by every instance that uses the same Redis and
 * prefix. Same windows as the memory limiter: aligned to multiples of the window length, computed
 * from the `now` passed in; `remaining` and `resetAt` mean the same.
 *
 * Guarantees: each hit is one atomic script run (never read-then-write), so concurrent hits from
 * any number of instances let exactly `limit` through per window. Counters are named
 * `<prefix><keyId>:<windowStart>` (no secrets) and expire shortly after their window.
 *
 * When Redis does not answer (refused, lost, or a command slower than `commandTimeoutMs`), a hit
 * never waits longer than that and never throws: it is counted in this instance's memory, so
 * limits still hold per instance. One warning per outage goes to the logger, on the first hit
 * that falls back. Redis is used again as soon as it answers (it reconnects in the background).
 * A hit whose reply came too late may have been counted in Redis too: other instances then see
 * one more hit in that window, never one fewer.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): RedisRateLimiter {
  const prefix = options.prefix ?? 'keysmith:rl:';
  const commandTimeoutMs = options.commandTimeoutMs ?? 500;
  const probeIntervalMs = options.probeIntervalMs ?? 1_000;
  const target = describeTarget(options.url);
  const fallback = createMemoryRateLimiter();

  const client = new Redis(options.url, {
    connectionName: 'keysmith-rate-limiter',
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    commandTimeout: commandTimeoutMs,
    // Fail at once while disconnected instead of queueing until Redis is back.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A hit that was already counted in memory must not be counted again after a reconnect.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  }) as LimiterClient;
  client.defineCommand('keysmithRateLimitHit', { lua: HIT_SCRIPT, numberOfKeys: 1 });

  let closed = false;
  /** Set while Redis is not answering; `warned` once this outage has been logged. */
  let outage: { reason: string; warned: boolean } | null = null;
  let probing = false;
  let lastProbeAt = 0;

  const down = (reason: string) => {
    if (!closed && !outage) outage = { reason, warned: false };
  };
  const up = () => {
    const was = outage;
    outage = null;
    if (was?.warned) options.logger?.info({ redis: target }, 'Redis answers again: rate limits are shared across instances again');
  };
  client.on('ready', up);
  // Listening to 'error' also keeps ioredis from printing every failed reconnect.
  client.on('error', (error: unknown) => down(reasonOf(error)));
  client.on('close', () => down('connection closed'));

  // The first connection: hits wait for it, at most one command timeout, rather than all starting
  // in memory while it is being made.
  let connecting = true;
  let connectTimer: NodeJS.Timeout | undefined;
  const firstConnection = new Promise<void>((resolve) => {
    const settle = () => {
      connecting = false;
      clearTimeout(connectTimer);
      client.off('ready', settle);
      client.off('close', settle);
      resolve();
    };
    connectTimer = setTimeout(settle, commandTimeoutMs);
    connectTimer.unref();
    client.once('ready', settle);
    client.once('close', settle);
  });

  /** While connected but not answering, one hit now and then checks with a real (harmless) hit. */
  const probe = () => {
    if (closed || probing || client.status !== 'ready' || Date.now() - lastProbeAt < probeIntervalMs) return;
    probing = true;
    lastProbeAt = Date.now();
    client.keysmithRateLimitHit(`${prefix}probe`, 1_000).then(
      () => {
        probing = false;
        if (client.status === 'ready') up();
      },
      () => {
        probing = false;
      },
    );
  };

  return {
    async hit(keyId, setting, now) {
      const windowMs = setting.windowSeconds * 1000;
      const start = Math.floor(now / windowMs) * windowMs;
      const resetAt = start + windowMs;
      if (connecting) await firstConnection;
      if (!closed && !outage && client.status === 'ready') {
        try {
          const count = await client.keysmithRateLimitHit(`${prefix}${keyId}:${start}`, resetAt - now + CLOCK_SKEW_MS);
          return { allowed: count <= setting.limit, remaining: Math.max(0, setting.limit - count), resetAt };
        } catch (error) {
          down(reasonOf(error));
        }
      } else if (!closed) {
        down('not connected');
        probe();
      }
      if (outage && !outage.warned) {
        outage.warned = true;
        options.logger?.warn({ redis: target, reason: outage.reason }, 'Redis is not answering: rate limits are counted per instance until it is back');
      }
      return fallback.hit(keyId, setting, now);
    },
    async close() {
      if (closed) return;
      closed = true;
      outage = null;
      clearTimeout(connectTimer);
      if (client.status === 'ready') await client.quit().catch(() => undefined);
      client.disconnect();
    },
  };
}
