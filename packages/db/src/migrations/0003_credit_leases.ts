import type { Kysely } from 'kysely';

// Frozen: a migration never imports application code and never changes once released.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Bumped by every change of a key's credits or a team's balance by its owner (and by a refill),
  // so a lease granted before the change can never give its rest back into the new credits.
  await db.schema.alterTable('api_keys').addColumn('credits_generation', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('teams').addColumn('credits_generation', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

  // A block of credits taken from a key or a team balance by one instance, to spend in memory.
  await db.schema
    .createTable('credit_leases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('granted', 'bigint', (c) => c.notNull())
    .addColumn('spent', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credit_leases_subject_idx').on('credit_leases').columns(['subject_kind', 'subject_id']).execute();
  await db.schema.createIndex('credit_leases_expires_idx').on('credit_leases').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('credit_leases').execute();
  await db.schema.alterTable('teams').dropColumn('credits_generation').execute();
  await db.schema.alterTable('api_keys').dropColumn('credits_generation').execute();
}
