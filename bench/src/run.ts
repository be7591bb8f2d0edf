// `npm run bench`: Keysmith's verification against a bare Fastify route and better-auth's api-key
// plugin, side by side in one run. Starts every server itself as a separate process on loopback,
// drives each with autocannon in turn, repeats, and prints medians and the ratios of issue 5.
// These are measurements, not tests: nothing here fails on a slow figure.
//
// Environment (all optional):
//   BENCH_DURATION      measured seconds per run (10)
//   BENCH_WARMUP        warm-up seconds before each run in round 1 (5; later rounds min(2, this))
//   BENCH_ROUNDS        rounds over all targets (3)
//   BENCH_CONNECTIONS   autocannon connections (50), pipelining is always 1
//   BENCH_LARGE         0 skips the 1,000 vs 1,000,000 keys part (1, run it)
//   BENCH_LARGE_KEYS    rows in the large database (1000000)
//   BENCH_PG_URL        PostgreSQL server to create the keysmith_bench database on
//                       (postgres://postgres@127.0.0.1:5432/test)
//   BENCH_PROPAGATION   revocations timed across two PostgreSQL instances (20; 0 skips)
//   BENCH_KEEP          1 keeps the temporary directory (databases, server logs)
//   BENCH_KEYSMITH_ROOT another checkout of Keysmith to measure (its apps/server/bin/keysmith.mjs);
//                       the default is this repository
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { median, numberFromEnv, repoRoot, startOwnServer } from './lib/common';
import { countKeys, seedKeys, wellFormedRandomKey } from './lib/keys';
import { createKey, revokeKey, signup, startKeysmith, verifyOnce, type Account, type KeysmithInstance } from './lib/keysmith';
import { load, type LoadResult, type Target } from './lib/load';
import { killAllNow, rssMiB, sleep, stopAll, stopChild } from './lib/procs';

// ---------------------------------------------------------------------------------------------
// Settings

const DURATION = numberFromEnv('BENCH_DURATION', 10, 1);
const WARMUP = numberFromEnv('BENCH_WARMUP', Math.min(5, DURATION), 0);
const REWARM = Math.min(2, WARMUP);
const ROUNDS = Math.floor(numberFromEnv('BENCH_ROUNDS', 3, 1));
const CONNECTIONS = Math.floor(numberFromEnv('BENCH_CONNECTIONS', 50, 2));
const LARGE = process.env.BENCH_LARGE !== '0';
const LARGE_KEYS = Math.floor(numberFromEnv('BENCH_LARGE_KEYS', 1_000_000, 1000));
const SMALL_KEYS = 1000;
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_DATABASE = 'keysmith_bench';
const PROPAGATION_SAMPLES = Math.floor(numberFromEnv('BENCH_PROPAGATION', 20, 0));
const KEEP = process.env.BENCH_KEEP === '1';
/** Connections of the valid-key client running alongside the NOT_FOUND flood. */
const MIX_VALID_CONNECTIONS = Math.max(1, Math.round(CONNECTIONS / 10));
/** A hard bound on the whole run. */
const GLOBAL_TIMEOUT_MS = 90 * 60 * 1000;

const keysmithRoot = process.env.BENCH_KEYSMITH_ROOT ? resolve(process.env.BENCH_KEYSMITH_ROOT) : repoRoot;
const SERVICE_TOKEN = `svc_bench_${randomBytes(24).toString('hex')}`;

/** `<commit>` (plus ", with uncommitted changes") of a git checkout, or null outside git. */
function gitRevision(dir: string): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (git('rev-parse', '--show-toplevel') !== dir) return null;
    const dirty = git('status', '--porcelain', '--', 'apps/server', 'packages') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ', with uncommitted changes in apps/server or packages' : ''}`;
  } catch {
    return null;
  }
}

function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// Cleanup: every child is stopped at the end, on error, and on SIGINT/SIGTERM.

let workDir: string | null = null;
let pgDatabaseCreated = false;
let cleaningUp: Promise<void> | null = null;

async function dropPgDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000, statement_timeout: 15_000 });
  await client.connect();
  try {
    await client.query(`drop database if exists ${PG_DATABASE} with (force)`);
  } finally {
    await client.end();
  }
}

function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    await stopAll();
    if (pgDatabaseCreated) {
      try {
        await dropPgDatabase();
      } catch (error) {
        log(`(could not drop the ${PG_DATABASE} database: ${(error as Error).message})`);
      }
    }
    if (workDir && !KEEP) rmSync(workDir, { recursive: true, force: true });
    else if (workDir) log(`(kept ${workDir})`);
  })();
  return cleaningUp;
}

async function shutdown(code: number): Promise<never> {
  const hard = setTimeout(() => {
    killAllNow();
    process.exit(code);
  }, 20_000);
  try {
    await cleanup();
  } finally {
    clearTimeout(hard);
  }
  process.exit(code);
}

process.on('exit', killAllNow);
// `on`, not `once`: the same signal often arrives twice (from the terminal and relayed by npm and
// tsx), and with no listener left tsx would exit at once, before the servers are stopped.
let signalled = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    log(`\n${signal}: stopping every server…`);
    void shutdown(130);
  });
}
process.on('unhandledRejection', (error) => {
  if (signalled) return;
  log(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  void shutdown(1);
});

// ---------------------------------------------------------------------------------------------
// Formatting

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const mib = (n: number | null) => (n === null || !Number.isFinite(n) ? 'n/a' : `${n.toFixed(1)} MiB`);

function table(headers: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Cases

interface Part {
  id: string;
  label: string;
  target: Target;
  connections: number;
  /** Throws unless one request of this part gets the answer it is meant to measure. */
  check: () => Promise<void>;
}

interface Case {
  id: string;
  parts: Part[];
}

const results = new Map<string, LoadResult[]>();
const labels = new Map<string, string>();

async function runCase(c: Case, warmupSeconds: number, round: number): Promise<void> {
  for (const part of c.parts) await part.check();
  if (warmupSeconds > 0) await Promise.all(c.parts.map((p) => load(p.target, { connections: p.connections, durationSeconds: warmupSeconds })));
  const measured = await Promise.all(c.parts.map((p) => load(p.target, { connections: p.connections, durationSeconds: DURATION })));
  for (const part of c.parts) await part.check();
  c.parts.forEach((part, i) => {
    const r = measured[i] as LoadResult;
    const list = results.get(part.id) ?? [];
    list.push(r);
    results.set(part.id, list);
    labels.set(part.id, part.label);
    const problems = r.non2xx + r.errors + r.timeouts > 0 ? `  (non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts})` : '';
    log(
      `  round ${round}/${ROUNDS}  ${part.label.padEnd(44)} ${int(r.rps).padStart(7)} req/s  p50 ${ms(r.p50).padStart(7)} ms  p99 ${ms(r.p99).padStart(7)} ms${problems}`,
    );
  });
}

interface Summary {
  rps: number;
  p50: number;
  p99: number;
}

function summary(id: string): Summary | null {
  const list = results.get(id);
  if (!list || list.length === 0) return null;
  return { rps: median(list.map((r) => r.rps)), p50: median(list.map((r) => r.p50)), p99: median(list.map((r) => r.p99)) };
}

// ---------------------------------------------------------------------------------------------
// Servers

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
}

async function preparePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000, statement_timeout: 30_000 });
  try {
    await client.connect();
  } catch (error) {
    log(`PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}): the PostgreSQL cases are skipped.`);
    return null;
  }
  try {
    await client.query(`drop database if exists ${PG_DATABASE} with (force)`);
    await client.query(`create database ${PG_DATABASE}`);
    pgDatabaseCreated = true;
  } finally {
    await client.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${PG_DATABASE}`;
  return url.toString();
}

function verifyTarget(ks: KeysmithInstance, body: string | (() => string)): Target {
  return { url: `${ks.origin}/api/v1/keys/verify`, headers: { authorization: `Bearer ${SERVICE_TOKEN}` }, body };
}

/** What a backend forwards of its own caller in the "verify with context" case. */
const CONTEXT = { ip: '203.0.113.7', userAgent: 'bench-backend/1.0' };

function expectCode(ks: KeysmithInstance, key: () => string, code: string, extra: Record<string, unknown> = {}): () => Promise<void> {
  return async () => {
    const answer = await verifyOnce(ks, SERVICE_TOKEN, key(), extra);
    if (answer.code !== code) throw new Error(`${ks.name}: expected ${code}, got ${JSON.stringify(answer)}`);
  };
}

/** Times how long after a revoke on A the other instance B stops answering VALID. */
async function measurePropagation(a: KeysmithInstance, b: KeysmithInstance, account: Account, samples: number) {
  const times: number[] = [];
  let staleOnA = 0;
  let timedOut = 0;
  const limitMs = 5000;
  for (let i = 0; i < samples; i += 1) {
    const key = await createKey(a, account, { name: `propagation ${i}` });
    // Both instances see the key VALID first (so a cache, once there is one, holds it).
    const warmDeadline = Date.now() + limitMs;
    while ((await verifyOnce(b, SERVICE_TOKEN, key.rawKey)).code !== 'VALID') {
      if (Date.now() > warmDeadline) throw new Error('propagation: a new key never became VALID on the second instance');
      await sleep(5);
    }
    if ((await verifyOnce(a, SERVICE_TOKEN, key.rawKey)).code !== 'VALID') throw new Error('propagation: a new key is not VALID on its own instance');
    await revokeKey(a, account, key.id);
    const t0 = performance.now();
    const onA = verifyOnce(a, SERVICE_TOKEN, key.rawKey).then((r) => {
      if (r.valid) staleOnA += 1;
    });
    let elapsed = Number.NaN;
    while (performance.now() - t0 < limitMs) {
      const r = await verifyOnce(b, SERVICE_TOKEN, key.rawKey);
      if (!r.valid) {
        elapsed = performance.now() - t0;
        break;
      }
    }
    await onA;
    if (Number.isNaN(elapsed)) {
      timedOut += 1;
      elapsed = limitMs;
    }
    times.push(elapsed);
  }
  return { times, staleOnA, timedOut, limitMs };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const globalTimer = setTimeout(() => {
    log(`\nbench: still running after ${GLOBAL_TIMEOUT_MS / 60000} minutes: stopping.`);
    void shutdown(1);
  }, GLOBAL_TIMEOUT_MS);

  workDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-'));
  const cpu = cpus();
  log('Keysmith verification benchmark (npm run bench)');
  log(`date      ${new Date().toISOString()}`);
  log(`machine   ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}`);
  log(
    `settings  ${CONNECTIONS} connections, pipelining 1, ${WARMUP} s warm-up (then ${REWARM} s), ${DURATION} s measured, ${ROUNDS} rounds; ` +
      `large part ${LARGE ? `on (${SMALL_KEYS.toLocaleString('en-US')} vs ${LARGE_KEYS.toLocaleString('en-US')} keys)` : 'off (BENCH_LARGE=0)'}`,
  );
  log('          autocannon runs in this process; every server is its own process on 127.0.0.1');
  log(`load avg  ${loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min) before the run: other work on the machine skews every figure`);
  const revision = gitRevision(keysmithRoot);
  log(`keysmith  ${keysmithRoot}${revision ? ` (git ${revision})` : ''}`);
  log();

  // --- Keysmith on SQLite -------------------------------------------------------------------
  log('starting Keysmith on SQLite…');
  const ksSqlite = await startKeysmith({ name: 'keysmith-sqlite', repoRoot: keysmithRoot, workDir, serviceToken: SERVICE_TOKEN });
  await sleep(1000);
  const rssFresh = rssMiB(ksSqlite.child.proc.pid);
  const sqliteAccount = await signup(ksSqlite);
  const sqlitePlain = await createKey(ksSqlite, sqliteAccount, { name: 'bench plain' });
  const sqliteCredits = await createKey(ksSqlite, sqliteAccount, { name: 'bench credits', credits: { limit: 1e9 } });
  const validAnswer = await verifyOnce(ksSqlite, SERVICE_TOKEN, sqlitePlain.rawKey);
  if (validAnswer.code !== 'VALID') throw new Error(`Keysmith SQLite: the plain key is not VALID: ${JSON.stringify(validAnswer)}`);
  const requestBody = JSON.stringify({ key: sqlitePlain.rawKey });
  await sleep(1000);
  const rssIdle = rssMiB(ksSqlite.child.proc.pid);

  // --- the bare route, answering an object of the size of Keysmith's VALID answer -------------
  log('starting the bare Fastify route…');
  const bare = await startOwnServer({ name: 'bare', file: 'bare.ts', env: { BARE_RESPONSE: JSON.stringify(validAnswer) }, workDir });
  const bareUrl = `${bare.origin}/verify`;

  // --- better-auth, tuned like Keysmith (the target's peer) and as its docs set SQLite up ---------
  log('starting the better-auth peer (api-key plugin, SQLite with WAL and synchronous=NORMAL, like Keysmith)…');
  const peer = await startOwnServer({ name: 'better-auth', file: 'better-auth-peer.ts', env: { PEER_DB: join(workDir, 'better-auth.db'), PEER_SQLITE: 'tuned' }, workDir });
  const peerKey = String(peer.ready.key);
  const peerUrl = `${peer.origin}/verify`;
  log('starting the better-auth peer as documented (api-key plugin, new Database(file): SQLite defaults)…');
  const peerDoc = await startOwnServer({ name: 'better-auth-documented', file: 'better-auth-peer.ts', env: { PEER_DB: join(workDir, 'better-auth-documented.db'), PEER_SQLITE: 'documented' }, workDir });
  const peerDocKey = String(peerDoc.ready.key);
  const peerDocUrl = `${peerDoc.origin}/verify`;

  // --- Keysmith on PostgreSQL -------------------------------------------------------------------
  let ksPg: KeysmithInstance | null = null;
  let ksPg2: KeysmithInstance | null = null;
  let pgAccount: Account | null = null;
  let pgPlain: { id: string; rawKey: string } | null = null;
  let pgCredits: { id: string; rawKey: string } | null = null;
  log(`preparing PostgreSQL (database ${PG_DATABASE})…`);
  const pgUrl = await preparePostgres();
  if (pgUrl) {
    log('starting Keysmith on PostgreSQL…');
    ksPg = await startKeysmith({ name: 'keysmith-pg', repoRoot: keysmithRoot, workDir, serviceToken: SERVICE_TOKEN, databaseUrl: pgUrl });
    pgAccount = await signup(ksPg);
    pgPlain = await createKey(ksPg, pgAccount, { name: 'bench plain' });
    pgCredits = await createKey(ksPg, pgAccount, { name: 'bench credits', credits: { limit: 1e9 } });
    if (PROPAGATION_SAMPLES > 0) {
      log('starting a second Keysmith on the same PostgreSQL (revocation propagation)…');
      ksPg2 = await startKeysmith({ name: 'keysmith-pg-2', repoRoot: keysmithRoot, workDir, serviceToken: SERVICE_TOKEN, databaseUrl: pgUrl });
    }
  }

  // --- 1,000 vs 1,000,000 keys ------------------------------------------------------------------
  let ksSmall: KeysmithInstance | null = null;
  let ksLarge: KeysmithInstance | null = null;
  let smallKey: { id: string; rawKey: string } | null = null;
  let largeKey: { id: string; rawKey: string } | null = null;
  let rssLargeIdle: number | null = null;
  if (LARGE) {
    for (const [name, total] of [
      ['keysmith-sqlite-1k', SMALL_KEYS],
      ['keysmith-sqlite-large', LARGE_KEYS],
    ] as const) {
      log(`starting Keysmith on SQLite with ${total.toLocaleString('en-US')} keys…`);
      const ks = await startKeysmith({ name, repoRoot: keysmithRoot, workDir, serviceToken: SERVICE_TOKEN });
      const account = await signup(ks);
      const key = await createKey(ks, account, { name: 'bench plain' });
      const seeded = seedKeys(ks.sqliteFile as string, account.teamId, total - 1);
      const rows = countKeys(ks.sqliteFile as string);
      log(`  inserted ${seeded.inserted.toLocaleString('en-US')} rows directly in ${seeded.seconds.toFixed(1)} s; api_keys holds ${rows.toLocaleString('en-US')} rows`);
      const answer = await verifyOnce(ks, SERVICE_TOKEN, key.rawKey);
      if (answer.code !== 'VALID') throw new Error(`${name}: the key is not VALID after seeding: ${JSON.stringify(answer)}`);
      if (total === SMALL_KEYS) {
        ksSmall = ks;
        smallKey = key;
      } else {
        ksLarge = ks;
        largeKey = key;
        await sleep(1000);
        rssLargeIdle = rssMiB(ks.child.proc.pid);
      }
    }
  }

  // --- the cases, in the order they alternate -----------------------------------------------------
  const ksS = ksSqlite;
  const contextBody = JSON.stringify({ key: sqlitePlain.rawKey, context: CONTEXT });
  /** The bare route answering one fixed body. */
  const bareCase = (id: string, label: string, body: string): Case => ({
    id,
    parts: [
      {
        id,
        label,
        target: { url: bareUrl, headers: { authorization: `Bearer ${SERVICE_TOKEN}` }, body },
        connections: CONNECTIONS,
        check: async () => {
          const r = await postJson(bareUrl, JSON.parse(body));
          if (r.status !== 200 || r.json.code !== 'VALID') throw new Error(`bare route answered ${r.status}`);
        },
      },
    ],
  });
  const cases: Case[] = [
    bareCase('bare', 'bare Fastify route', requestBody),
    {
      id: 'sqlite-verify',
      parts: [
        {
          id: 'sqlite-verify',
          label: 'Keysmith SQLite: verify (plain key)',
          target: verifyTarget(ksS, requestBody),
          connections: CONNECTIONS,
          check: expectCode(ksS, () => sqlitePlain.rawKey, 'VALID'),
        },
      ],
    },
    {
      // Alerts watch every verification: the same key with the caller's context (network, user agent).
      id: 'sqlite-verify-context',
      parts: [
        {
          id: 'sqlite-verify-context',
          label: 'Keysmith SQLite: verify with context (alerts)',
          target: verifyTarget(ksS, contextBody),
          connections: CONNECTIONS,
          check: expectCode(ksS, () => sqlitePlain.rawKey, 'VALID', { context: CONTEXT }),
        },
      ],
    },
    // Its baseline: the bare route parsing the same, longer body (as the flood has its own).
    bareCase('bare-context', 'bare Fastify route, body with context', contextBody),
    ...(
      [
        ['better-auth', 'better-auth api-key plugin, SQLite tuned: verify', peerUrl, peerKey],
        ['better-auth-documented', 'better-auth api-key plugin, SQLite as documented', peerDocUrl, peerDocKey],
      ] as const
    ).map(([id, label, url, key]) => ({
      id,
      parts: [
        {
          id,
          label,
          target: { url, headers: { authorization: `Bearer ${SERVICE_TOKEN}` }, body: JSON.stringify({ key }) },
          connections: CONNECTIONS,
          check: async () => {
            const r = await postJson(url, { key });
            if (r.status !== 200 || r.json.valid !== true) throw new Error(`${id} peer: the key is not valid: ${JSON.stringify(r.json)}`);
          },
        },
      ],
    })),
  ];
  if (ksPg && pgPlain) {
    const ks = ksPg;
    const key = pgPlain;
    cases.push({
      id: 'pg-verify',
      parts: [
        {
          id: 'pg-verify',
          label: 'Keysmith PostgreSQL: verify (plain key)',
          target: verifyTarget(ks, JSON.stringify({ key: key.rawKey })),
          connections: CONNECTIONS,
          check: expectCode(ks, () => key.rawKey, 'VALID'),
        },
      ],
    });
  }
  cases.push({
    id: 'sqlite-credits',
    parts: [
      {
        id: 'sqlite-credits',
        label: 'Keysmith SQLite: verify (key with credits)',
        target: verifyTarget(ksS, JSON.stringify({ key: sqliteCredits.rawKey })),
        connections: CONNECTIONS,
        check: expectCode(ksS, () => sqliteCredits.rawKey, 'VALID'),
      },
    ],
  });
  if (ksPg && pgCredits) {
    const ks = ksPg;
    const key = pgCredits;
    cases.push({
      id: 'pg-credits',
      parts: [
        {
          id: 'pg-credits',
          label: 'Keysmith PostgreSQL: verify (key with credits)',
          target: verifyTarget(ks, JSON.stringify({ key: key.rawKey })),
          connections: CONNECTIONS,
          check: expectCode(ks, () => key.rawKey, 'VALID'),
        },
      ],
    });
  }
  const floodBody = () => `{"key":"${wellFormedRandomKey()}"}`;
  cases.push(
    {
      // The flood's baseline: the bare route parsing the same bodies (a new random key each), so
      // both pay the same for making them in the load generator.
      id: 'bare-flood',
      parts: [
        {
          id: 'bare-flood',
          label: 'bare Fastify route, random keys (flood bodies)',
          target: { url: bareUrl, headers: { authorization: `Bearer ${SERVICE_TOKEN}` }, body: floodBody },
          connections: CONNECTIONS,
          check: async () => {
            const r = await postJson(bareUrl, { key: wellFormedRandomKey() });
            if (r.status !== 200) throw new Error(`bare route answered ${r.status}`);
          },
        },
      ],
    },
    {
      id: 'sqlite-flood',
      parts: [
        {
          id: 'sqlite-flood',
          label: 'Keysmith SQLite: NOT_FOUND flood (random keys)',
          target: verifyTarget(ksS, floodBody),
          connections: CONNECTIONS,
          check: expectCode(ksS, wellFormedRandomKey, 'NOT_FOUND'),
        },
      ],
    },
    {
      id: 'sqlite-flood-mix',
      parts: [
        {
          id: 'sqlite-mix-flood',
          label: `  mixed: flood part (${CONNECTIONS - MIX_VALID_CONNECTIONS} connections)`,
          target: verifyTarget(ksS, floodBody),
          connections: CONNECTIONS - MIX_VALID_CONNECTIONS,
          check: expectCode(ksS, wellFormedRandomKey, 'NOT_FOUND'),
        },
        {
          id: 'sqlite-mix-valid',
          label: `  mixed: valid key during flood (${MIX_VALID_CONNECTIONS} conn.)`,
          target: verifyTarget(ksS, requestBody),
          connections: MIX_VALID_CONNECTIONS,
          check: expectCode(ksS, () => sqlitePlain.rawKey, 'VALID'),
        },
      ],
    },
  );
  if (ksSmall && smallKey && ksLarge && largeKey) {
    const [small, large, sKey, lKey] = [ksSmall, ksLarge, smallKey, largeKey];
    cases.push(
      {
        id: 'sqlite-1k',
        parts: [
          {
            id: 'sqlite-1k',
            label: `Keysmith SQLite, ${SMALL_KEYS.toLocaleString('en-US')} keys: verify`,
            target: verifyTarget(small, JSON.stringify({ key: sKey.rawKey })),
            connections: CONNECTIONS,
            check: expectCode(small, () => sKey.rawKey, 'VALID'),
          },
        ],
      },
      {
        id: 'sqlite-large',
        parts: [
          {
            id: 'sqlite-large',
            label: `Keysmith SQLite, ${LARGE_KEYS.toLocaleString('en-US')} keys: verify`,
            target: verifyTarget(large, JSON.stringify({ key: lKey.rawKey })),
            connections: CONNECTIONS,
            check: expectCode(large, () => lKey.rawKey, 'VALID'),
          },
        ],
      },
    );
  }

  // --- measure -------------------------------------------------------------------------------------
  log();
  log(`measuring (${cases.length} targets × ${ROUNDS} rounds, alternating)…`);
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const c of cases) await runCase(c, round === 1 ? WARMUP : REWARM, round);
  }
  await sleep(500);
  const rssAfter = rssMiB(ksSqlite.child.proc.pid);
  const rssLargeAfter = ksLarge ? rssMiB(ksLarge.child.proc.pid) : null;

  let propagation: Awaited<ReturnType<typeof measurePropagation>> | null = null;
  if (ksPg && ksPg2 && pgAccount && PROPAGATION_SAMPLES > 0) {
    log();
    log(`timing revocation propagation across two PostgreSQL instances (${PROPAGATION_SAMPLES} revocations)…`);
    propagation = await measurePropagation(ksPg, ksPg2, pgAccount, PROPAGATION_SAMPLES);
  }

  // --- report ------------------------------------------------------------------------------------------
  log();
  log(`load avg  ${loadavg().map((l) => l.toFixed(2)).join(' ')} (1, 5, 15 min) at the end of the measurements`);
  log();
  log(`RESULTS (medians of ${ROUNDS} rounds; ${CONNECTIONS} connections; latency of 2xx answers)`);
  log();
  const rows: string[][] = [];
  for (const [id, list] of results) {
    const s = summary(id) as Summary;
    const bad = list.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
    rows.push([labels.get(id) ?? id, int(s.rps), ms(s.p50), ms(s.p99), list.map((r) => int(r.rps)).join(' / '), String(bad)]);
  }
  log(table(['case', 'req/s', 'p50 ms', 'p99 ms', 'req/s per round', 'non-2xx/errors'], rows, [1, 2, 3, 5]));

  const get = (id: string) => summary(id);
  const bareS = get('bare');
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : Number.NaN);
  type Check = [string, number, string, ((v: number) => boolean) | null, (v: number) => string];
  const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(3)} ×` : 'n/a');
  // A req/s target: its check on the medians, and the same pair again in the PER ROUND table.
  const paired: [label: string, a: string, b: string, target: number][] = [];
  const rpsTarget = (label: string, a: string, b: string, target: number): Check => {
    paired.push([label, a, b, target]);
    return [`${label}, req/s`, ratio(get(a)?.rps, get(b)?.rps), `≥ ${target} ×`, (v) => v >= target, x];
  };
  const checks: Check[] = [
    rpsTarget('verify SQLite / bare route', 'sqlite-verify', 'bare', 0.75),
    ['verify SQLite / bare route, p99 latency', ratio(get('sqlite-verify')?.p99, bareS?.p99), '≤ 2 ×', (v) => v <= 2, x],
    rpsTarget('verify with context (alerts) / bare route with the same body', 'sqlite-verify-context', 'bare-context', 0.75),
    ['verify with context (alerts) / bare route with the plain body, req/s', ratio(get('sqlite-verify-context')?.rps, bareS?.rps), '(informative)', null, x],
    rpsTarget('verify SQLite / better-auth tuned like Keysmith', 'sqlite-verify', 'better-auth', 20),
    ['verify SQLite / better-auth as documented, req/s', ratio(get('sqlite-verify')?.rps, get('better-auth-documented')?.rps), '(informative)', null, x],
    ['bare route / better-auth tuned, req/s (issue: ~27 ×)', ratio(bareS?.rps, get('better-auth')?.rps), '(informative)', null, x],
    rpsTarget('verify PostgreSQL / bare route', 'pg-verify', 'bare', 0.6),
    rpsTarget('credits SQLite / bare route', 'sqlite-credits', 'bare', 0.5),
    rpsTarget('credits PostgreSQL / bare route', 'pg-credits', 'bare', 0.3),
    rpsTarget('NOT_FOUND flood SQLite / bare route with the same bodies', 'sqlite-flood', 'bare-flood', 0.75),
    ['NOT_FOUND flood SQLite / bare route with one fixed body, req/s', ratio(get('sqlite-flood')?.rps, bareS?.rps), '(informative)', null, x],
    [
      'valid-key p99 during flood / without flood',
      ratio(get('sqlite-mix-valid')?.p99, get('sqlite-verify')?.p99),
      '≤ 1.25 × (unharmed)',
      (v) => v <= 1.25,
      x,
    ],
    [
      `${LARGE_KEYS.toLocaleString('en-US')} keys / ${SMALL_KEYS.toLocaleString('en-US')} keys, req/s`,
      ratio(get('sqlite-large')?.rps, get('sqlite-1k')?.rps),
      '≥ 0.9 × (within 10 %)',
      (v) => v >= 0.9,
      x,
    ],
    ['RSS of Keysmith SQLite, fresh start (no request yet)', rssFresh ?? Number.NaN, '(informative)', null, (v) => mib(v)],
    ['RSS of Keysmith SQLite, idle after setup (signup, keys)', rssIdle ?? Number.NaN, '≤ 150 MiB', (v) => v <= 150, (v) => mib(v)],
    ['RSS of Keysmith SQLite, after its runs', rssAfter ?? Number.NaN, '(informative)', null, (v) => mib(v)],
    [`RSS with ${LARGE_KEYS.toLocaleString('en-US')} keys, idle after seeding`, rssLargeIdle ?? Number.NaN, '(informative)', null, (v) => mib(v)],
    [`RSS at the end of the ${LARGE_KEYS.toLocaleString('en-US')}-key run`, rssLargeAfter ?? Number.NaN, '≤ 512 MiB', (v) => v <= 512, (v) => mib(v)],
  ];
  if (propagation) {
    const p = propagation;
    checks.push(
      ['revocation seen on another instance, median', median(p.times), '≤ 1000 ms', (v) => v <= 1000, (v) => `${v.toFixed(1)} ms`],
      ['revocation seen on another instance, max', Math.max(...p.times), '≤ 1000 ms', (v) => v <= 1000, (v) => `${v.toFixed(1)} ms`],
      ['VALID on the revoking instance after revoke', p.staleOnA, '0', (v) => v === 0, (v) => String(v)],
    );
  }
  log();
  log('TARGETS (issue 5)');
  log();
  log(
    table(
      ['measure', 'value', 'target', 'met'],
      checks.map(([name, value, target, ok, fmt]) => [name, fmt(value), target, !ok ? '' : Number.isFinite(value) ? (ok(value) ? 'yes' : 'NO') : 'n/a']),
      [1],
    ),
  );
  if (propagation && propagation.timedOut > 0) log(`(${propagation.timedOut} revocations were still VALID on the other instance after ${propagation.limitMs} ms)`);
  log();

  // The medians above can pair a good round of one target with a bad round of another: each
  // round's own ratio (its two runs a few seconds apart) shows how much of a margin is noise.
  const pairedRows: string[][] = [];
  for (const [label, a, b, target] of paired) {
    const as = results.get(a);
    const bs = results.get(b);
    if (!as || !bs) continue;
    const per = as.map((r, i) => ratio(r.rps, bs[i]?.rps));
    pairedRows.push([label, per.map(x).join(' / '), x(Math.min(...per)), `≥ ${target} ×`, per.every((v) => v >= target) ? 'yes' : 'NO']);
  }
  log('PER ROUND (req/s ratio within each round)');
  log();
  log(table(['measure', 'each round', 'lowest', 'target', 'met in every round'], pairedRows, [2]));
  log();

  clearTimeout(globalTimer);
  // Stop the servers in the order they were started; then the temporary database and files go.
  for (const ks of [ksSqlite, ksPg, ksPg2, ksSmall, ksLarge]) if (ks) await stopChild(ks.child);
  await stopChild(bare.child);
  await stopChild(peer.child);
  await stopChild(peerDoc.child);
}

try {
  await main();
  await cleanup();
  process.exit(0);
} catch (error) {
  // After a signal the servers are gone and main() fails on them: that is no news.
  if (!signalled) log(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await shutdown(signalled ? 130 : 1);
}
