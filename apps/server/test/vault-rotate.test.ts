import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { masterKeyId } from '@keysmith/core';
import { openDatabase } from '@keysmith/db';
import { buildTestApp, dialect, PASSWORD } from './helpers';
import { BIN, cliEnv, freePort, ROOT, send, waitFor as waitUntil } from './processes';

// The real `keysmith` command, spawned against a SQLite file in a temporary data directory.

const WAIT_MS = 30_000;
const waitFor = (what: string, check: () => boolean | Promise<boolean>) => waitUntil(what, check, WAIT_MS);

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}


const children: ChildProcess[] = [];

function spawnCli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; done: Promise<RunResult>; stdout: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const done = new Promise<RunResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keysmith ${args.join(' ')} did not finish in ${WAIT_MS} ms\n${stdout}\n${stderr}`));
    }, WAIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
  return { child, done, stdout: () => stdout };
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return spawnCli(args, env).done;
}


const newKey = () => randomBytes(32).toString('base64');
const idOf = (key: string) => masterKeyId(Buffer.from(key, 'base64'));

interface Stored {
  teamId: string;
  id: string;
  key: string;
}

let dataDir: string;
beforeEach(() => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'keysmith-vault-')), 'data');
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }
  rmSync(resolve(dataDir, '..'), { recursive: true, force: true });
});

/** An app (in this process) over the data directory's SQLite file, with `masterKey` as KEYSMITH_MASTER_KEY. */
function appOn(masterKey: string) {
  return buildTestApp({ env: { KEYSMITH_DATA_DIR: dataDir, KEYSMITH_MASTER_KEY: masterKey } });
}

/** Stores `count` credentials under `masterKey`, spread over two teams. */
async function storeCredentials(masterKey: string, count: number): Promise<Stored[]> {
  const app = await appOn(masterKey);
  try {
    const teams = [(await app.signup()).team.id, (await app.signup()).team.id];
    const stored: Stored[] = [];
    for (let i = 0; i < count; i += 1) {
      const teamId = teams[i % 2] as string;
      const key = `sk-rotate-${i}-${randomBytes(12).toString('hex')}`;
      const res = await app.request({ method: 'POST', url: '/api/v1/provider-keys', token: true, teamId, body: { type: 'openai', description: `credential ${i}`, key } });
      expect(res.statusCode, res.body).toBe(201);
      stored.push({ teamId, id: res.json().data.id, key });
    }
    return stored;
  } finally {
    await app.close();
  }
}

/** Reveals every credential on an app with `masterKey`: the status of each, after checking every 200 answers the stored value. */
async function revealAll(masterKey: string, stored: Stored[]): Promise<number[]> {
  const app = await appOn(masterKey);
  try {
    const statuses: number[] = [];
    for (const s of stored) {
      const res = await app.request({ method: 'POST', url: `/api/v1/provider-keys/${s.id}/reveal`, token: true, teamId: s.teamId });
      if (res.statusCode === 200) expect(res.json().data.key).toBe(s.key);
      else expect(res.json().error.code).toBe('CREDENTIAL_UNAVAILABLE');
      statuses.push(res.statusCode);
    }
    return statuses;
  } finally {
    await app.close();
  }
}

/** How many rows each master key id seals. */
async function countByMasterKey(): Promise<Record<string, number>> {
  const handle = openDatabase({ dataDir });
  try {
    const rows = await handle.db.selectFrom('provider_keys').select('master_key_id').execute();
    const counts: Record<string, number> = {};
    for (const { master_key_id } of rows) counts[master_key_id] = (counts[master_key_id] ?? 0) + 1;
    return counts;
  } finally {
    await handle.close();
  }
}

function expectNoSecrets(result: RunResult, secrets: string[]): void {
  for (const value of secrets) {
    expect(result.stdout).not.toContain(value);
    expect(result.stderr).not.toContain(value);
  }
}

// Each case spawns processes that compile TypeScript at start: allow for a loaded machine.
describe.skipIf(dialect !== 'sqlite')('keysmith vault rotate', { timeout: 180_000 }, () => {
  it('re-seals every credential from A to B; with A removed every credential still reveals, and a second run has nothing to do', async () => {
    const keyA = newKey();
    const keyB = newKey();
    const stored = await storeCredentials(keyA, 6);
    expect(await countByMasterKey()).toEqual({ [idOf(keyA)]: 6 });

    const result = await runCli(['vault', 'rotate'], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: `${keyB},${keyA}` }));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Done: 6 credential(s) re-sealed under ${idOf(keyB)}`);
    expect(result.stdout).toMatch(/older keys can be removed/);
    expectNoSecrets(result, [keyA, keyB, ...stored.map((s) => s.key)]);
    expect(await countByMasterKey()).toEqual({ [idOf(keyB)]: 6 });

    expect(await revealAll(keyB, stored)).toEqual(stored.map(() => 200));
    // Really moved: A alone opens none of them now.
    expect(await revealAll(keyA, stored)).toEqual(stored.map(() => 503));

    const again = await runCli(['vault', 'rotate'], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: keyB }));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Done: 0 credential(s)');
  });

  it('resumes a rotation killed after its first batch: whole batches moved, everything reveals with "B,A", and after a second run with B alone', async () => {
    const keyA = newKey();
    const keyB = newKey();
    const stored = await storeCredentials(keyA, 500);

    // Hold the rotation inside its second batch, so that the kill surely lands part-way: once
    // ten rows are under B, a trigger makes the next re-seal run a query that never ends.
    const handle = openDatabase({ dataDir });
    await sql
      .raw(
        `create trigger hold_rotation before update of master_key_id on provider_keys
         when (select count(*) from provider_keys where master_key_id = '${idOf(keyB)}') >= 10
         begin
           select count(*) from provider_keys a, provider_keys b, provider_keys c, provider_keys d where a.id < b.id || c.id || d.id;
         end`,
      )
      .execute(handle.db);
    await handle.close();

    const run = spawnCli(['vault', 'rotate', '--batch-size', '10'], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: `${keyB},${keyA}` }));
    await waitFor('the first batch to be reported', () => /\b10 re-sealed so far/.test(run.stdout()));
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.code).toBeNull();
    expect(killed.stdout).not.toContain('Done:');

    const cleanup = openDatabase({ dataDir });
    await sql`drop trigger hold_rotation`.execute(cleanup.db);
    await cleanup.close();

    // Whole batches only: the batch in progress was rolled back with the process.
    expect(await countByMasterKey()).toEqual({ [idOf(keyB)]: 10, [idOf(keyA)]: 490 });
    expect(await revealAll(`${keyB},${keyA}`, stored)).toEqual(stored.map(() => 200));
    const withBOnly = await revealAll(keyB, stored);
    expect(withBOnly.filter((s) => s === 200)).toHaveLength(10);
    expect(withBOnly.filter((s) => s === 503)).toHaveLength(490);

    const resumed = await runCli(['vault', 'rotate', '--batch-size', '50'], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: `${keyB},${keyA}` }));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('Done: 490 credential(s)');
    expect(await countByMasterKey()).toEqual({ [idOf(keyB)]: 500 });
    expect(await revealAll(keyB, stored)).toEqual(stored.map(() => 200));
  });

  it('exits 1 naming the credentials it cannot open when their master key is not configured, and leaves them under it', async () => {
    const keyA = newKey();
    const keyB = newKey();
    const stored = await storeCredentials(keyA, 3);
    const result = await runCli(['vault', 'rotate'], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: keyB }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('3 credential(s) could not be opened');
    for (const s of stored) expect(result.stderr).toContain(s.id);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expectNoSecrets(result, [keyA, keyB, ...stored.map((s) => s.key)]);
    expect(await countByMasterKey()).toEqual({ [idOf(keyA)]: 3 });
    expect(await revealAll(keyA, stored)).toEqual([200, 200, 200]);
  });

  it('refuses a bad --batch-size or a bad KEYSMITH_MASTER_KEY without touching anything', async () => {
    const keyA = newKey();
    await storeCredentials(keyA, 1);
    for (const size of ['0', '-5', 'ten', '2.5']) {
      const result = await runCli(['vault', 'rotate', `--batch-size=${size}`], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: `${newKey()},${keyA}` }));
      expect(result.code, size).toBe(2);
      expect(result.stderr).toContain('--batch-size');
    }
    const short = randomBytes(16).toString('base64');
    const bad = await runCli(['vault', 'rotate'], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: `${short},${keyA}` }));
    expect(bad.code).not.toBe(0);
    expect(bad.code).not.toBeNull();
    expect(bad.stderr).toContain('KEYSMITH_MASTER_KEY');
    expect(bad.stderr).not.toContain(short);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(await countByMasterKey()).toEqual({ [idOf(keyA)]: 1 });
  });
});



/** Starts `keysmith serve` on a free port and waits until it answers /healthz. */
async function startServer(env: NodeJS.ProcessEnv) {
  const port = await freePort();
  const { child, done } = spawnCli(['serve'], { ...env, PORT: String(port), HOST: '127.0.0.1' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let exited = false;
  void done.then(() => (exited = true));
  await waitFor('the server to answer /healthz', async () => {
    if (exited) throw new Error(`keysmith serve exited:\n${output}`);
    try {
      return (await send(port, 'GET', '/healthz')).status === 200;
    } catch {
      return false;
    }
  });
  return {
    port,
    output: () => output,
    send: (method: string, path: string, options?: { headers?: Record<string, string>; body?: unknown }) => send(port, method, path, options),
    async stop() {
      child.kill('SIGTERM');
      return (await done).code;
    },
  };
}

describe.skipIf(dialect !== 'sqlite')('the master key at start', { timeout: 180_000 }, () => {
  it('refuses to start with NODE_ENV=production and no KEYSMITH_MASTER_KEY, saying so, and creates no key', async () => {
    const result = await runCli(['serve'], cliEnv(dataDir, { NODE_ENV: 'production', PORT: String(await freePort()) }));
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(/^keysmith: KEYSMITH_MASTER_KEY is required when NODE_ENV=production/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
    expect(existsSync(join(dataDir, 'keysmith.db'))).toBe(false);
  });

  it('starts in production with a KEYSMITH_MASTER_KEY, and then generates no key file', async () => {
    const server = await startServer(cliEnv(dataDir, { NODE_ENV: 'production', KEYSMITH_MASTER_KEY: newKey() }));
    expect((await server.send('GET', '/healthz')).status).toBe(200);
    expect(await server.stop()).toBe(0);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
  });

  it('refuses a KEYSMITH_MASTER_KEY that is not 32 bytes of base64, naming the variable but not its value', async () => {
    const wrong = randomBytes(24).toString('base64');
    const result = await runCli(['serve'], cliEnv(dataDir, { KEYSMITH_MASTER_KEY: wrong, PORT: String(await freePort()) }));
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain('KEYSMITH_MASTER_KEY');
    expect(result.stderr).not.toContain(wrong);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('without KEYSMITH_MASTER_KEY outside production, generates master.key (mode 0600) into the data directory with a warning, and keeps using it', async () => {
    const env = cliEnv(dataDir, { NODE_ENV: 'development' });
    const server = await startServer(env);
    const file = join(dataDir, 'master.key');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const generated = readFileSync(file, 'utf8').trim();
    expect(Buffer.from(generated, 'base64')).toHaveLength(32);
    expect(server.output()).toMatch(/"level":40[^\n]*Generated a master key for provider credentials at [^\n]*master\.key/);
    expect(server.output()).not.toContain(generated);

    // A credential stored now reveals after a restart: the same key is read back, not a new one.
    const origin = `http://127.0.0.1:${server.port}`;
    const signup = await server.send('POST', '/api/v1/auth/signup', { body: { email: 'vault@example.com', password: PASSWORD, name: 'Vault' } });
    expect(signup.status, signup.body).toBe(201);
    const session = /keysmith_session=([^;]+)/.exec(([] as string[]).concat(signup.headers['set-cookie'] ?? []).join(';'))?.[1] as string;
    const headers = { cookie: `keysmith_session=${session}`, origin };
    const value = `sk-restart-${randomBytes(16).toString('hex')}`;
    const created = await server.send('POST', '/api/v1/provider-keys', { headers, body: { type: 'openai', description: 'survives restarts', key: value } });
    expect(created.status, created.body).toBe(201);
    const id = JSON.parse(created.body).data.id as string;
    expect(await server.stop()).toBe(0);

    const again = await startServer(env);
    expect(again.output()).not.toContain('Generated a master key');
    expect(readFileSync(file, 'utf8').trim()).toBe(generated);
    const revealed = await again.send('POST', `/api/v1/provider-keys/${id}/reveal`, { headers: { ...headers, origin: `http://127.0.0.1:${again.port}` } });
    expect(revealed.status, revealed.body).toBe(200);
    expect(JSON.parse(revealed.body).data.key).toBe(value);
    expect(await again.stop()).toBe(0);
    for (const output of [server.output(), again.output()]) expect(output).not.toContain(value);
  });
});
