import type BetterSqlite3 from 'better-sqlite3';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool, type Transaction } from 'kysely';
import type {
  ApiKey,
  AuditAction,
  AuditEntry,
  KeyEnvironment,
  KeyForVerification,
  KeySort,
  ListKeysQuery,
  RefillInterval,
  Repositories,
  Role,
  SpendRequest,
  SpendResult,
  Store,
} from '@keysmith/core';
import { createCreditLeaseRepository } from './credit-leases.repository';
import type { Dialect } from './database';
import { createProviderKeyRepository } from './provider-keys.repository';
import { createWebhookRepository } from './webhooks.repository';
import { createAlertRepository } from './alerts.repository';
import { createUsageSink } from './usage-sink';
import { newestFirstPage } from './keyset';
import type { Database } from './schema';

/** The PostgreSQL channel on which instances tell each other what to drop from their key caches. */
export const CACHE_CHANNEL = 'keysmith_cache';

type Db = Kysely<Database> | Transaction<Database>;
type KeyRow = Selectable<Database['api_keys']>;

/**
 * What open credit leases of the key's current credits generation still hold, as their holders
 * last reported: reads show it as part of `remaining`, though the database has lent it out.
 */
const keyLeased = sql<number>`(select coalesce(sum(l.granted - l.spent), 0) from credit_leases l where l.subject_kind = 'key' and l.subject_id = api_keys.id and l.generation = api_keys.credits_generation)`;
const teamLeased = sql<number>`(select coalesce(sum(l.granted - l.spent), 0) from credit_leases l where l.subject_kind = 'team' and l.subject_id = teams.id and l.generation = teams.credits_generation)`;

function toKey(row: KeyRow & { credits_leased?: number }): ApiKey {
  return {
    id: row.id,
    teamId: row.team_id,
    name: row.name,
    description: row.description,
    prefix: row.prefix,
    environment: row.environment as KeyEnvironment,
    enabled: row.enabled === 1,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: row.created_at,
    createdBy: row.created_by_id ? { id: row.created_by_id, name: row.created_by_name ?? '' } : null,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    usageCount: row.usage_count,
    credits:
      row.credits_limit === null || row.credits_remaining === null
        ? null
        : {
            limit: row.credits_limit,
            remaining: row.credits_remaining + Number(row.credits_leased ?? 0),
            refill:
              row.refill_amount === null || row.refill_interval === null
                ? null
                : { amount: row.refill_amount, interval: row.refill_interval as RefillInterval },
            refilledAt: row.refilled_at,
          },
    rateLimit:
      row.rate_limit === null || row.rate_window_seconds === null
        ? null
        : { limit: row.rate_limit, windowSeconds: row.rate_window_seconds },
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    updatedAt: row.updated_at,
  };
}

/** Column values for the parts of a key that changed. */
function keyColumns(changes: Partial<ApiKey>): Partial<Database['api_keys']> {
  const out: Partial<Database['api_keys']> = {};
  if (changes.name !== undefined) out.name = changes.name;
  if (changes.description !== undefined) out.description = changes.description;
  if (changes.prefix !== undefined) out.prefix = changes.prefix;
  if (changes.enabled !== undefined) out.enabled = changes.enabled ? 1 : 0;
  if (changes.scopes !== undefined) out.scopes = JSON.stringify(changes.scopes);
  if (changes.expiresAt !== undefined) out.expires_at = changes.expiresAt;
  if (changes.lastUsedAt !== undefined) out.last_used_at = changes.lastUsedAt;
  if (changes.revokedAt !== undefined) out.revoked_at = changes.revokedAt;
  if (changes.metadata !== undefined) out.metadata = JSON.stringify(changes.metadata);
  if (changes.updatedAt !== undefined) out.updated_at = changes.updatedAt;
  if (changes.credits !== undefined) {
    const c = changes.credits;
    out.credits_limit = c?.limit ?? null;
    out.credits_remaining = c?.remaining ?? null;
    out.refill_amount = c?.refill?.amount ?? null;
    out.refill_interval = c?.refill?.interval ?? null;
    out.refilled_at = c?.refilledAt ?? null;
  }
  if (changes.rateLimit !== undefined) {
    out.rate_limit = changes.rateLimit?.limit ?? null;
    out.rate_window_seconds = changes.rateLimit?.windowSeconds ?? null;
  }
  return out;
}

/** Escapes LIKE wildcards so a search for "50%" finds the text "50%". */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

const SORT_COLUMN: Record<KeySort, 'created_at' | 'name' | 'last_used_at'> = {
  createdAt: 'created_at',
  '-createdAt': 'created_at',
  name: 'name',
  '-name': 'name',
  lastUsedAt: 'last_used_at',
  '-lastUsedAt': 'last_used_at',
};

function keyFilter(eb: ExpressionBuilder<Database, 'api_keys'>, query: Omit<ListKeysQuery, 'page' | 'sort'>): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [eb('team_id', '=', query.teamId)];
  if (query.q) {
    const p = likePattern(query.q);
    conditions.push(
      eb.or([
        sql<SqlBool>`lower(name) like ${p} escape '\\'`,
        sql<SqlBool>`lower(coalesce(description, '')) like ${p} escape '\\'`,
        sql<SqlBool>`lower(prefix) like ${p} escape '\\'`,
      ]),
    );
  }
  const now = query.now;
  switch (query.status) {
    case 'revoked':
      conditions.push(eb('revoked_at', 'is not', null));
      break;
    case 'inactive':
      conditions.push(eb('revoked_at', 'is', null), eb('enabled', '=', 0));
      break;
    case 'expired':
      conditions.push(eb('revoked_at', 'is', null), eb('enabled', '=', 1), eb('expires_at', 'is not', null), eb('expires_at', '<=', now));
      break;
    case 'active':
      conditions.push(eb('revoked_at', 'is', null), eb('enabled', '=', 1), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
      break;
    case null:
      break;
  }
  return eb.and(conditions);
}

function createRepositories(db: Db, dialect: Dialect, channel: string): Repositories {
  const forUpdate = dialect === 'postgres';
  return {
    cacheEvents: {
      async publish(event) {
        // Delivered to every listening instance when (and only if) the transaction commits.
        if (dialect === 'postgres') await sql`select pg_notify(${channel}, ${JSON.stringify(event)})`.execute(db);
      },
    },
    providerKeys: createProviderKeyRepository(db),
    webhooks: createWebhookRepository(db, dialect),
    alerts: createAlertRepository(db, dialect),
    users: {
      async insert(user) {
        const result = await db
          .insertInto('users')
          .values({ id: user.id, email: user.email, name: user.name, password_hash: user.passwordHash, created_at: user.createdAt })
          .onConflict((oc) => oc.column('email').doNothing())
          .executeTakeFirst();
        return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      },
      async findByEmail(email) {
        const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
        return row && { id: row.id, email: row.email, name: row.name, createdAt: row.created_at, passwordHash: row.password_hash };
      },
      async findById(id) {
        const row = await db.selectFrom('users').select(['id', 'email', 'name', 'created_at']).where('id', '=', id).executeTakeFirst();
        return row && { id: row.id, email: row.email, name: row.name, createdAt: row.created_at };
      },
    },

    sessions: {
      async insert(s) {
        await db
          .insertInto('sessions')
          .values({ id: s.id, token_hash: s.tokenHash, user_id: s.userId, created_at: s.createdAt, last_seen_at: s.lastSeenAt, expires_at: s.expiresAt })
          .execute();
      },
      async findByTokenHash(tokenHash) {
        const row = await db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
        return row && { id: row.id, userId: row.user_id, createdAt: row.created_at, lastSeenAt: row.last_seen_at, expiresAt: row.expires_at };
      },
      async touch(id, lastSeenAt) {
        await db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', id).execute();
      },
      async delete(id) {
        await db.deleteFrom('sessions').where('id', '=', id).execute();
      },
    },

    throttle: {
      async hit(email, now, windowMs) {
        const cutoff = now - windowMs;
        const row = await db
          .insertInto('login_throttle')
          .values({ email, window_start: now, count: 1 })
          .onConflict((oc) =>
            oc.column('email').doUpdateSet({
              count: sql<number>`case when login_throttle.window_start <= ${cutoff} then 1 else login_throttle.count + 1 end`,
              window_start: sql<number>`case when login_throttle.window_start <= ${cutoff} then ${now} else login_throttle.window_start end`,
            }),
          )
          .returning(['count', 'window_start'])
          .executeTakeFirstOrThrow();
        return { count: row.count, windowStart: row.window_start };
      },
      async release(email) {
        await db.updateTable('login_throttle').set({ count: sql<number>`count - 1` }).where('email', '=', email).where('count', '>', 0).execute();
      },
    },

    teams: {
      async insert(team) {
        await db
          .insertInto('teams')
          .values({ id: team.id, name: team.name, credits_balance: team.creditsBalance, credits_generation: 0, personal_of: team.personalOf, created_at: team.createdAt })
          .execute();
      },
      async findById(id) {
        const row = await db.selectFrom('teams').selectAll().select(teamLeased.as('credits_leased')).where('id', '=', id).executeTakeFirst();
        return (
          row && {
            id: row.id,
            name: row.name,
            creditsBalance: row.credits_balance === null ? null : row.credits_balance + Number(row.credits_leased),
            personalOf: row.personal_of,
            createdAt: row.created_at,
          }
        );
      },
      async update(id, changes) {
        const set: Partial<Database['teams']> = {};
        if (changes.name !== undefined) set.name = changes.name;
        if (changes.creditsBalance !== undefined) set.credits_balance = changes.creditsBalance;
        // The balance as set is the team's credit limit, which the low-credits alert compares with.
        if (changes.creditsBalance !== undefined) set.credits_limit = changes.creditsBalance;
        if (Object.keys(set).length === 0) return;
        // A new balance is a new generation: a lease of the old one can never give its rest back into it.
        const generation = changes.creditsBalance !== undefined ? { credits_generation: sql<number>`credits_generation + 1` } : {};
        await db.updateTable('teams').set({ ...set, ...generation }).where('id', '=', id).execute();
      },
      async listForUser(userId) {
        const rows = await db
          .selectFrom('members')
          .innerJoin('teams', 'teams.id', 'members.team_id')
          .select(['teams.id', 'teams.name', 'members.role', 'teams.created_at'])
          .where('members.user_id', '=', userId)
          .orderBy('teams.created_at')
          .orderBy('teams.id')
          .execute();
        return rows.map((r) => ({ id: r.id, name: r.name, role: r.role as Role }));
      },
      async personalTeamOf(userId) {
        const row = await db.selectFrom('teams').select('id').where('personal_of', '=', userId).executeTakeFirst();
        return row?.id;
      },
    },

    members: {
      async insert(m) {
        await db.insertInto('members').values({ team_id: m.teamId, user_id: m.userId, role: m.role, joined_at: m.joinedAt }).execute();
      },
      async find(teamId, userId) {
        const row = await db.selectFrom('members').selectAll().where('team_id', '=', teamId).where('user_id', '=', userId).executeTakeFirst();
        return row && { teamId: row.team_id, userId: row.user_id, role: row.role as Role, joinedAt: row.joined_at };
      },
      async list(teamId) {
        const rows = await db
          .selectFrom('members')
          .innerJoin('users', 'users.id', 'members.user_id')
          .select(['members.team_id', 'members.user_id', 'members.role', 'members.joined_at', 'users.email', 'users.name'])
          .where('members.team_id', '=', teamId)
          .orderBy('members.joined_at')
          .orderBy('members.user_id')
          .execute();
        return rows.map((r) => ({ teamId: r.team_id, userId: r.user_id, role: r.role as Role, joinedAt: r.joined_at, email: r.email, name: r.name }));
      },
      async setRole(teamId, userId, role) {
        await db.updateTable('members').set({ role }).where('team_id', '=', teamId).where('user_id', '=', userId).execute();
      },
      async delete(teamId, userId) {
        await db.deleteFrom('members').where('team_id', '=', teamId).where('user_id', '=', userId).execute();
      },
      async countOwners(teamId) {
        const row = await db
          .selectFrom('members')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('team_id', '=', teamId)
          .where('role', '=', 'owner')
          .executeTakeFirstOrThrow();
        return Number(row.n);
      },
      async lockTeam(teamId) {
        // Serialises role changes and removals in one team, so two cannot each remove "another" owner.
        if (forUpdate) await db.selectFrom('teams').select('id').where('id', '=', teamId).forUpdate().execute();
      },
    },

    invitations: {
      async insert(inv) {
        await db
          .insertInto('invitations')
          .values({
            id: inv.id,
            team_id: inv.teamId,
            email: inv.email,
            role: inv.role,
            token_hash: inv.tokenHash,
            expires_at: inv.expiresAt,
            created_by: inv.createdBy,
            created_at: inv.createdAt,
            accepted_at: null,
          })
          .execute();
      },
      async findByTokenHash(tokenHash) {
        const row = await db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
        return (
          row && {
            id: row.id,
            teamId: row.team_id,
            email: row.email,
            role: row.role as Role,
            expiresAt: row.expires_at,
            createdBy: row.created_by,
            createdAt: row.created_at,
            acceptedAt: row.accepted_at,
          }
        );
      },
      async markAccepted(id, at) {
        const result = await db.updateTable('invitations').set({ accepted_at: at }).where('id', '=', id).where('accepted_at', 'is', null).executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      },
    },

    keys: {
      async insert(key, hash) {
        await db
          .insertInto('api_keys')
          .values({
            id: key.id,
            team_id: key.teamId,
            hash,
            created_at: key.createdAt,
            created_by_id: key.createdBy?.id ?? null,
            created_by_name: key.createdBy?.name ?? null,
            usage_count: key.usageCount,
            name: key.name,
            description: key.description,
            prefix: key.prefix,
            environment: key.environment,
            enabled: key.enabled ? 1 : 0,
            scopes: JSON.stringify(key.scopes),
            expires_at: key.expiresAt,
            last_used_at: key.lastUsedAt,
            revoked_at: key.revokedAt,
            metadata: JSON.stringify(key.metadata),
            updated_at: key.updatedAt,
            credits_limit: null,
            credits_remaining: null,
            refill_amount: null,
            refill_interval: null,
            refilled_at: null,
            rate_limit: null,
            rate_window_seconds: null,
            credits_generation: 0,
            ...keyColumns({ credits: key.credits, rateLimit: key.rateLimit }),
          })
          .execute();
      },
      async find(teamId, id) {
        const row = await db.selectFrom('api_keys').selectAll().select(keyLeased.as('credits_leased')).where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
        return row && toKey(row);
      },
      async findForUpdate(teamId, id) {
        const row = await db
          .selectFrom('api_keys')
          .selectAll()
          .select(keyLeased.as('credits_leased'))
          .where('team_id', '=', teamId)
          .where('id', '=', id)
          .$if(forUpdate, (qb) => qb.forUpdate())
          .executeTakeFirst();
        return row && toKey(row);
      },
      async list(query) {
        const column = SORT_COLUMN[query.sort];
        const descending = query.sort.startsWith('-') !== (query.page.cursor?.direction === 'before');
        const order = descending ? 'desc' : 'asc';
        const sortExpr = column === 'last_used_at' ? sql<number>`coalesce(last_used_at, 0)` : sql.ref<string | number>(column);
        const cursor = query.page.cursor;
        const rows = await db
          .selectFrom('api_keys')
          .selectAll()
          .select(keyLeased.as('credits_leased'))
          .where((eb) => keyFilter(eb, query))
          .$if(cursor !== null, (qb) =>
            qb.where((eb) => {
              const c = cursor as NonNullable<typeof cursor>;
              const op = descending ? '<' : '>';
              return eb.or([eb(sortExpr, op, c.value), eb.and([eb(sortExpr, '=', c.value), eb('id', op, c.id)])]);
            }),
          )
          .orderBy(sortExpr, order)
          .orderBy('id', order)
          .limit(query.page.limit + 1)
          .execute();
        return rows.map(toKey);
      },
      async count(query) {
        const row = await db
          .selectFrom('api_keys')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where((eb) => keyFilter(eb, query))
          .executeTakeFirstOrThrow();
        return Number(row.n);
      },
      async update(id, changes) {
        const set = keyColumns(changes);
        if (Object.keys(set).length === 0) return;
        // New credits are a new generation: a lease of the old ones can never give its rest back into them.
        const generation = changes.credits !== undefined ? { credits_generation: sql<number>`credits_generation + 1` } : {};
        await db.updateTable('api_keys').set({ ...set, ...generation }).where('id', '=', id).execute();
      },
      async replaceSecret(id, oldHash, newHash, prefix, oldValidUntil, now) {
        await db.insertInto('api_key_old_secrets').values({ hash: oldHash, key_id: id, valid_until: oldValidUntil }).execute();
        await db.updateTable('api_keys').set({ hash: newHash, prefix, updated_at: now }).where('id', '=', id).execute();
      },
      async currentHash(id) {
        const row = await db.selectFrom('api_keys').select('hash').where('id', '=', id).executeTakeFirst();
        return row?.hash;
      },
      async expireOldSecrets(id, now) {
        await db.updateTable('api_key_old_secrets').set({ valid_until: now }).where('key_id', '=', id).where('valid_until', '>', now).execute();
      },
      async delete(id) {
        await db.deleteFrom('api_keys').where('id', '=', id).execute();
      },
      async findByHash(hash): Promise<KeyForVerification | undefined> {
        const teamHasBalance = async (teamId: string) =>
          (await db.selectFrom('teams').select('credits_balance').where('id', '=', teamId).executeTakeFirst())?.credits_balance != null;
        const row = await db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
        if (row) return { ...toKey(row), oldSecret: null, teamHasBalance: await teamHasBalance(row.team_id) };
        const old = await db
          .selectFrom('api_key_old_secrets as o')
          .innerJoin('api_keys as k', 'k.id', 'o.key_id')
          .selectAll('k')
          .select('o.valid_until')
          .where('o.hash', '=', hash)
          .executeTakeFirst();
        if (!old) return undefined;
        const { valid_until, ...keyRow } = old;
        return { ...toKey(keyRow), oldSecret: { validUntil: valid_until }, teamHasBalance: await teamHasBalance(keyRow.team_id) };
      },
      async countHashes() {
        const [keys, old] = await Promise.all([
          db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
          db.selectFrom('api_key_old_secrets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
        ]);
        return Number(keys.n) + Number(old.n);
      },
      async scanHashes(add) {
        let total = 0;
        for (const table of ['api_keys', 'api_key_old_secrets'] as const) {
          let after = '';
          for (;;) {
            // Keyset pages over the unique index: no offset scans, no long transaction.
            const rows = await db.selectFrom(table).select('hash').where('hash', '>', after).orderBy('hash').limit(10_000).execute();
            for (const row of rows) add(row.hash);
            total += rows.length;
            const last = rows[rows.length - 1];
            if (!last || rows.length < 10_000) break;
            after = last.hash;
          }
        }
        return total;
      },
      async refillCredits(id, periodStart) {
        await db
          .updateTable('api_keys')
          .set({ credits_remaining: sql<number>`refill_amount`, refilled_at: periodStart, credits_generation: sql<number>`credits_generation + 1` })
          .where('id', '=', id)
          .where('refill_amount', 'is not', null)
          .where((eb) => eb.or([eb('refilled_at', 'is', null), eb('refilled_at', '<', periodStart)]))
          .execute();
      },
      async consumeCredits(id, cost) {
        const row = await db
          .updateTable('api_keys')
          .set({ credits_remaining: sql<number>`credits_remaining - ${cost}` })
          .where('id', '=', id)
          .where('credits_remaining', '>=', cost)
          .returning('credits_remaining')
          .executeTakeFirst();
        return row?.credits_remaining ?? null;
      },
    },

    teamCredits: {
      async consume(teamId, cost) {
        const row = await db
          .updateTable('teams')
          .set({ credits_balance: sql<number>`credits_balance - ${cost}` })
          .where('id', '=', teamId)
          .where('credits_balance', '>=', cost)
          .returning('credits_balance')
          .executeTakeFirst();
        if (row && row.credits_balance !== null) return row.credits_balance;
        const team = await db.selectFrom('teams').select('credits_balance').where('id', '=', teamId).executeTakeFirst();
        return team && team.credits_balance === null ? 'unlimited' : null;
      },
    },

    usage: {
      async series(teamId, keyId, from, to) {
        const rows = await db
          .selectFrom('usage_hourly')
          .select((eb) => [
            'hour',
            eb.fn.sum<number>('valid').as('valid'),
            eb.fn.sum<number>('rejected').as('rejected'),
            eb.fn.sum<number>('credits_used').as('credits_used'),
          ])
          .where('team_id', '=', teamId)
          .$if(keyId !== null, (qb) => qb.where('key_id', '=', keyId as string))
          .where('hour', '>=', from)
          .where('hour', '<', to)
          .groupBy('hour')
          .orderBy('hour')
          .execute();
        return rows.map((r) => ({ t: Number(r.hour), valid: Number(r.valid), rejected: Number(r.rejected), creditsUsed: Number(r.credits_used) }));
      },
      async byKey(teamId, from, to) {
        const rows = await db
          .selectFrom('usage_hourly')
          .select((eb) => [
            'key_id',
            eb.fn.sum<number>('valid').as('valid'),
            eb.fn.sum<number>('rejected').as('rejected'),
            eb.fn.sum<number>('credits_used').as('credits_used'),
          ])
          .where('team_id', '=', teamId)
          .where('hour', '>=', from)
          .where('hour', '<', to)
          .groupBy('key_id')
          .orderBy('key_id')
          .execute();
        return rows.map((r) => ({ keyId: r.key_id, valid: Number(r.valid), rejected: Number(r.rejected), creditsUsed: Number(r.credits_used) }));
      },
    },

    audit: {
      async insert(e) {
        await db
          .insertInto('audit_logs')
          .values({
            id: e.id,
            team_id: e.teamId,
            action: e.action,
            actor_type: e.actor.type,
            actor_id: e.actor.id,
            actor_label: e.actor.label,
            target_type: e.target.type,
            target_id: e.target.id,
            target_label: e.target.label,
            ip: e.ip,
            user_agent: e.userAgent,
            created_at: e.createdAt,
            details: JSON.stringify(e.details),
          })
          .execute();
      },
      async list(query) {
        const rows = await newestFirstPage(
          db
            .selectFrom('audit_logs')
            .selectAll()
            .where('team_id', '=', query.teamId)
            .$if(query.action !== null, (qb) => qb.where('action', '=', query.action as string))
            .$if(query.targetId !== null, (qb) => qb.where('target_id', '=', query.targetId as string)),
          query.page,
        ).execute();
        return rows.map(
          (r): AuditEntry => ({
            id: r.id,
            teamId: r.team_id,
            action: r.action as AuditAction,
            actor: { type: r.actor_type as 'user' | 'service', id: r.actor_id, label: r.actor_label },
            target: { type: r.target_type, id: r.target_id, label: r.target_label },
            ip: r.ip,
            userAgent: r.user_agent,
            createdAt: r.created_at,
            details: JSON.parse(r.details) as Record<string, unknown>,
          }),
        );
      },
      async count(query) {
        const row = await db
          .selectFrom('audit_logs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('team_id', '=', query.teamId)
          .$if(query.action !== null, (qb) => qb.where('action', '=', query.action as string))
          .$if(query.targetId !== null, (qb) => qb.where('target_id', '=', query.targetId as string))
          .executeTakeFirstOrThrow();
        return Number(row.n);
      },
    },

    serviceTokens: {
      async insert(t) {
        await db
          .insertInto('service_tokens')
          .values({ id: t.id, name: t.name, token_hash: t.tokenHash, created_at: t.createdAt, revoked_at: null, last_used_at: null })
          .execute();
      },
      async findActiveByHash(tokenHash) {
        const row = await db.selectFrom('service_tokens').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
        return row && { id: row.id, name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at, lastUsedAt: row.last_used_at };
      },
      async list() {
        const rows = await db.selectFrom('service_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
        return rows.map((row) => ({ id: row.id, name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at, lastUsedAt: row.last_used_at }));
      },
      async revoke(id, at) {
        const result = await db.updateTable('service_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      },
    },
  };
}

/** Thrown inside the spend transaction to roll back the key's spend when the team cannot pay. */
class InsufficientTeamCredits extends Error {}

/**
 * The credit spend as one synchronous SQLite transaction of prepared statements: nothing else can
 * run between them in this process, and it costs microseconds instead of several awaited queries.
 */
function createSqliteSpend(sqlite: BetterSqlite3.Database) {
  const refill = sqlite.prepare(
    'update api_keys set credits_remaining = refill_amount, refilled_at = ?, credits_generation = credits_generation + 1 where id = ? and refill_amount is not null and (refilled_at is null or refilled_at < ?)',
  );
  const spendKey = sqlite.prepare('update api_keys set credits_remaining = credits_remaining - ? where id = ? and credits_remaining >= ? returning credits_remaining');
  const spendTeam = sqlite.prepare('update teams set credits_balance = credits_balance - ? where id = ? and credits_balance >= ? returning credits_balance');
  const teamBalance = sqlite.prepare('select credits_balance from teams where id = ?');
  return sqlite.transaction((request: SpendRequest): SpendResult | null => {
    let remaining: number | null = null;
    let teamRemaining: number | null = null;
    if (request.keyCredits) {
      const period = request.keyCredits.refillPeriodStart;
      if (period !== null) refill.run(period, request.keyId, period);
      const row = spendKey.get(request.cost, request.keyId, request.cost) as { credits_remaining: number } | undefined;
      if (!row) return null;
      remaining = row.credits_remaining;
    }
    if (request.teamBalance) {
      const spent = spendTeam.get(request.cost, request.teamId, request.cost) as { credits_balance: number } | undefined;
      if (spent) teamRemaining = spent.credits_balance;
      else {
        const team = teamBalance.get(request.teamId) as { credits_balance: number | null } | undefined;
        if (team && team.credits_balance !== null) throw new InsufficientTeamCredits();
      }
    }
    return { remaining, teamRemaining };
  });
}

export interface StoreOptions {
  /** The PostgreSQL channel for cache events; CACHE_CHANNEL by default. */
  cacheChannel?: string;
  /** The raw SQLite connection, for the synchronous spend path. */
  sqlite?: BetterSqlite3.Database | null;
  /**
   * `store.ping()`: pass `DatabaseHandle.ping`, which does not wait behind a busy pool. Without it
   * the ping is a `select 1` through the pool, which load can make fail.
   */
  ping?: () => Promise<boolean>;
}

/** The Store over Kysely, for SQLite and PostgreSQL from one implementation. */
export function createStore(db: Kysely<Database>, dialect: Dialect, options: StoreOptions = {}): Store {
  const channel = options.cacheChannel ?? CACHE_CHANNEL;
  const usageSink = createUsageSink(db);
  const sqlite = options.sqlite ?? null;
  const sqliteSpend = sqlite ? createSqliteSpend(sqlite) : null;
  const repositories = createRepositories(db, dialect, channel);
  const transaction: Store['transaction'] = (fn) => db.transaction().execute((trx) => fn(createRepositories(trx, dialect, channel)));

  async function spendCredits(request: SpendRequest): Promise<SpendResult | null> {
    try {
      // While Kysely holds a transaction open on the one SQLite connection, our statements would
      // join it; then take the ordinary (queued) path instead.
      if (sqlite && sqliteSpend && !sqlite.inTransaction) return sqliteSpend(request);
      return await transaction(async (tx) => {
        let remaining: number | null = null;
        let teamRemaining: number | null = null;
        if (request.keyCredits) {
          if (request.keyCredits.refillPeriodStart !== null) await tx.keys.refillCredits(request.keyId, request.keyCredits.refillPeriodStart);
          remaining = await tx.keys.consumeCredits(request.keyId, request.cost);
          if (remaining === null) return null;
        }
        if (request.teamBalance) {
          const team = await tx.teamCredits.consume(request.teamId, request.cost);
          if (team === null) throw new InsufficientTeamCredits();
          if (team !== 'unlimited') teamRemaining = team;
        }
        return { remaining, teamRemaining };
      });
    } catch (error) {
      if (error instanceof InsufficientTeamCredits) return null;
      throw error;
    }
  }

  return {
    ...repositories,
    transaction,
    spendCredits,
    creditLeases: createCreditLeaseRepository(db, dialect),
    writeUsage: (batch) => usageSink.write(batch),
    async ping() {
      if (options.ping) return options.ping();
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
  };
}
