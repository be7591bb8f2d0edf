import { sql, type Transaction } from 'kysely';
import { KEY_NETWORKS_KEPT, KEY_USER_AGENTS_KEPT, type KeySeen } from '@keysmith/core';
import type { Database } from './schema';

interface SeenRow {
  keyId: string;
  value: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

/** Rows per statement: 5 parameters each, well under either dialect's limit. */
const CHUNK = 200;

const byKeyThenValue = (a: SeenRow, b: SeenRow) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0);

/** One row per (key, value): values that differ only in what PostgreSQL cannot store are merged. */
function rowsOf(seen: KeySeen[], pick: (s: KeySeen) => Array<{ value: string; firstSeen: number; lastSeen: number; count: number }>): SeenRow[] {
  const merged = new Map<string, SeenRow>();
  for (const s of seen) {
    for (const v of pick(s)) {
      // PostgreSQL text cannot hold NUL (the API refuses it already; this keeps a batch writable regardless).
      const value = v.value.replaceAll('\u0000', '\uFFFD');
      const id = `${s.keyId}\u0000${value}`;
      const row = merged.get(id);
      if (!row) merged.set(id, { keyId: s.keyId, value, firstSeen: v.firstSeen, lastSeen: v.lastSeen, count: v.count });
      else {
        row.firstSeen = Math.min(row.firstSeen, v.firstSeen);
        row.lastSeen = Math.max(row.lastSeen, v.lastSeen);
        row.count += v.count;
      }
    }
  }
  return [...merged.values()].sort(byKeyThenValue);
}

async function upsert(tx: Transaction<Database>, table: 'key_networks' | 'key_user_agents', column: 'network' | 'user_agent', rows: SeenRow[]): Promise<void> {
  const t = sql.table(table);
  const c = sql.ref(column);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = sql.join(
      rows
        .slice(i, i + CHUNK)
        .map((r) => sql`(cast(${r.keyId} as text), cast(${r.value} as text), cast(${r.firstSeen} as bigint), cast(${r.lastSeen} as bigint), cast(${r.count} as bigint))`),
    );
    // Rows of keys purged since the use are skipped (WHERE EXISTS), as usage_hourly does.
    await sql`
      insert into ${t} (key_id, ${c}, first_seen, last_seen, count)
      select v.column1, v.column2, v.column3, v.column4, v.column5 from (values ${values}) as v
      where exists (select 1 from api_keys where id = v.column1)
      on conflict (key_id, ${c}) do update set
        first_seen = case when excluded.first_seen < ${t}.first_seen then excluded.first_seen else ${t}.first_seen end,
        last_seen = case when excluded.last_seen > ${t}.last_seen then excluded.last_seen else ${t}.last_seen end,
        count = ${t}.count + excluded.count
    `.execute(tx);
  }
}

/** Deletes all but the `keep` most recently seen rows of each of these keys. */
async function prune(tx: Transaction<Database>, table: 'key_networks' | 'key_user_agents', column: 'network' | 'user_agent', keyIds: string[], keep: number): Promise<void> {
  const t = sql.table(table);
  const c = sql.ref(column);
  for (let i = 0; i < keyIds.length; i += CHUNK) {
    const ids = sql.join(keyIds.slice(i, i + CHUNK));
    await sql`
      delete from ${t} where (key_id, ${c}) in (
        select key_id, ${c} from (
          select key_id, ${c}, row_number() over (partition by key_id order by last_seen desc, ${c} desc) as rn
          from ${t} where key_id in (${ids})
        ) ranked where rn > ${keep}
      )
    `.execute(tx);
  }
}

/**
 * Writes the networks and user agents of a usage batch, in the batch's transaction (so at most
 * once per batch id), and keeps per key only the `KEY_NETWORKS_KEPT` / `KEY_USER_AGENTS_KEPT`
 * most recently seen. Rows go in key order, as the rest of the batch does.
 */
export async function writeKeyActivity(tx: Transaction<Database>, seen: KeySeen[] | undefined): Promise<void> {
  if (!seen || seen.length === 0) return;
  const networks = rowsOf(seen, (s) => s.networks.map((n) => ({ value: n.network, firstSeen: n.firstSeen, lastSeen: n.lastSeen, count: n.count })));
  const agents = rowsOf(seen, (s) => s.userAgents.map((u) => ({ value: u.userAgent, firstSeen: u.firstSeen, lastSeen: u.lastSeen, count: u.count })));
  if (networks.length > 0) {
    await upsert(tx, 'key_networks', 'network', networks);
    await prune(tx, 'key_networks', 'network', [...new Set(networks.map((r) => r.keyId))], KEY_NETWORKS_KEPT);
  }
  if (agents.length > 0) {
    await upsert(tx, 'key_user_agents', 'user_agent', agents);
    await prune(tx, 'key_user_agents', 'user_agent', [...new Set(agents.map((r) => r.keyId))], KEY_USER_AGENTS_KEPT);
  }
}
