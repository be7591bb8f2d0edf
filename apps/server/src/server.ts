import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createVault } from '@keysmith/core';
import { CACHE_CHANNEL, createPgCacheEventSource, createRedisRateLimiter } from '@keysmith/db';
import { buildApp, REDACT_PATHS } from './app';
import { loadMasterKeys } from './master-key';
import type { Config } from './config';
import { createArgon2Hasher } from './password';
import { cryptoRandom, openStore, systemClock } from './runtime';

/** Starts the server from a configuration and stops it gracefully on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<FastifyInstance> {
  const warnings: string[] = [];
  const vault = createVault(loadMasterKeys(config, (m) => warnings.push(m)));
  const { handle, store } = await openStore(config);
  // With REDIS_URL, rate limits are counted once across instances. The limiter logs only from
  // verifications, so the app (and its logger) exists by the time it does.
  const rateLimiter = config.redisUrl
    ? createRedisRateLimiter({ url: config.redisUrl, logger: { warn: (d, m) => app.log.warn(d, m), info: (d, m) => app.log.info(d, m) } })
    : undefined;
  const app = await buildApp({
    vault,
    config,
    store,
    clock: systemClock,
    random: cryptoRandom,
    hasher: createArgon2Hasher(),
    dashboardDir: fileURLToPath(new URL('../../dashboard/dist', import.meta.url)),
    cacheEvents: handle.dialect === 'postgres' && config.databaseUrl ? createPgCacheEventSource({ url: config.databaseUrl, channel: CACHE_CHANNEL }) : null,
    logger: { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    rateLimiter,
  });
  for (const warning of warnings) app.log.warn(warning);
  await app.listen({ port: config.port, host: config.host });
  app.log.info({ database: handle.dialect, file: handle.file, rateLimits: rateLimiter ? 'redis' : 'memory' }, 'Keysmith is ready');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping: finishing in-flight requests');
    // close() stops accepting connections, waits for in-flight requests and writes the batched
    // usage counts (onClose); only then are the database and Redis closed.
    app.close().then(() => handle.close()).then(() => rateLimiter?.close()).then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return app;
}
