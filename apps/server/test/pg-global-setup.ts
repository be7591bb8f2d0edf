import pg from 'pg';
import { SCHEMA_LOCK, TEST_PG_URL } from './pg-url';

/** A schema lives for one test or one file (minutes at most): older than this, its run is gone. */
const STALE_AFTER_MS = 30 * 60 * 1000;
/** A schema this young may belong to a run starting right now, whatever its pid says. */
const YOUNG_MS = 60 * 1000;

/** Whether a process of this machine is alive (signal 0 tests, sends nothing). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Drops the schemas of test runs that died before their teardown (`t_<pid>_<ms>_…`): every one
 * left behind slows each migration of later runs (the migrator scans the tables of all schemas).
 * Schemas of a run still going on this machine are kept. If PostgreSQL is not reachable this
 * does nothing: the suite then fails with its own clear message.
 */
export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch {
    return;
  }
  try {
    // Drops wait for migrations under way (which scan every schema) and hold them off, as the tests' own drops do.
    await client.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
    const { rows } = await client.query<{ name: string }>(`select nspname as name from pg_namespace where nspname ~ '^t_[0-9]+_'`);
    for (const { name } of rows) {
      // t_<pid>_<Date.now()>_…: made by a process of this machine that is gone, or so long ago that
      // no run still uses it. (Pids of another machine cannot be checked from here: suites of
      // several machines should not share one PostgreSQL database.)
      const [, pid, createdAt] = /^t_(\d+)_(\d+)_/.exec(name) ?? [];
      const age = Date.now() - Number(createdAt);
      if (age > STALE_AFTER_MS || (age > YOUNG_MS && !alive(Number(pid)))) {
        await client.query(`drop schema if exists ${client.escapeIdentifier(name)} cascade`);
      }
    }
  } finally {
    // Ending the session releases the lock.
    await client.end();
  }
}
