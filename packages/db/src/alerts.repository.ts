import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AlertQuery, AlertRecord, AlertRepository, AlertSettings, AlertSeverity, AlertType, KeyFacts, SeenRecord } from '@keysmith/core';
import type { Dialect } from './database';
import { newestFirstPage } from './keyset';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;
type AlertRow = Selectable<Database['alerts']>;
type SettingsRow = Selectable<Database['alert_settings']>;

const DAY_MS = 86_400_000;
/** Ids per `in (…)` list, well under either dialect's parameter limit. */
const CHUNK = 500;

/** Runs `fn` over `ids` in chunks and concatenates the answers. */
async function chunked<T>(ids: string[], fn: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const unique = [...new Set(ids)];
  const out: T[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) out.push(...(await fn(unique.slice(i, i + CHUNK))));
  return out;
}

function toAlert(row: AlertRow): AlertRecord {
  return {
    id: row.id,
    teamId: row.team_id,
    keyId: row.key_id,
    type: row.type as AlertType,
    severity: row.severity as AlertSeverity,
    message: row.message,
    details: JSON.parse(row.details) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    readAt: row.read_at === null ? null : Number(row.read_at),
    dedupeKey: row.dedupe_key,
  };
}

function toSettings(row: SettingsRow): AlertSettings {
  return {
    'key.new_network': { enabled: Number(row.new_network_enabled) === 1 },
    'key.revoked_used': { enabled: Number(row.revoked_used_enabled) === 1 },
    'key.usage_spike': { enabled: Number(row.usage_spike_enabled) === 1, factor: Number(row.usage_spike_factor), minCalls: Number(row.usage_spike_min_calls) },
    'key.credits_low': { enabled: Number(row.credits_low_enabled) === 1, percent: Number(row.credits_low_percent) },
    'key.expiring_soon': { enabled: Number(row.expiring_soon_enabled) === 1, days: Number(row.expiring_soon_days) },
    'key.unused': { enabled: Number(row.unused_enabled) === 1, days: Number(row.unused_days) },
  };
}

/** What open leases of the key's current credits generation still hold (as store.ts counts it for reads). */
const keyLeased = sql<number>`(select coalesce(sum(l.granted - l.spent), 0) from credit_leases l where l.subject_kind = 'key' and l.subject_id = api_keys.id and l.generation = api_keys.credits_generation)`;
const teamLeased = sql<number>`(select coalesce(sum(l.granted - l.spent), 0) from credit_leases l where l.subject_kind = 'team' and l.subject_id = teams.id and l.generation = teams.credits_generation)`;

const KEY_COLUMNS = [
  'api_keys.id',
  'api_keys.team_id',
  'api_keys.name',
  'api_keys.prefix',
  'api_keys.created_at',
  'api_keys.last_used_at',
  'api_keys.expires_at',
  'api_keys.revoked_at',
  'api_keys.enabled',
  'api_keys.credits_limit',
  'api_keys.credits_remaining',
  'api_keys.credits_generation',
] as const;

interface KeyFactsRow {
  id: string;
  team_id: string;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  enabled: number;
  credits_limit: number | null;
  credits_remaining: number | null;
  credits_generation: number;
  leased: number;
}

function toKeyFacts(row: KeyFactsRow): KeyFacts {
  return {
    id: row.id,
    teamId: row.team_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    enabled: Number(row.enabled) === 1,
    credits:
      row.credits_limit === null || row.credits_remaining === null
        ? null
        : { limit: Number(row.credits_limit), remaining: Number(row.credits_remaining) + Number(row.leased), generation: Number(row.credits_generation) },
  };
}

/**
 * Alerts, alert settings and the networks and user agents kept per key, for SQLite and
 * PostgreSQL. `insert` relies on the unique index on `dedupe_key`: ON CONFLICT DO NOTHING is one
 * statement, so two instances inserting the same condition store one row.
 */
export function createAlertRepository(db: Db, _dialect: Dialect): AlertRepository {
  /** The team's alerts that the query's filters keep. */
  const filtered = (query: Omit<AlertQuery, 'page'>) =>
    db
      .selectFrom('alerts')
      .selectAll()
      .where('team_id', '=', query.teamId)
      .$if(query.type !== null, (qb) => qb.where('type', '=', query.type as string))
      .$if(query.unread !== null, (qb) => qb.where('read_at', query.unread ? 'is' : 'is not', null))
      .$if(query.keyId !== null, (qb) => qb.where('key_id', '=', query.keyId as string));

  /** A page of the sweeps: keys neither revoked nor disabled after `afterId`, in id order, with their team's settings. */
  const activeKeysPage = (afterId: string, limit: number) =>
    db
      .selectFrom('api_keys')
      .leftJoin('alert_settings', 'alert_settings.team_id', 'api_keys.team_id')
      .select([...KEY_COLUMNS, keyLeased.as('leased')])
      .where('api_keys.revoked_at', 'is', null)
      .where('api_keys.enabled', '=', 1)
      .where('api_keys.id', '>', afterId)
      .orderBy('api_keys.id')
      .limit(limit);

  const seen = (table: 'key_networks' | 'key_user_agents', column: 'network' | 'user_agent') => (keyIds: string[]) =>
    chunked(keyIds, async (ids) => {
      const rows = await db.selectFrom(table).select(['key_id', sql.ref<string>(column).as('value'), 'first_seen', 'last_seen', 'count']).where('key_id', 'in', ids).execute();
      return rows.map((r): SeenRecord => ({ keyId: r.key_id, value: r.value, firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen), count: Number(r.count) }));
    });

  return {
    async insert(a) {
      const result = await db
        .insertInto('alerts')
        .values({
          id: a.id,
          team_id: a.teamId,
          key_id: a.keyId,
          type: a.type,
          severity: a.severity,
          message: a.message,
          details: JSON.stringify(a.details),
          created_at: a.createdAt,
          read_at: a.readAt,
          dedupe_key: a.dedupeKey,
        })
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    async list(query) {
      const rows = await newestFirstPage(filtered(query), query.page).execute();
      return rows.map(toAlert);
    },

    async count(query) {
      const row = await filtered(query)
        .clearSelect()
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async find(teamId, id) {
      const row = await db.selectFrom('alerts').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
      return row && toAlert(row);
    },

    async markRead(teamId, id, at) {
      const result = await db.updateTable('alerts').set({ read_at: at }).where('team_id', '=', teamId).where('id', '=', id).where('read_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async markAllRead(teamId, at) {
      const result = await db.updateTable('alerts').set({ read_at: at }).where('team_id', '=', teamId).where('read_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async existingDedupeKeys(keys) {
      const rows = await chunked(keys, (chunk) => db.selectFrom('alerts').select('dedupe_key').where('dedupe_key', 'in', chunk).execute());
      return new Set(rows.map((r) => r.dedupe_key));
    },

    async latestOf(type, keyIds, since) {
      const rows = await chunked(keyIds, (ids) =>
        db
          .selectFrom('alerts')
          .select((eb) => ['key_id', eb.fn.max('created_at').as('latest')])
          .where('type', '=', type)
          .where('key_id', 'in', ids)
          .where('created_at', '>=', since)
          .groupBy('key_id')
          .execute(),
      );
      return new Map(rows.filter((r) => r.key_id !== null).map((r) => [r.key_id as string, Number(r.latest)]));
    },

    async settings(teamId) {
      const row = await db.selectFrom('alert_settings').selectAll().where('team_id', '=', teamId).executeTakeFirst();
      return row && { settings: toSettings(row), updatedAt: Number(row.updated_at) };
    },

    async settingsOf(teamIds) {
      const rows = await chunked(teamIds, (ids) => db.selectFrom('alert_settings').selectAll().where('team_id', 'in', ids).execute());
      return new Map(rows.map((r) => [r.team_id, toSettings(r)]));
    },

    async putSettings(teamId, s, at) {
      const values = {
        new_network_enabled: s['key.new_network'].enabled ? 1 : 0,
        revoked_used_enabled: s['key.revoked_used'].enabled ? 1 : 0,
        usage_spike_enabled: s['key.usage_spike'].enabled ? 1 : 0,
        usage_spike_factor: s['key.usage_spike'].factor,
        usage_spike_min_calls: s['key.usage_spike'].minCalls,
        credits_low_enabled: s['key.credits_low'].enabled ? 1 : 0,
        credits_low_percent: s['key.credits_low'].percent,
        expiring_soon_enabled: s['key.expiring_soon'].enabled ? 1 : 0,
        expiring_soon_days: s['key.expiring_soon'].days,
        unused_enabled: s['key.unused'].enabled ? 1 : 0,
        unused_days: s['key.unused'].days,
        updated_at: at,
      };
      await db
        .insertInto('alert_settings')
        .values({ team_id: teamId, ...values })
        .onConflict((oc) => oc.column('team_id').doUpdateSet(values))
        .execute();
    },

    networksOf: seen('key_networks', 'network'),
    userAgentsOf: seen('key_user_agents', 'user_agent'),

    async keyFacts(keyIds) {
      const rows = await chunked(keyIds, (ids) => db.selectFrom('api_keys').select([...KEY_COLUMNS, keyLeased.as('leased')]).where('api_keys.id', 'in', ids).execute());
      return rows.map(toKeyFacts);
    },

    async teamCredits(teamIds) {
      const rows = await chunked(teamIds, (ids) =>
        db
          .selectFrom('teams')
          .select(['id', 'credits_balance', 'credits_limit', 'credits_generation', teamLeased.as('leased')])
          .where('id', 'in', ids)
          .where('credits_balance', 'is not', null)
          .where('credits_limit', 'is not', null)
          .execute(),
      );
      return rows.map((r) => ({
        teamId: r.id,
        limit: Number(r.credits_limit),
        remaining: Number(r.credits_balance) + Number(r.leased),
        generation: Number(r.credits_generation),
      }));
    },

    async callStats(keyIds, hour) {
      const from = hour - 7 * 24 * 3_600_000;
      const previous = hour - 3_600_000;
      const rows = await chunked(keyIds, (ids) =>
        db
          .selectFrom('usage_hourly')
          .select([
            'key_id',
            sql<number>`sum(case when hour = cast(${hour} as bigint) then valid + rejected else 0 end)`.as('current'),
            sql<number>`sum(case when hour = cast(${previous} as bigint) then valid + rejected else 0 end)`.as('previous'),
            sql<number>`sum(case when hour < cast(${hour} as bigint) then valid + rejected else 0 end)`.as('baseline'),
          ])
          .where('key_id', 'in', ids)
          .where('hour', '>=', from)
          .where('hour', '<=', hour)
          .groupBy('key_id')
          .execute(),
      );
      return rows.map((r) => ({ keyId: r.key_id, current: Number(r.current), previous: Number(r.previous), baseline: Number(r.baseline) }));
    },

    async callsInHour(keyIds, hour) {
      const rows = await chunked(keyIds, (ids) =>
        db.selectFrom('usage_hourly').select(['key_id', sql<number>`valid + rejected`.as('calls')]).where('key_id', 'in', ids).where('hour', '=', hour).execute(),
      );
      return new Map(rows.map((r) => [r.key_id, Number(r.calls)]));
    },

    async expiringKeys({ now, afterId, limit, defaults }) {
      const rows = await activeKeysPage(afterId, limit)
        .where('api_keys.expires_at', '>', now)
        .where(sql<boolean>`api_keys.expires_at <= cast(${now} as bigint) + cast(coalesce(alert_settings.expiring_soon_days, ${defaults.days}) as bigint) * ${DAY_MS}`)
        .where(sql<boolean>`coalesce(alert_settings.expiring_soon_enabled, ${defaults.enabled ? 1 : 0}) = 1`)
        .execute();
      return rows.map(toKeyFacts);
    },

    async idleKeys({ now, afterId, limit, defaults }) {
      const rows = await activeKeysPage(afterId, limit)
        .where((eb) => eb.or([eb('api_keys.expires_at', 'is', null), eb('api_keys.expires_at', '>', now)]))
        .where(
          sql<boolean>`coalesce(api_keys.last_used_at, api_keys.created_at) <= cast(${now} as bigint) - cast(coalesce(alert_settings.unused_days, ${defaults.days}) as bigint) * ${DAY_MS}`,
        )
        .where(sql<boolean>`coalesce(alert_settings.unused_enabled, ${defaults.enabled ? 1 : 0}) = 1`)
        .execute();
      return rows.map(toKeyFacts);
    },
  };
}
