import { sql, type Kysely } from 'kysely';

// Frozen: a migration never imports application code and never changes once released.
export async function up(db: Kysely<unknown>): Promise<void> {
  // The networks (/24, /48) and user agents a key was used from, as its callers reported them.
  // Written with the usage batches (in their transaction), and kept to the most recent few per key.
  for (const [table, column] of [
    ['key_networks', 'network'],
    ['key_user_agents', 'user_agent'],
  ] as const) {
    await db.schema
      .createTable(table)
      .addColumn('key_id', 'text', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
      .addColumn(column, 'text', (c) => c.notNull())
      .addColumn('first_seen', 'bigint', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['key_id', column])
      .execute();
    await db.schema.createIndex(`${table}_recent_idx`).on(table).columns(['key_id', 'last_seen']).execute();
  }

  // Alerts raised by the rules. The dedupe key names the condition ("this key, this hour"), and
  // is unique, so instances that evaluate the same condition at once store one alert.
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    // No foreign key: an alert outlives a purged key, as audit entries do.
    .addColumn('key_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('read_at', 'bigint')
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alerts_dedupe_idx').on('alerts').column('dedupe_key').unique().execute();
  await db.schema.createIndex('alerts_team_created_idx').on('alerts').columns(['team_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('alerts_team_unread_idx').on('alerts').columns(['team_id', 'created_at']).where(sql<boolean>`read_at is null`).execute();
  await db.schema.createIndex('alerts_key_type_idx').on('alerts').columns(['key_id', 'type', 'created_at']).execute();

  // A team's rules; a team without a row has the defaults. A saved row holds every value.
  await db.schema
    .createTable('alert_settings')
    .addColumn('team_id', 'text', (c) => c.primaryKey().references('teams.id').onDelete('cascade'))
    .addColumn('new_network_enabled', 'integer', (c) => c.notNull())
    .addColumn('revoked_used_enabled', 'integer', (c) => c.notNull())
    .addColumn('usage_spike_enabled', 'integer', (c) => c.notNull())
    .addColumn('usage_spike_factor', 'double precision', (c) => c.notNull())
    .addColumn('usage_spike_min_calls', 'bigint', (c) => c.notNull())
    .addColumn('credits_low_enabled', 'integer', (c) => c.notNull())
    .addColumn('credits_low_percent', 'double precision', (c) => c.notNull())
    .addColumn('expiring_soon_enabled', 'integer', (c) => c.notNull())
    .addColumn('expiring_soon_days', 'integer', (c) => c.notNull())
    .addColumn('unused_enabled', 'integer', (c) => c.notNull())
    .addColumn('unused_days', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  // The balance an owner last set: the team's credit "limit" that the low-credits rule compares with.
  await db.schema.alterTable('teams').addColumn('credits_limit', 'bigint').execute();
  await sql`update teams set credits_limit = credits_balance where credits_balance is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('teams').dropColumn('credits_limit').execute();
  await db.schema.dropTable('alert_settings').execute();
  await db.schema.dropTable('alerts').execute();
  await db.schema.dropTable('key_user_agents').execute();
  await db.schema.dropTable('key_networks').execute();
}
