// Starting real Keysmith servers (`node apps/server/bin/keysmith.mjs serve`) and talking to their API.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startNode, waitForHttp, type Child } from './procs';

export interface KeysmithInstance {
  name: string;
  child: Child;
  origin: string;
  dataDir: string;
  /** The SQLite file, or null on PostgreSQL. */
  sqliteFile: string | null;
}

export interface StartKeysmithOptions {
  name: string;
  repoRoot: string;
  workDir: string;
  serviceToken: string;
  /** A postgres:// URL; unset for the embedded SQLite in the data directory. */
  databaseUrl?: string;
  /** Options for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export async function startKeysmith(options: StartKeysmithOptions): Promise<KeysmithInstance> {
  const port = await freePort();
  const dataDir = join(options.workDir, options.name);
  mkdirSync(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    KEYSMITH_DATA_DIR: dataDir,
    KEYSMITH_SERVICE_TOKENS: options.serviceToken,
    LOG_LEVEL: 'warn',
  };
  delete env.DATABASE_URL;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const child = startNode({
    name: `keysmith ${options.name}`,
    args: [...(options.nodeArgs ?? []), join(options.repoRoot, 'apps/server/bin/keysmith.mjs'), 'serve'],
    cwd: options.repoRoot,
    env,
    logFile: join(options.workDir, `${options.name}.log`),
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${origin}/healthz`, 60_000);
  return { name: options.name, child, origin, dataDir, sqliteFile: options.databaseUrl ? null : join(dataDir, 'keysmith.db') };
}

async function call(
  origin: string,
  method: string,
  path: string,
  options: { cookie?: string; token?: string; body?: unknown } = {},
): Promise<{ status: number; json: Record<string, unknown>; setCookie: string[] }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.cookie) {
    headers.cookie = `keysmith_session=${options.cookie}`;
    headers.origin = origin;
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${origin}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json, setCookie: res.headers.getSetCookie() };
}

export interface Account {
  cookie: string;
  teamId: string;
}

/** Signs a new person up (POST /api/v1/auth/signup) and returns their session cookie and team. */
export async function signup(ks: KeysmithInstance): Promise<Account> {
  const email = `bench-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.com`;
  const res = await call(ks.origin, 'POST', '/api/v1/auth/signup', { body: { email, password: 'correct horse battery', name: 'Bench' } });
  if (res.status !== 201) throw new Error(`${ks.name}: signup failed: ${res.status} ${JSON.stringify(res.json)}`);
  const cookie = res.setCookie.map((c) => /^keysmith_session=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined);
  if (!cookie) throw new Error(`${ks.name}: signup gave no session cookie`);
  const team = res.json.team as { id: string } | undefined;
  if (!team?.id) throw new Error(`${ks.name}: signup gave no team`);
  return { cookie, teamId: team.id };
}

/** Creates a key through the API (POST /api/v1/keys) and returns its id and raw key. */
export async function createKey(ks: KeysmithInstance, account: Account, body: Record<string, unknown>): Promise<{ id: string; rawKey: string }> {
  const res = await call(ks.origin, 'POST', '/api/v1/keys', { cookie: account.cookie, body });
  if (res.status !== 201) throw new Error(`${ks.name}: create key failed: ${res.status} ${JSON.stringify(res.json)}`);
  const data = res.json.data as { id: string };
  return { id: data.id, rawKey: String(res.json.rawKey) };
}

/** Revokes a key (DELETE /api/v1/keys/:id); resolves once the change has returned. */
export async function revokeKey(ks: KeysmithInstance, account: Account, id: string): Promise<void> {
  const res = await call(ks.origin, 'DELETE', `/api/v1/keys/${id}`, { cookie: account.cookie });
  if (res.status !== 200) throw new Error(`${ks.name}: revoke failed: ${res.status} ${JSON.stringify(res.json)}`);
}

/** One verification (POST /api/v1/keys/verify with the service token). */
export async function verifyOnce(ks: KeysmithInstance, serviceToken: string, key: string, extra: Record<string, unknown> = {}): Promise<{ valid: boolean; code: string } & Record<string, unknown>> {
  const res = await call(ks.origin, 'POST', '/api/v1/keys/verify', { token: serviceToken, body: { key, ...extra } });
  if (res.status !== 200) throw new Error(`${ks.name}: verify answered ${res.status} ${JSON.stringify(res.json)}`);
  return res.json as { valid: boolean; code: string } & Record<string, unknown>;
}
