import pg from 'pg';
import { TEST_PG_URL } from './pg-url';

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
 * Drops the schemas of test runs that died before their teardown (`t_<pid>_…`, the worker's pid
 * no longer alive): every one left behind slows each migration of later runs (the migrator
 * scans the tables of all schemas). Schemas of a run still going are kept. If PostgreSQL is not
 * reachable this does nothing: the suite then fails with its own clear message.
 */
export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch {
    return;
  }
  try {
    const { rows } = await client.query<{ name: string }>(`select nspname as name from pg_namespace where nspname ~ '^t_[0-9]+_'`);
    for (const { name } of rows) {
      const pid = Number(/^t_(\d+)_/.exec(name)?.[1]);
      if (!alive(pid)) await client.query(`drop schema if exists ${client.escapeIdentifier(name)} cascade`);
    }
  } finally {
    await client.end();
  }
}
