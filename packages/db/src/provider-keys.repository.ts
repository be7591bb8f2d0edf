import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ProviderKeyRecord, ProviderKeyRepository, ProviderKeySort, ProviderKeyType } from '@keysmith/core';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;
type Row = Selectable<Database['provider_keys']>;

function toRecord(row: Row): ProviderKeyRecord {
  return {
    id: row.id,
    teamId: row.team_id,
    type: row.type as ProviderKeyType,
    description: row.description,
    hint: row.key_hint,
    sealed: { ciphertext: row.ciphertext, dataKey: row.data_key, masterKeyId: row.master_key_id, version: row.format_version },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by_id ? { id: row.created_by_id, name: row.created_by_name ?? '' } : null,
  };
}

const SORT_COLUMN: Record<ProviderKeySort, 'created_at' | 'updated_at' | 'description' | 'type'> = {
  createdAt: 'created_at',
  '-createdAt': 'created_at',
  updatedAt: 'updated_at',
  '-updatedAt': 'updated_at',
  description: 'description',
  '-description': 'description',
  type: 'type',
  '-type': 'type',
};

/** Provider credentials: only sealed values and a short display hint are ever written. */
export function createProviderKeyRepository(db: Db): ProviderKeyRepository {
  const filtered = (query: { teamId: string; q: string | null; type: ProviderKeyType | null }) =>
    db
      .selectFrom('provider_keys')
      .where('team_id', '=', query.teamId)
      .$if(query.q !== null, (qb) => qb.where(sql<boolean>`lower(description) like ${`%${(query.q ?? '').toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`))
      .$if(query.type !== null, (qb) => qb.where('type', '=', query.type as string));

  return {
    async insert(r) {
      await db
        .insertInto('provider_keys')
        .values({
          id: r.id,
          team_id: r.teamId,
          type: r.type,
          description: r.description,
          key_hint: r.hint,
          ciphertext: r.sealed.ciphertext,
          data_key: r.sealed.dataKey,
          master_key_id: r.sealed.masterKeyId,
          format_version: r.sealed.version,
          created_at: r.createdAt,
          updated_at: r.updatedAt,
          created_by_id: r.createdBy?.id ?? null,
          created_by_name: r.createdBy?.name ?? null,
        })
        .execute();
    },
    async find(teamId, id) {
      const row = await db.selectFrom('provider_keys').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async list(query) {
      const column = SORT_COLUMN[query.sort];
      const cursor = query.page.cursor;
      const descending = query.sort.startsWith('-') !== (cursor?.direction === 'before');
      const order = descending ? 'desc' : 'asc';
      const op = descending ? '<' : '>';
      const rows = await filtered(query)
        .selectAll()
        .$if(cursor !== null, (qb) =>
          qb.where((eb) => {
            const c = cursor as NonNullable<typeof cursor>;
            return eb.or([eb(column, op, c.value), eb.and([eb(column, '=', c.value), eb('id', op, c.id)])]);
          }),
        )
        .orderBy(column, order)
        .orderBy('id', order)
        .limit(query.page.limit + 1)
        .execute();
      return rows.map(toRecord);
    },
    async count(query) {
      const row = await filtered(query).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async update(id, changes) {
      const set: Partial<Database['provider_keys']> = {};
      if (changes.type !== undefined) set.type = changes.type;
      if (changes.description !== undefined) set.description = changes.description;
      if (changes.hint !== undefined) set.key_hint = changes.hint;
      if (changes.updatedAt !== undefined) set.updated_at = changes.updatedAt;
      if (changes.sealed !== undefined) {
        set.ciphertext = changes.sealed.ciphertext;
        set.data_key = changes.sealed.dataKey;
        set.master_key_id = changes.sealed.masterKeyId;
        set.format_version = changes.sealed.version;
      }
      await db.updateTable('provider_keys').set(set).where('id', '=', id).execute();
    },
    async delete(id) {
      await db.deleteFrom('provider_keys').where('id', '=', id).execute();
    },
    async sealedUnder(notMasterKeyId, limit) {
      const rows = await db.selectFrom('provider_keys').selectAll().where('master_key_id', '<>', notMasterKeyId).orderBy('id').limit(limit).execute();
      return rows.map(toRecord);
    },
    async rewrap(id, expectedMasterKeyId, sealed) {
      const result = await db
        .updateTable('provider_keys')
        .set({ data_key: sealed.dataKey, master_key_id: sealed.masterKeyId })
        .where('id', '=', id)
        .where('master_key_id', '=', expectedMasterKeyId)
        // The new data key belongs to this ciphertext: if the key was changed meanwhile, leave the row.
        .where('ciphertext', '=', sealed.ciphertext)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
