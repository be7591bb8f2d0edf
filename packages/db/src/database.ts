import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import * as m0001 from './migrations/0001_initial';
import * as m0002 from './migrations/0002_provider_keys';
import * as m0003 from './migrations/0003_credit_leases';
import * as m0004 from './migrations/0004_webhooks';
import * as m0005 from './migrations/0005_usage_batches';
import * as m0006 from './migrations/0006_alerts';
import type { Database } from './schema';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseOptions {
  /** `postgres://…`, `sqlite:/path/file.db`, or unset for `<dataDir>/keysmith.db`. */
  url?: string | undefined;
  dataDir: string;
  /** PostgreSQL only: the schema to use (tests give each app its own). */
  schema?: string | undefined;
  /** PostgreSQL only: pool size. */
  poolSize?: number | undefined;
  /** PostgreSQL only: how long a query waits for a connection (a free one, or a new one) before it fails. */
  connectionTimeoutMs?: number | undefined;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The SQLite file, when on SQLite. */
  file: string | null;
  /** The raw SQLite connection, for the few synchronous hot-path statements (see store.ts). */
  sqlite: BetterSqlite3.Database | null;
  /**
   * Whether the database answers (on PostgreSQL: connects and answers within 2 s each). Never
   * waits for the pool: it runs on a connection of its own, so a pool busy with load does not
   * read as a database gone. False once closed.
   */
  ping(): Promise<boolean>;
  /** Closes the pool (or the SQLite connection) and the ping's connection. */
  close(): Promise<void>;
}

const migrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_provider_keys': m0002,
  '0003_credit_leases': m0003,
  '0004_webhooks': m0004,
  '0005_usage_batches': m0005,
  '0006_alerts': m0006,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

// int8 (bigint) and numeric come back as strings by default; every such value here fits a double.
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** How long the PostgreSQL ping may take to connect, and then to answer. */
const PING_TIMEOUT_MS = 2_000;

/**
 * The health ping over one dedicated PostgreSQL connection: made on first use, dropped after any
 * error (and made anew by the next ping). Pings that overlap share one round trip.
 */
function createPgPing(url: string): { ping(): Promise<boolean>; close(): Promise<void> } {
  let client: pg.Client | null = null;
  let inflight: Promise<boolean> | null = null;
  let closed = false;

  const drop = (c: pg.Client) => {
    if (client !== c) return;
    client = null;
    void c.end().catch(() => {});
  };

  async function attempt(): Promise<boolean> {
    let c = client;
    try {
      if (!c) {
        const fresh = new pg.Client({
          connectionString: url,
          connectionTimeoutMillis: PING_TIMEOUT_MS,
          // Client side, for a peer that went silent; server side, for a database too busy to answer.
          query_timeout: PING_TIMEOUT_MS,
          statement_timeout: PING_TIMEOUT_MS,
          keepAlive: true,
        });
        // A connection lost while idle must not crash the process; the next ping makes a new one.
        fresh.on('error', () => drop(fresh));
        fresh.on('end', () => drop(fresh));
        client = c = fresh;
        await c.connect();
      }
      await c.query('select 1');
      return true;
    } catch {
      if (c) drop(c);
      return false;
    }
  }

  return {
    ping() {
      if (closed) return Promise.resolve(false);
      inflight ??= attempt().finally(() => {
        inflight = null;
      });
      return inflight;
    },
    async close() {
      closed = true;
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}

/** Opens the database named by the options: PostgreSQL for a postgres URL, SQLite otherwise. */
export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const url = options.url;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      // pg waits forever by default: a database that went away must fail queries fast (503), not hang them.
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 2_000,
      // Lets the OS notice (in minutes, not hours) a peer that vanished without closing the connection.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      types: pgTypes,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client that loses its connection must not crash the process.
    pool.on('error', () => {});
    // Nor one that is checked out: pg emits 'error' on it too (besides failing its query), and the
    // pool only listens while the client is idle. The failed query reports the trouble; the pool
    // then drops the client on release, as it is no longer queryable.
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const health = createPgPing(url);
    return {
      db,
      dialect: 'postgres',
      file: null,
      sqlite: null,
      ping: health.ping,
      close: () => Promise.all([health.close(), db.destroy()]).then(() => {}),
    };
  }
  const file = url?.startsWith('sqlite:') ? resolve(url.slice('sqlite:'.length)) : join(resolve(options.dataDir), 'keysmith.db');
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const ping = async () => {
    try {
      sqlite.prepare('select 1').get();
      return true;
    } catch {
      return false;
    }
  };
  return { db, dialect: 'sqlite', file, sqlite, ping, close: () => db.destroy() };
}

/**
 * Whether a failed query only waited too long for a pooled connection: pg-pool's queue-wait
 * timeout, met when every connection is busy (load), not when the database cannot be reached.
 * A connection that could not be made fails otherwise ("Connection terminated due to connection
 * timeout", ECONNREFUSED, …), so only this one must not count as an outage.
 */
export function isPoolExhausted(error: unknown): boolean {
  // pg-pool gives this error no code; its message (pg-pool/index.js, Pool.connect) is all there is.
  return error instanceof Error && error.message === 'timeout exceeded when trying to connect';
}

/** Applies every pending migration; throws if one fails. */
export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<string[]> {
  // Name the schema of the bookkeeping tables, or Kysely may find another schema's copy.
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
