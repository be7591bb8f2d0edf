// Keys for the benchmark: well-formed random keys (valid checksum, unknown to the server) and
// filler rows written straight into a Keysmith SQLite file for the 1,000,000-key measurement.
import { createHash, randomBytes } from 'node:crypto';
import { BASE62, checksum, PREFIX_LENGTH, SECRET_LENGTH } from '@keysmith/core';
import Database from 'better-sqlite3';

let pool = randomBytes(0);
let offset = 0;

/** `length` uniform base62 characters (rejection sampling, like the server's generator). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    if (offset >= pool.length) {
      pool = randomBytes(64 * 1024);
      offset = 0;
    }
    const byte = pool[offset++] as number;
    if (byte < 248) out += BASE62[byte % 62];
  }
  return out;
}

/** A key of Keysmith's format with a valid checksum that no server has issued: answers NOT_FOUND. */
export function wellFormedRandomKey(prefix = 'pk'): string {
  const body = `${prefix}_live_${randomBase62(SECRET_LENGTH)}`;
  return body + checksum(body);
}

export interface SeedResult {
  inserted: number;
  seconds: number;
}

/**
 * Inserts `count` filler keys of team `teamId` directly into the SQLite file (one transaction),
 * with the columns of the api_keys table (packages/db/src/migrations/0001_initial.ts). Each has a
 * unique SHA-256 hash, like a real key. The server must have migrated the file already.
 */
export function seedKeys(file: string, teamId: string, count: number): SeedResult {
  const started = process.hrtime.bigint();
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    db.pragma('cache_size = -262144');
    const insert = db.prepare(
      `insert into api_keys (id, team_id, name, description, prefix, environment, hash, enabled, scopes, created_at,
         created_by_id, created_by_name, expires_at, last_used_at, revoked_at, usage_count, credits_limit,
         credits_remaining, refill_amount, refill_interval, refilled_at, rate_limit, rate_window_seconds, metadata, updated_at)
       values (?, ?, ?, null, ?, 'live', ?, 1, '[]', ?, null, null, null, null, null, 0, null, null, null, null, null, null, null, '{}', ?)`,
    );
    const salt = randomBase62(16);
    const now = Date.now();
    const run = db.transaction((n: number) => {
      for (let i = 0; i < n; i += 1) {
        const raw = `pk_live_${randomBase62(SECRET_LENGTH)}`;
        const hash = createHash('sha256').update(`${salt}:${i}:${raw}`).digest('hex');
        insert.run(`key_${randomBase62(20)}`, teamId, `filler ${i}`, raw.slice(0, PREFIX_LENGTH), hash, now - (n - i), now);
      }
    });
    run(count);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { inserted: count, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** How many rows api_keys holds. */
export function countKeys(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    db.pragma('busy_timeout = 10000');
    return (db.prepare('select count(*) as n from api_keys').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
