import { sql, type Kysely } from 'kysely';
import type { UsageSink } from '@keysmith/core';
import { writeKeyActivity } from './key-activity';
import type { Database } from './schema';

/** How long an applied batch id is remembered: a batch written again later than this would count twice. */
const BATCH_ID_TTL_MS = 24 * 3_600_000;
/** Old batch ids are deleted at most this often (by each sink), in the transaction of a batch. */
const PRUNE_EVERY_MS = 60_000;

const byKeyId = (a: { keyId: string }, b: { keyId: string }) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : 0);

export interface UsageSinkOptions {
  /** The time in ms since the epoch, for `applied_at` and the pruning; Date.now by default. */
  now?: () => number;
}

/**
 * Writes batched usage: one transaction, atomic increments, purged keys skipped. The batch id is
 * inserted first in that transaction; when it is there already, the batch was applied by an
 * earlier write whose reply was lost, and nothing more is written (see `UsageSink`).
 */
export function createUsageSink(db: Kysely<Database>, options: UsageSinkOptions = {}): UsageSink {
  const now = options.now ?? Date.now;
  let prunedAt = Number.NEGATIVE_INFINITY;

  return {
    async write(batch) {
      const at = now();
      const prune = at - prunedAt >= PRUNE_EVERY_MS;
      await db.transaction().execute(async (tx) => {
        // On PostgreSQL a concurrent write of the same id waits here for the other to commit or roll back.
        const claimed = await tx
          .insertInto('usage_batches')
          .values({ id: batch.id, applied_at: at })
          .onConflict((oc) => oc.column('id').doNothing())
          .executeTakeFirst();
        if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) > 0) {
          // Rows in one order (by key id) on every instance, so two flushes of the same keys cannot deadlock.
          for (const k of [...batch.keys].sort(byKeyId)) {
            await tx
              .updateTable('api_keys')
              .set({
                usage_count: sql<number>`usage_count + cast(${k.valid} as bigint)`,
                last_used_at: sql<number>`case when last_used_at is null or last_used_at < cast(${k.lastUsedAt} as bigint) then cast(${k.lastUsedAt} as bigint) else last_used_at end`,
              })
              .where('id', '=', k.keyId)
              .execute();
          }
          for (const h of [...batch.hours].sort((a, b) => byKeyId(a, b) || a.hour - b.hour)) {
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
          // The networks and user agents seen, in this transaction too: written once per batch id.
          await writeKeyActivity(tx, batch.seen);
        }
        // Last, so the rows it locks are held only until the commit that follows.
        if (prune) await tx.deleteFrom('usage_batches').where('applied_at', '<', at - BATCH_ID_TTL_MS).execute();
      });
      if (prune) prunedAt = at;
    },
  };
}
