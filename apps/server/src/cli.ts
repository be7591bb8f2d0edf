import { parseArgs } from 'node:util';
import { createServiceTokenService, createVault, cryptoRandom, rotateMasterKey, rotateWebhookSecrets, systemClock } from '@keysmith/core';
import { ConfigError, loadConfig } from './config';
import { loadMasterKeys } from './master-key';
import { openStore } from './runtime';

const USAGE = `Usage: keysmith <command>

Commands:
  serve                              start the server (the default)
  migrate                            apply pending database migrations and exit
  service-token create --name NAME   create a service token (shown once)
  service-token list                 list service tokens (never their values)
  service-token revoke ID            revoke a service token
  vault rotate [--batch-size N]      re-seal every provider credential's data key under the
                                     newest master key (the first in KEYSMITH_MASTER_KEY),
                                     N per transaction (default 100); resumable: run it
                                     again if it was interrupted

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
    options: { name: { type: 'string' }, 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  if (command === 'vault' && sub === 'rotate') {
    const batchSize = values['batch-size'] === undefined ? 100 : Number(values['batch-size']);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      console.error('keysmith: --batch-size must be a whole number from 1 to 10000');
      return 2;
    }
    const vault = createVault(loadMasterKeys(config, (m) => console.error(`keysmith: ${m}`)));
    const { handle, store } = await openStore(config);
    try {
      console.log(`Re-sealing data keys under master key ${vault.currentMasterKeyId}…`);
      const credentials = await rotateMasterKey(store, vault, { batchSize, onBatch: (done) => console.log(`  ${done} re-sealed so far`) });
      // Webhook signing secrets are sealed under the same master keys.
      const webhookSecrets = await rotateWebhookSecrets(store, vault, { batchSize });
      const result = { rewrapped: credentials.rewrapped + webhookSecrets.rewrapped, failed: [...credentials.failed, ...webhookSecrets.failed] };
      console.log(`Done: ${result.rewrapped} credential(s) re-sealed under ${vault.currentMasterKeyId}.`);
      if (result.failed.length > 0) {
        console.error(`keysmith: ${result.failed.length} credential(s) could not be opened with the configured master keys: ${result.failed.join(', ')}`);
        return 1;
      }
      console.log('Every credential is now sealed under the newest master key; older keys can be removed from KEYSMITH_MASTER_KEY.');
      return 0;
    } finally {
      await handle.close();
    }
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
