import type { Kysely, Selectable, Transaction } from 'kysely';
import type {
  AttemptRecord,
  ClaimedDelivery,
  DeliveryRecord,
  DeliveryStatus,
  PageRequest,
  WebhookEventType,
  WebhookRecord,
  WebhookRepository,
} from '@keysmith/core';
import type { Dialect } from './database';
import { newestFirstPage } from './keyset';
import type { Database } from './schema';

type Db = Kysely<Database> | Transaction<Database>;
type WebhookRow = Selectable<Database['webhooks']>;
type DeliveryRow = Selectable<Database['webhook_deliveries']>;

function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    id: row.id,
    teamId: row.team_id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    enabled: Number(row.enabled) === 1,
    sealedSecret: { ciphertext: row.secret_ciphertext, dataKey: row.secret_data_key, masterKeyId: row.master_key_id, version: row.format_version },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by_id ? { id: row.created_by_id, name: row.created_by_name ?? '' } : null,
  };
}

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    teamId: row.team_id,
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}

function toAttempt(row: Selectable<Database['webhook_attempts']>): AttemptRecord {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    number: Number(row.number),
    at: row.at,
    statusCode: row.status_code,
    durationMs: Number(row.duration_ms),
    error: row.error,
  };
}

/** Keyset paging, newest first, over `created_at, id` (see buildPage in core). */
/**
 * Webhooks, their deliveries and the attempts of each, for SQLite and PostgreSQL. Signing secrets
 * are only ever written sealed. Claims are single statements, so two senders never hold one delivery.
 */
export function createWebhookRepository(db: Db, dialect: Dialect): WebhookRepository {
  // Row locks (FOR UPDATE SKIP LOCKED, FOR KEY SHARE): PostgreSQL only; SQLite's writer lock serialises all.
  const rowLocks = dialect === 'postgres';

  async function withWebhooks(rows: DeliveryRow[], token: string): Promise<ClaimedDelivery[]> {
    if (rows.length === 0) return [];
    const hooks = await db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', 'in', [...new Set(rows.map((r) => r.webhook_id))])
      .execute();
    const byId = new Map(hooks.map((h) => [h.id, toWebhook(h)]));
    const claimed: ClaimedDelivery[] = [];
    for (const row of rows) {
      const hook = byId.get(row.webhook_id);
      // Deleted meanwhile: its deliveries went with it.
      if (!hook) continue;
      claimed.push({ ...toDelivery(row), lockToken: token, webhook: { url: hook.url, enabled: hook.enabled, sealedSecret: hook.sealedSecret } });
    }
    return claimed;
  }

  return {
    async insert(r) {
      await db
        .insertInto('webhooks')
        .values({
          id: r.id,
          team_id: r.teamId,
          url: r.url,
          events: JSON.stringify(r.events),
          enabled: r.enabled ? 1 : 0,
          secret_ciphertext: r.sealedSecret.ciphertext,
          secret_data_key: r.sealedSecret.dataKey,
          master_key_id: r.sealedSecret.masterKeyId,
          format_version: r.sealedSecret.version,
          created_at: r.createdAt,
          updated_at: r.updatedAt,
          created_by_id: r.createdBy?.id ?? null,
          created_by_name: r.createdBy?.name ?? null,
        })
        .execute();
    },

    async find(teamId, id) {
      const row = await db.selectFrom('webhooks').selectAll().where('team_id', '=', teamId).where('id', '=', id).executeTakeFirst();
      return row && toWebhook(row);
    },

    async list({ teamId, page }) {
      const rows = await newestFirstPage(db.selectFrom('webhooks').selectAll().where('team_id', '=', teamId), page).execute();
      return rows.map(toWebhook);
    },

    async count(teamId) {
      const row = await db.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('team_id', '=', teamId).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async update(id, changes) {
      const set: Partial<Database['webhooks']> = {};
      if (changes.url !== undefined) set.url = changes.url;
      if (changes.events !== undefined) set.events = JSON.stringify(changes.events);
      if (changes.enabled !== undefined) set.enabled = changes.enabled ? 1 : 0;
      if (changes.updatedAt !== undefined) set.updated_at = changes.updatedAt;
      if (Object.keys(set).length === 0) return;
      await db.updateTable('webhooks').set(set).where('id', '=', id).execute();
    },

    async delete(id) {
      // Deliveries and their attempts go with it (foreign keys cascade).
      await db.deleteFrom('webhooks').where('id', '=', id).execute();
    },

    async subscribedTo(teamId, type) {
      // FOR KEY SHARE on PostgreSQL: in a change's transaction, a webhook being deleted meanwhile
      // is waited for and then skipped, rather than failing the change on the deliveries' foreign key.
      const rows = await db
        .selectFrom('webhooks')
        .selectAll()
        .where('team_id', '=', teamId)
        .where('enabled', '=', 1)
        .orderBy('created_at')
        .orderBy('id')
        .$if(rowLocks, (qb) => qb.forKeyShare())
        .execute();
      return rows.map(toWebhook).filter((w) => w.events.includes(type));
    },

    async insertDeliveries(deliveries, lock) {
      if (deliveries.length === 0) return;
      await db
        .insertInto('webhook_deliveries')
        .values(
          deliveries.map((d) => ({
            id: d.id,
            webhook_id: d.webhookId,
            team_id: d.teamId,
            event_id: d.eventId,
            event_type: d.eventType,
            payload: d.payload,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.nextAttemptAt,
            lock_token: lock?.token ?? null,
            locked_until: lock?.lockedUntil ?? null,
            created_at: d.createdAt,
            delivered_at: d.deliveredAt,
          })),
        )
        .execute();
    },

    async claimDue(now, lockedUntil, token, limit) {
      // One statement selects and locks: SQLite runs one writer at a time; PostgreSQL skips rows
      // another claim holds, and re-checks the lock on the row it updates (READ COMMITTED).
      const due = db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit)
        .$if(rowLocks, (qb) => qb.forUpdate().skipLocked());
      const rows = await db
        .updateTable('webhook_deliveries')
        .set({ lock_token: token, locked_until: lockedUntil })
        .where('id', 'in', due)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .returningAll()
        .execute();
      rows.sort((a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at) || (a.id < b.id ? -1 : 1));
      return withWebhooks(rows, token);
    },

    async claimForRetry(webhookId, deliveryId, now, lockedUntil, token) {
      // One statement checks and locks, so two retries (or a retry and the worker) never both
      // hold it: the loser's WHERE no longer matches once the winner's lock is written.
      const row = await db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: now, lock_token: token, locked_until: lockedUntil })
        .where('id', '=', deliveryId)
        .where('webhook_id', '=', webhookId)
        .where('status', 'in', ['pending', 'failed'])
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      return (await withWebhooks([row], token))[0];
    },

    async finishAttempt(deliveryId, token, attempt, outcome) {
      const result = await db
        .updateTable('webhook_deliveries')
        .set({
          status: outcome.status,
          ...(attempt ? { attempts: attempt.number } : {}),
          next_attempt_at: outcome.status === 'pending' ? outcome.nextAttemptAt : null,
          delivered_at: outcome.status === 'delivered' ? outcome.deliveredAt : null,
          lock_token: null,
          locked_until: null,
        })
        .where('id', '=', deliveryId)
        .where('lock_token', '=', token)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      if (attempt) {
        await db
          .insertInto('webhook_attempts')
          .values({
            id: attempt.id,
            delivery_id: attempt.deliveryId,
            number: attempt.number,
            at: attempt.at,
            status_code: attempt.statusCode,
            duration_ms: attempt.durationMs,
            error: attempt.error,
          })
          .execute();
      }
      return true;
    },

    async listDeliveries({ webhookId, page }) {
      const rows = await newestFirstPage(db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId), page).execute();
      return rows.map(toDelivery);
    },

    async countDeliveries(webhookId) {
      const row = await db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('webhook_id', '=', webhookId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async findDelivery(id) {
      const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDelivery(row);
    },

    async attemptsOf(deliveryIds) {
      if (deliveryIds.length === 0) return [];
      const rows = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('delivery_id', 'in', deliveryIds)
        .orderBy('delivery_id')
        .orderBy('number')
        .execute();
      return rows.map(toAttempt);
    },

    async sealedUnder(notMasterKeyId, limit) {
      const rows = await db.selectFrom('webhooks').selectAll().where('master_key_id', '<>', notMasterKeyId).orderBy('id').limit(limit).execute();
      return rows.map(toWebhook);
    },

    async rewrap(id, expectedMasterKeyId, sealed) {
      const result = await db
        .updateTable('webhooks')
        .set({ secret_data_key: sealed.dataKey, master_key_id: sealed.masterKeyId })
        .where('id', '=', id)
        .where('master_key_id', '=', expectedMasterKeyId)
        .where('secret_ciphertext', '=', sealed.ciphertext)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
