import { parseArgs } from 'node:util';
import { createServiceTokenService, cryptoRandom, systemClock } from '@keysmith/core';
import { ConfigError, loadConfig } from './config';
import { openStore } from './runtime';

const USAGE = `Usage: keysmith <command>

Commands:
  serve                              start the server (the default)
  migrate                            apply pending database migrations and exit
  service-token create --name NAME   create a service token (shown once)
  service-token list                 list service tokens (never their values)
  service-token revoke ID            revoke a service token

Configuration comes from the environment: see README.md.`;

/** The `keysmith` command. Returns the process exit code (-1: keeps serving). */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    // An operator gets one clear line, not a stack trace: a bad argument is 2, anything else 1.
    const message = error instanceof Error ? error.message : String(error);
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    console.error(`keysmith: ${message}`);
    if (code.startsWith('ERR_PARSE_ARGS')) {
      console.error(USAGE);
      return 2;
    }
    return code === 'VALIDATION_FAILED' ? 2 : 1;
  }
}

async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command = 'serve', sub, arg] = positionals;
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`keysmith: ${error.message}`);
      return 2;
    }
    throw error;
  }

  if (command === 'serve') {
    const { serve } = await import('./server');
    await serve(config);
    return -1; // keeps running
  }
  if (command === 'migrate') {
    const { handle } = await openStore(config);
    await handle.close();
    console.log(`Migrations applied (${handle.dialect}).`);
    return 0;
  }
  if (command === 'service-token') {
    const { handle, store } = await openStore(config);
    try {
      const tokens = createServiceTokenService({ store, clock: systemClock, random: cryptoRandom, envTokens: [] });
      if (sub === 'create') {
        if (!values.name) {
          console.error('keysmith: service-token create needs --name NAME');
          return 2;
        }
        const { token, raw } = await tokens.create(values.name);
        console.log(`Created service token ${token.id} (${token.name}).`);
        console.log('Copy it now; it will not be shown again:');
        console.log(raw);
        return 0;
      }
      if (sub === 'list') {
        const list = await tokens.list();
        if (list.length === 0) console.log('No service tokens.');
        for (const t of list) {
          console.log(`${t.id}\t${t.name}\tcreated ${new Date(t.createdAt).toISOString()}\t${t.revokedAt ? `revoked ${new Date(t.revokedAt).toISOString()}` : 'active'}`);
        }
        return 0;
      }
      if (sub === 'revoke' && arg) {
        try {
          await tokens.revoke(arg);
        } catch {
          console.error(`keysmith: no active service token ${arg}`);
          return 1;
        }
        console.log(`Revoked ${arg}.`);
        return 0;
      }
    } finally {
      await handle.close();
    }
  }
  console.error(USAGE);
  return 2;
}
