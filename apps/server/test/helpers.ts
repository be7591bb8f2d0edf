import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { createManualClock, createVault, cryptoRandom, type RateLimiter, type Store } from '@keysmith/core';
import { CACHE_CHANNEL, createPgCacheEventSource, createStore, migrateToLatest, openDatabase, type DatabaseHandle } from '@keysmith/db';
import { buildApp, REDACT_PATHS } from '../src/app';
import { loadConfig, type Config } from '../src/config';
import { loadMasterKeys } from '../src/master-key';
import { createArgon2Hasher } from '../src/password';
import { SCHEMA_LOCK, TEST_PG_URL } from './pg-url';

export { TEST_PG_URL } from './pg-url';
export const SERVICE_TOKEN = 'svc_test_token_0123456789abcdefghijklmnopqrstuvwxyz';
export const PASSWORD = 'correct horse battery';
/** The origin `app.inject()` requests come from (its default Host is localhost:80). */
export const ORIGIN = 'http://localhost:80';

export type Dialect = 'sqlite' | 'postgres';
export const dialect: Dialect = process.env.KEYSMITH_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** Session cookie value (from signup/login). Mutating requests get our Origin automatically. */
  cookie?: string;
  /** Bearer token; `true` means the test service token. */
  token?: string | true;
  teamId?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TestUser {
  cookie: string;
  user: { id: string; email: string; name: string };
  team: { id: string; name: string; role: string };
}

/** A second app instance over the same database (another server process, as far as it can tell). */
export interface SiblingApp {
  app: FastifyInstance;
  request(options: RequestOptions): Promise<LightMyRequestResponse>;
  verify(body: Record<string, unknown>): Promise<{ valid: boolean; code: string } & Record<string, unknown>>;
  /** Closes this instance and its own database connections; the database itself stays. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  start?: number;
  /** Wraps the store the app is built with (e.g. to count repository calls). */
  wrapStore?: (store: Store) => Store;
  /** A dashboard build to serve at `/`. */
  dashboardDir?: string;
  /**
   * PostgreSQL only: the DATABASE_URL of this app alone (its pool and its invalidation channel),
   * e.g. through a test proxy. The schema is still made and dropped, and siblings still connect,
   * over TEST_PG_URL.
   */
  databaseUrl?: string;
  /** PostgreSQL only: the URL of this app's invalidation channel alone, when not `databaseUrl`. */
  cacheEventsUrl?: string;
  /** The app's rate limiter (e.g. a Redis one); the in-memory default otherwise. */
  rateLimiter?: RateLimiter;
  /** PostgreSQL only: the size of this app's pool (10 by default). */
  poolSize?: number;
  /** PostgreSQL only: how long this app's queries wait for a pooled connection (2 s by default). */
  connectionTimeoutMs?: number;
}

export interface SiblingOptions {
  /** KEYSMITH_MASTER_KEY for the sibling alone (e.g. another master key than the first app's). */
  masterKey?: string;
  /** The sibling's own rate limiter (e.g. a second Redis client); the in-memory default otherwise. */
  rateLimiter?: RateLimiter;
}

export interface TestApp {
  app: FastifyInstance;
  clock: ReturnType<typeof createManualClock>;
  config: Config;
  handle: DatabaseHandle;
  /** The PostgreSQL schema of this app's database, or null on SQLite. */
  schema: string | null;
  /** Every line the server logged, as text. */
  logs: string[];
  request(options: RequestOptions): Promise<LightMyRequestResponse>;
  /** Signs up a new person (unique e-mail unless given) and returns their cookie and personal team. */
  signup(options?: { email?: string; name?: string; password?: string }): Promise<TestUser>;
  /** Signs up a new person and adds them to `teamId` with `role` through an invitation. */
  member(owner: TestUser, role: 'owner' | 'admin' | 'developer' | 'viewer', teamId?: string): Promise<TestUser>;
  /** Creates a key in the team through the API and returns the response body. */
  createKey(owner: TestUser, body?: Record<string, unknown>, teamId?: string): Promise<{ data: { id: string; prefix: string } & Record<string, unknown>; rawKey: string }>;
  verify(body: Record<string, unknown>): Promise<{ valid: boolean; code: string } & Record<string, unknown>>;
  /**
   * Builds another app instance over the same database with its own connections and its own
   * in-memory state, sharing the clock and the captured logs. Close it before `close()`.
   */
  sibling(options?: SiblingOptions): Promise<SiblingApp>;
  close(): Promise<void>;
}

let counter = 0;

export function cookieFrom(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === 'keysmith_session');
  if (!cookie) throw new Error(`no session cookie in response ${response.statusCode}: ${response.body}`);
  return cookie.value;
}

/** Builds the app over an open database, logging into `logs`, and a request function for it. */
async function startApp(
  config: Config,
  handle: DatabaseHandle,
  clock: ReturnType<typeof createManualClock>,
  logs: string[],
  wrapStore: (store: Store) => Store,
  dashboardDir: string | null = null,
  schema?: string,
  cacheEventsUrl = config.databaseUrl,
  rateLimiter?: RateLimiter,
) {
  // Each test schema gets its own invalidation channel, as one database would in production.
  const cacheChannel = schema ? `${CACHE_CHANNEL}_${schema}` : CACHE_CHANNEL;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const app = await buildApp({
    config,
    store: wrapStore(createStore(handle.db, handle.dialect, { cacheChannel, sqlite: handle.sqlite, ping: handle.ping })),
    cacheEvents: handle.dialect === 'postgres' && cacheEventsUrl ? createPgCacheEventSource({ url: cacheEventsUrl, channel: cacheChannel }) : null,
    clock,
    random: cryptoRandom,
    // Real argon2id, with a small cost so the suite stays quick.
    hasher: createArgon2Hasher({ memoryCost: 1024, timeCost: 1 }),
    logger: { level: 'debug', stream, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    dashboardDir,
    // The same loader the server uses: KEYSMITH_MASTER_KEY, or a key generated into the data directory.
    vault: createVault(loadMasterKeys(config, () => {})),
    rateLimiter,
  });
  // Verifications go over real HTTP to a listening server: most are answered before Fastify's
  // router (the fast path in fast-verify.ts), which app.inject() would never reach.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  // Before the server closes: a socket the agent keeps alive would hold the close for its timeout.
  app.addHook('preClose', (done) => {
    agent.destroy();
    done();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const request = (o: RequestOptions) => {
    const method = o.method ?? 'GET';
    const headers: Record<string, string> = { ...o.headers };
    if (o.cookie !== undefined) headers.cookie = `keysmith_session=${o.cookie}`;
    if (o.cookie !== undefined && method !== 'GET' && headers.origin === undefined) headers.origin = ORIGIN;
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token === true ? SERVICE_TOKEN : o.token}`;
    if (o.teamId !== undefined) headers['x-team-id'] = o.teamId;
    if (o.url.startsWith('/api/v1/keys/verify')) return overHttp({ port, agent, method, url: o.url, headers, body: o.body });
    return app.inject({ method, url: o.url, headers, ...(o.body !== undefined ? { payload: o.body as object } : {}) });
  };
  const verify = async (body: Record<string, unknown>) => {
    const res = await request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body });
    if (res.statusCode !== 200) throw new Error(`verify failed: ${res.statusCode} ${res.body}`);
    return res.json() as { valid: boolean; code: string } & Record<string, unknown>;
  };
  return { app, request, verify };
}

/**
 * Sends one request over HTTP and answers in the shape of app.inject()'s response (status,
 * headers, body, json()). An object body is sent as JSON, as inject() does; a string as it is.
 */
function overHttp(o: { port: number; agent: Agent; method: string; url: string; headers: Record<string, string>; body: unknown }): Promise<LightMyRequestResponse> {
  const payload = o.body === undefined ? undefined : typeof o.body === 'string' || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
  const headers: Record<string, string> = { ...o.headers };
  const hasType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  if (payload !== undefined && typeof o.body === 'object' && !Buffer.isBuffer(o.body) && !hasType) headers['content-type'] = 'application/json';
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: o.port, agent: o.agent, method: o.method, path: o.url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({
          statusCode: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          body,
          payload: body,
          rawPayload: Buffer.concat(chunks),
          cookies: [],
          json: () => JSON.parse(body) as unknown,
        } as unknown as LightMyRequestResponse);
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Kysely's migrator looks up tables across every schema, and PostgreSQL fails that scan with
 * "schema … does not exist" (or "relation … does not exist") when another test drops its schema
 * or one of its tables meanwhile. Migrations hold this lock shared; every drop of a schema or
 * table in a test holds it exclusively, so the two never overlap. No-op on SQLite.
 */
export async function withSchemaLock<T>(mode: 'shared' | 'exclusive', fn: () => Promise<T>): Promise<T> {
  if (dialect !== 'postgres') return fn();
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(mode === 'shared' ? 'select pg_advisory_lock_shared($1)' : 'select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    return await fn();
  } finally {
    // Ending the session releases its advisory locks.
    await client.end();
  }
}

/**
 * A `wrapStore` whose webhook deliveries cannot be stored while `fail(true)` is in force, inside
 * transactions too (services store events through the transaction's repositories).
 */
export function deliveriesThatFail(): { wrapStore: (store: Store) => Store; fail(on: boolean): void } {
  let failing = false;
  const wrap = <R extends Pick<Store, 'webhooks'>>(repos: R): R => ({
    ...repos,
    webhooks: {
      ...repos.webhooks,
      insertDeliveries: (...args: Parameters<Store['webhooks']['insertDeliveries']>) =>
        failing ? Promise.reject(new Error('disk full')) : repos.webhooks.insertDeliveries(...args),
    },
  });
  return {
    wrapStore: (store) => ({ ...wrap(store), transaction: (fn) => store.transaction((tx) => fn(wrap(tx))) }),
    fail: (on) => {
      failing = on;
    },
  };
}

/** A fresh app on a fresh database (its own SQLite file or PostgreSQL schema), with a manual clock. */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = createManualClock(options.start ?? Date.UTC(2026, 10, 20, 12, 0, 0));
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-test-'));
  let schema: string | undefined;
  if (dialect === 'postgres') {
    schema = `t_${process.pid}_${Date.now()}_${(counter += 1)}_${Math.floor(Math.random() * 1e6)}`;
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    try {
      await client.connect();
    } catch (error) {
      throw new Error(`PostgreSQL is required for the api-postgres suite at ${TEST_PG_URL}: ${(error as Error).message}`);
    }
    await client.query(`create schema ${schema}`);
    await client.end();
  }
  const config = loadConfig({
    KEYSMITH_DATA_DIR: dataDir,
    KEYSMITH_SERVICE_TOKENS: SERVICE_TOKEN,
    KEYSMITH_SCOPES: 'read,write,admin',
    ...(dialect === 'postgres' ? { DATABASE_URL: TEST_PG_URL } : {}),
    ...options.env,
    ...(options.databaseUrl !== undefined ? { DATABASE_URL: options.databaseUrl } : {}),
  });
  // Siblings are other processes on the database itself, not behind this app's proxy.
  const siblingUrl = options.databaseUrl !== undefined ? TEST_PG_URL : config.databaseUrl;
  const opened = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, schema, poolSize: options.poolSize, connectionTimeoutMs: options.connectionTimeoutMs });
  // Closing twice is harmless, so a test may close the database itself (e.g. to see /readyz fail).
  let databaseClosed: Promise<void> | undefined;
  const handle: DatabaseHandle = { ...opened, close: () => (databaseClosed ??= opened.close()) };
  await withSchemaLock('shared', () => migrateToLatest(handle.db, schema));
  const logs: string[] = [];
  const wrapStore = options.wrapStore ?? ((store: Store) => store);
  const { app, request, verify } = await startApp(config, handle, clock, logs, wrapStore, options.dashboardDir ?? null, schema, options.cacheEventsUrl, options.rateLimiter);

  let closed = false;
  const t: TestApp = {
    app,
    clock,
    config,
    handle,
    schema: schema ?? null,
    logs,
    request,
    async signup(o = {}) {
      counter += 1;
      const res = await request({
        method: 'POST',
        url: '/api/v1/auth/signup',
        body: { email: o.email ?? `user${counter}_${Math.floor(Math.random() * 1e9)}@example.com`, password: o.password ?? PASSWORD, name: o.name ?? `User ${counter}` },
      });
      if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
      const body = res.json() as { user: TestUser['user']; team: TestUser['team'] };
      return { cookie: cookieFrom(res), user: body.user, team: body.team };
    },
    async member(owner, role, teamId = owner.team.id) {
      const person = await t.signup();
      const invite = await request({ method: 'POST', url: '/api/v1/team/invitations', cookie: owner.cookie, teamId, body: { email: person.user.email, role } });
      if (invite.statusCode !== 201) throw new Error(`invite failed: ${invite.statusCode} ${invite.body}`);
      const accept = await request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: person.cookie, body: { token: invite.json().inviteToken } });
      if (accept.statusCode !== 200) throw new Error(`accept failed: ${accept.statusCode} ${accept.body}`);
      return person;
    },
    async createKey(owner, body = {}, teamId = owner.team.id) {
      const res = await request({ method: 'POST', url: '/api/v1/keys', cookie: owner.cookie, teamId, body: { name: 'Test key', ...body } });
      if (res.statusCode !== 201) throw new Error(`create key failed: ${res.statusCode} ${res.body}`);
      return res.json();
    },
    verify,
    async sibling(siblingOptions = {}) {
      const siblingHandle = openDatabase({ url: siblingUrl, dataDir: config.dataDir, schema });
      const siblingConfig = { ...config, databaseUrl: siblingUrl, ...(siblingOptions.masterKey !== undefined ? { masterKey: siblingOptions.masterKey } : {}) };
      const sibling = await startApp(siblingConfig, siblingHandle, clock, logs, wrapStore, null, schema, undefined, siblingOptions.rateLimiter);
      return {
        ...sibling,
        async close() {
          await sibling.app.close();
          await siblingHandle.close();
        },
      };
    },
    async close() {
      // Idempotent: a test may close early; teardown then closes nothing twice.
      if (closed) return;
      closed = true;
      await app.close();
      await handle.close();
      if (schema) {
        await withSchemaLock('exclusive', async () => {
          const client = new pg.Client({ connectionString: TEST_PG_URL });
          await client.connect();
          await client.query(`drop schema ${schema} cascade`);
          await client.end();
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

/** Anything that can send a request: a test app or a sibling instance. */
export type Verifier = { request: TestApp['request'] };

/**
 * Fires `count` verifications with `body` at once, spread round-robin over `apps`, and returns
 * the answers; any status but 200 fails the test.
 */
export async function verifyAllAtOnce<T = { valid: boolean; code: string }>(apps: Verifier[], body: Record<string, unknown>, count: number): Promise<T[]> {
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) => (apps[i % apps.length] as Verifier).request({ method: 'POST', url: '/api/v1/keys/verify', token: true, body })),
  );
  return responses.map((res) => {
    if (res.statusCode !== 200) throw new Error(`verify answered ${res.statusCode}: ${res.body}`);
    return res.json() as T;
  });
}

/** How many answers had each code. */
export function tallyCodes(answers: Array<{ code: string }>): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const a of answers) codes[a.code] = (codes[a.code] ?? 0) + 1;
  return codes;
}
