import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp, REDACT_PATHS } from './app';
import type { Config } from './config';
import { createArgon2Hasher } from './password';
import { cryptoRandom, openStore, systemClock } from './runtime';

/** Starts the server from a configuration and stops it gracefully on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<FastifyInstance> {
  const { handle, store } = await openStore(config);
  const app = await buildApp({
    config,
    store,
    clock: systemClock,
    random: cryptoRandom,
    hasher: createArgon2Hasher(),
    dashboardDir: fileURLToPath(new URL('../../dashboard/dist', import.meta.url)),
    logger: { level: config.logLevel, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
  });
  app.addHook('onClose', async () => {
    await handle.close();
  });
  await app.listen({ port: config.port, host: config.host });
  app.log.info({ database: handle.dialect, file: handle.file }, 'Keysmith is ready');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping: finishing in-flight requests');
    // close() stops accepting connections, waits for in-flight requests, then runs onClose hooks.
    app.close().then(
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
