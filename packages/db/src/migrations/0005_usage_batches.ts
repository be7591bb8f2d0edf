import type { Kysely } from 'kysely';

// Frozen: a migration never imports application code and never changes once released.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The ids of usage batches already applied, written in the batch's own transaction: a batch
  // written again (its first write committed, but the reply was lost) is recognised and skipped.
  // Old ids are deleted after a while, so the table stays small.
  await db.schema
    .createTable('usage_batches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('usage_batches_applied_idx').on('usage_batches').column('applied_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_batches').execute();
}
