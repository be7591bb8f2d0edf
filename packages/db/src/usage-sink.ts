import { sql, type Kysely } from 'kysely';
import type { UsageSink } from '@keysmith/core';
import type { Database } from './schema';

/** Writes batched usage: one transaction, atomic increments, purged keys skipped. */
export function createUsageSink(db: Kysely<Database>): UsageSink {
  return {
    async write(batch) {
      await db.transaction().execute(async (tx) => {
        for (const k of batch.keys) {
          await tx
            .updateTable('api_keys')
            .set({
              usage_count: sql<number>`usage_count + cast(${k.valid} as bigint)`,
              last_used_at: sql<number>`case when last_used_at is null or last_used_at < cast(${k.lastUsedAt} as bigint) then cast(${k.lastUsedAt} as bigint) else last_used_at end`,
            })
            .where('id', '=', k.keyId)
            .execute();
        }
        for (const h of batch.hours) {
          // INSERT … SELECT … WHERE EXISTS: a key purged since the use leaves no orphan row.
          await sql`
            insert into usage_hourly (key_id, team_id, hour, valid, rejected, credits_used)
            select cast(${h.keyId} as text), cast(${h.teamId} as text), cast(${h.hour} as bigint), cast(${h.valid} as bigint),
                   cast(${h.rejected} as bigint), cast(${h.creditsUsed} as bigint)
            where exists (select 1 from api_keys where id = ${h.keyId})
            on conflict (key_id, hour) do update set
              valid = usage_hourly.valid + excluded.valid,
              rejected = usage_hourly.rejected + excluded.rejected,
              credits_used = usage_hourly.credits_used + excluded.credits_used
          `.execute(tx);
        }
      });
    },
  };
}
