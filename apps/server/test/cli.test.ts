import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dialect, PASSWORD } from './helpers';
import { BIN, cliEnv, freePort, ROOT, send, waitFor as waitUntil, type HttpResult } from './processes';

// The CLI is spawned as a real process against a SQLite file in a temporary data directory.
// (A PostgreSQL schema per spawned process would need the CLI to take a schema, which it does not.)

const WAIT_MS = 20_000;
const waitFor = (what: string, check: () => boolean | Promise<boolean>) => waitUntil(what, check, WAIT_MS);

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}



/** Runs `keysmith <args>` to completion. */
function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
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
}




interface Server {
  port: number;
  child: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  send(method: string, path: string, options?: { headers?: Record<string, string>; body?: unknown }): Promise<HttpResult>;
}

const servers: Server[] = [];

/** Starts `keysmith serve` on a free port and waits until it answers /healthz. */
async function startServer(env: NodeJS.ProcessEnv): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolvePromise) => {
    child.on('exit', (code) => {
      exitCode = code;
      resolvePromise(code);
    });
  });
  const server: Server = { port, child, output: () => output, exited, send: (method, path, options) => send(port, method, path, options) };
  servers.push(server);
  await waitFor('the server to answer /healthz', async () => {
    if (exitCode !== undefined) throw new Error(`keysmith serve exited with ${exitCode}:\n${output}`);
    try {
      return (await server.send('GET', '/healthz')).status === 200;
    } catch {
      return false;
    }
  });
  return server;
}

/** Sends the signal and waits for the exit code. */
async function stop(server: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  server.child.kill(signal);
  return exitOf(server);
}

function exitOf(server: Server): Promise<number | null> {
  return Promise.race([
    server.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`serve did not exit:\n${server.output()}`)), WAIT_MS)),
  ]);
}

function tokenFrom(result: RunResult): { id: string; token: string } {
  const id = /service token (\S+) /.exec(result.stdout)?.[1];
  const lines = result.stdout.trim().split('\n');
  const token = lines[lines.length - 1]?.trim();
  if (!id || !token) throw new Error(`unexpected output of service-token create:\n${result.stdout}`);
  return { id, token };
}

// Each case spawns several processes that compile TypeScript at start: allow for a loaded machine.
describe.skipIf(dialect !== 'sqlite')('the keysmith CLI', { timeout: 120_000 }, () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'keysmith-cli-')), 'data');
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
    rmSync(resolve(dataDir, '..'), { recursive: true, force: true });
  });

  it('migrate creates the data directory and the database, and exits 0, also when run again', async () => {
    const first = await runCli(['migrate'], cliEnv(dataDir));
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(dataDir, 'keysmith.db'))).toBe(true);
    const again = await runCli(['migrate'], cliEnv(dataDir));
    expect(again.code, again.stderr).toBe(0);
  });

  it('service-token create prints a new token once; list shows its id and name but never the token', async () => {
    const created = await runCli(['service-token', 'create', '--name', 'ci'], cliEnv(dataDir));
    expect(created.code, created.stderr).toBe(0);
    const { id, token } = tokenFrom(created);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(created.stdout.split(token)).toHaveLength(2); // printed exactly once

    const other = tokenFrom(await runCli(['service-token', 'create', '--name', 'deploy bot'], cliEnv(dataDir)));
    expect(other.token).not.toBe(token);

    const list = await runCli(['service-token', 'list'], cliEnv(dataDir));
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+ci\\b`));
    expect(list.stdout).toMatch(new RegExp(`${other.id}\\s+deploy bot\\b`));
    expect(list.stdout).not.toContain(token);
    expect(list.stdout).not.toContain(other.token);
    expect(list.stderr).not.toContain(token);
  });

  it('refuses service-token create without a name or with a blank one, and revoke of an unknown token, with a non-zero exit and no stack trace', async () => {
    const noName = await runCli(['service-token', 'create'], cliEnv(dataDir));
    expect(noName.code).not.toBe(0);
    expect(noName.stderr).toMatch(/--name/);
    const blankName = await runCli(['service-token', 'create', '--name', '   '], cliEnv(dataDir));
    expect(blankName.code).not.toBe(0);
    expect(blankName.stderr).toMatch(/name.*must not be empty/);
    expect(blankName.stderr).not.toMatch(/\n\s+at /);
    const unknown = await runCli(['service-token', 'revoke', 'stk_doesnotexist'], cliEnv(dataDir));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('stk_doesnotexist');
  });

  it('a created token authenticates verification on a served instance until it is revoked, and never shows in the logs', async () => {
    const env = cliEnv(dataDir, { LOG_LEVEL: 'debug' });
    const { id, token } = tokenFrom(await runCli(['service-token', 'create', '--name', 'ci'], env));
    const server = await startServer(env);

    const verify = (bearer: string) =>
      server.send('POST', '/api/v1/keys/verify', { headers: { authorization: `Bearer ${bearer}` }, body: { key: 'pk_live_notakey' } });
    const accepted = await verify(token);
    expect(accepted.status, accepted.body).toBe(200);
    expect(JSON.parse(accepted.body)).toMatchObject({ valid: false, code: 'MALFORMED' });
    expect((await verify(`${token.slice(0, -1)}x`)).status).toBe(401);

    // With no KEYSMITH_SCOPES, the catalog is the default one.
    const scopes = await server.send('GET', '/api/v1/scopes', { headers: { authorization: `Bearer ${token}` } });
    expect(JSON.parse(scopes.body).data.map((s: { name: string }) => s.name)).toEqual(['read', 'write']);

    const revoked = await runCli(['service-token', 'revoke', id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    const refused = await verify(token);
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body).error.code).toBe('UNAUTHENTICATED');

    const list = await runCli(['service-token', 'list'], env);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+ci\\b.*revoked`));

    // SIGINT stops it gracefully too (SIGTERM is the next case).
    expect(await stop(server, 'SIGINT')).toBe(0);
    expect(server.output()).toContain('/api/v1/keys/verify'); // the requests were logged…
    expect(server.output()).not.toContain(token); // …but never the token
  });

  it('on SIGTERM, finishes the request in flight, keeps its count, and exits 0', async () => {
    const env = cliEnv(dataDir);
    const { token } = tokenFrom(await runCli(['service-token', 'create', '--name', 'ci'], env));
    const server = await startServer(env);
    const origin = `http://127.0.0.1:${server.port}`;

    const signup = await server.send('POST', '/api/v1/auth/signup', { body: { email: 'ops@example.com', password: PASSWORD, name: 'Ops' } });
    expect(signup.status, signup.body).toBe(201);
    const setCookie = ([] as string[]).concat(signup.headers['set-cookie'] ?? []).join(';');
    const session = /keysmith_session=([^;]+)/.exec(setCookie)?.[1] as string;
    const cookieHeaders = { cookie: `keysmith_session=${session}`, origin };
    const created = await server.send('POST', '/api/v1/keys', { headers: cookieHeaders, body: { name: 'shutdown' } });
    expect(created.status, created.body).toBe(201);
    const { data: key, rawKey } = JSON.parse(created.body) as { data: { id: string }; rawKey: string };

    const first = await server.send('POST', '/api/v1/keys/verify', { headers: { authorization: `Bearer ${token}` }, body: { key: rawKey } });
    expect(JSON.parse(first.body).code).toBe('VALID');

    // Start a verification and hold back the last byte of its body, so it is surely in flight
    // (Fastify logs "incoming request" once it has the headers), then SIGTERM, wait until the
    // server refuses new connections, and only then send the last byte.
    const payload = JSON.stringify({ key: rawKey });
    const logLinesBefore = server.output().split('incoming request').length;
    const inFlight = new Promise<HttpResult>((resolvePromise, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: server.port,
          method: 'POST',
          path: '/api/v1/keys/verify',
          agent: false,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
          res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.write(payload.slice(0, -1));
      void waitFor('the server to start the held-back request', () => server.output().split('incoming request').length > logLinesBefore)
        .then(() => {
          server.child.kill('SIGTERM');
          return waitFor('the server to refuse new connections', () =>
            server.send('GET', '/healthz').then(
              () => false,
              () => true,
            ),
          );
        })
        .then(() => req.end(payload.slice(-1)), reject);
    });

    const answer = await inFlight;
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ valid: true, code: 'VALID', keyId: key.id });
    expect(await exitOf(server)).toBe(0);

    // Both uses were counted and survived the shutdown.
    const again = await startServer(env);
    const stored = await again.send('GET', `/api/v1/keys/${key.id}`, { headers: { cookie: `keysmith_session=${session}` } });
    expect(stored.status, stored.body).toBe(200);
    expect(JSON.parse(stored.body).data.usageCount).toBe(2);
    expect(await stop(again)).toBe(0);

    for (const secret of [token, rawKey, PASSWORD, session]) {
      expect(server.output()).not.toContain(secret);
      expect(again.output()).not.toContain(secret);
    }
  });

  it('refuses to start with a bad environment, naming the variable, without a stack trace', async () => {
    for (const args of [['migrate'], ['serve'], ['service-token', 'list']]) {
      const result = await runCli(args, cliEnv(dataDir, { KEYSMITH_KEY_PREFIX: 'BAD!' }));
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.code, args.join(' ')).not.toBeNull();
      expect(result.stderr).toContain('KEYSMITH_KEY_PREFIX');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const shortToken = await runCli(['migrate'], cliEnv(dataDir, { KEYSMITH_SERVICE_TOKENS: 'too-short' }));
    expect(shortToken.code).not.toBe(0);
    expect(shortToken.stderr).toContain('KEYSMITH_SERVICE_TOKENS');
    expect(shortToken.stderr).not.toContain('too-short');
    // A database that does not answer is one clear line too.
    const unreachable = await runCli(['migrate'], cliEnv(dataDir, { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/keysmith' }));
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.code).not.toBeNull();
    expect(unreachable.stderr).toMatch(/^keysmith: .*ECONNREFUSED/);
    expect(unreachable.stderr).not.toMatch(/\n\s+at /);
    // Nothing was created for a refused configuration.
    expect(existsSync(join(dataDir, 'keysmith.db'))).toBe(false);
  });

  it('answers an unknown command with its usage and a non-zero exit', async () => {
    const result = await runCli(['frobnicate'], cliEnv(dataDir));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Usage: keysmith');
    expect(existsSync(join(dataDir, 'keysmith.db'))).toBe(false);
  });
});
