import { requirePermission, type TeamAccess } from './access';
import { createAuditWriter } from './audit';
import type { Clock } from './clock';
import { KeysmithError, conflict, notFound, validationError } from './errors';
import type { Millis, Page } from './model';
import { buildPage, decodeCursor } from './pagination';
import type { Repositories, Store } from './ports';
import { createId, type Random } from './random';
import { VaultError, type Vault } from './vault/envelope';
import { openWebhookSecret, type WebhookDelivery } from './webhooks/delivery';
import {
  WEBHOOK_TEST_EVENT,
  isWebhookEventType,
  type AttemptRecord,
  type DeliveryRecord,
  type DeliveryStatus,
  type DeliveredEventType,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookRecord,
} from './webhooks/model';
import { generateWebhookSecret } from './webhooks/signature';
import { checkWebhookUrl } from './webhooks/url-policy';

/** At most this many webhooks per team: each event is sent once per subscribed webhook. */
export const MAX_WEBHOOKS_PER_TEAM = 20;

/** A webhook as the API shows it: never its signing secret. */
export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  createdBy: { id: string; name: string } | null;
}

export interface AttemptView {
  at: string;
  /** The receiver's HTTP status, or null when it did not answer. */
  status: number | null;
  durationMs: number;
  error: string | null;
}

export interface DeliveryView {
  id: string;
  webhookId: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
  attempts: AttemptView[];
}

const iso = (ms: Millis) => new Date(ms).toISOString();

function toView(r: WebhookRecord): WebhookView {
  return { id: r.id, url: r.url, events: r.events, enabled: r.enabled, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt), createdBy: r.createdBy };
}

function toDeliveryView(d: DeliveryRecord, attempts: AttemptRecord[]): DeliveryView {
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    type: d.eventType,
    status: d.status,
    createdAt: iso(d.createdAt),
    deliveredAt: d.deliveredAt === null ? null : iso(d.deliveredAt),
    nextAttemptAt: d.nextAttemptAt === null ? null : iso(d.nextAttemptAt),
    attempts: attempts.map((a) => ({ at: iso(a.at), status: a.statusCode, durationMs: a.durationMs, error: a.error })),
  };
}

export interface WebhookServiceOptions {
  store: Store;
  clock: Clock;
  random: Random;
  /** Seals signing secrets; null fails creation (and sending) closed with CREDENTIAL_UNAVAILABLE. */
  vault: Vault | null;
  /** Sends test events at once (and is the worker that sends everything else). */
  delivery: WebhookDelivery;
}

/** Signed webhooks of a team: their settings, the events they get, and every delivery attempt. */
export function createWebhookService({ store, clock, random, vault, delivery }: WebhookServiceOptions) {
  const audit = createAuditWriter(clock, random);

  function checkUrl(url: string): string {
    const checked = checkWebhookUrl(url);
    if (!checked.ok) throw validationError('url', checked.message);
    return checked.url;
  }

  function checkEvents(events: string[]): WebhookEventType[] {
    if (events.length === 0) throw validationError('events', 'must name at least one event');
    events.forEach((event, i) => {
      if (!isWebhookEventType(event)) throw validationError(`events.${i}`, `unknown event "${event}"`);
    });
    return [...new Set(events as WebhookEventType[])];
  }

  async function load(access: TeamAccess, id: string): Promise<WebhookRecord> {
    const record = await store.webhooks.find(access.teamId, id);
    if (!record) throw notFound('Webhook');
    return record;
  }

  function newEvent(type: DeliveredEventType, data: Record<string, unknown>, now: Millis): WebhookEvent {
    return { id: createId(random, 'evt'), type, createdAt: iso(now), data };
  }

  function newDelivery(webhook: WebhookRecord, event: WebhookEvent, payload: string, now: Millis): DeliveryRecord {
    return {
      id: createId(random, 'whd'),
      webhookId: webhook.id,
      teamId: webhook.teamId,
      eventId: event.id,
      eventType: event.type,
      payload,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      deliveredAt: null,
    };
  }

  async function deliveryView(record: DeliveryRecord): Promise<DeliveryView> {
    return toDeliveryView(record, await store.webhooks.attemptsOf([record.id]));
  }

  return {
    async list(access: TeamAccess, query: { limit: number; cursor?: string }): Promise<Page<WebhookView>> {
      requirePermission(access, 'members.manage');
      const sort = '-createdAt';
      const page = { limit: query.limit, cursor: query.cursor ? decodeCursor(query.cursor, sort, 'integer') : null };
      const [rows, total] = await Promise.all([store.webhooks.list({ teamId: access.teamId, page }), store.webhooks.count(access.teamId)]);
      const result = buildPage(rows, page, sort, (r) => r.createdAt, total);
      return { ...result, data: result.data.map(toView) };
    },

    async get(access: TeamAccess, id: string): Promise<WebhookView> {
      requirePermission(access, 'members.manage');
      return toView(await load(access, id));
    },

    /** Creates a webhook; the signing secret is in this answer and in no other. */
    async create(access: TeamAccess, input: { url: string; events: string[]; enabled?: boolean }): Promise<{ webhook: WebhookView; secret: string }> {
      requirePermission(access, 'members.manage');
      const url = checkUrl(input.url);
      const events = checkEvents(input.events);
      if (!vault) throw new KeysmithError('CREDENTIAL_UNAVAILABLE', 'The credential vault is not available: no master key is configured');
      if ((await store.webhooks.count(access.teamId)) >= MAX_WEBHOOKS_PER_TEAM) {
        throw conflict(`A team can have at most ${MAX_WEBHOOKS_PER_TEAM} webhooks`);
      }
      const now = clock.now();
      const id = createId(random, 'whk');
      const secret = generateWebhookSecret(random);
      const creator = access.actor.type === 'user' ? await store.users.findById(access.actor.id) : undefined;
      const record: WebhookRecord = {
        id,
        teamId: access.teamId,
        url,
        events,
        enabled: input.enabled ?? true,
        sealedSecret: vault.seal(secret, { teamId: access.teamId, recordId: id }),
        createdAt: now,
        updatedAt: now,
        createdBy: creator ? { id: creator.id, name: creator.name } : { id: access.actor.id, name: access.actor.label },
      };
      await store.transaction(async (tx) => {
        await tx.webhooks.insert(record);
        await audit(tx, access, 'webhook.created', { type: 'webhook', id, label: url }, { events, enabled: record.enabled });
      });
      return { webhook: toView(record), secret };
    },

    async update(access: TeamAccess, id: string, input: { url?: string; events?: string[]; enabled?: boolean }): Promise<WebhookView> {
      requirePermission(access, 'members.manage');
      const record = await load(access, id);
      const changes: Partial<Pick<WebhookRecord, 'url' | 'events' | 'enabled' | 'updatedAt'>> = { updatedAt: clock.now() };
      if (input.url !== undefined) changes.url = checkUrl(input.url);
      if (input.events !== undefined) changes.events = checkEvents(input.events);
      if (input.enabled !== undefined) changes.enabled = input.enabled;
      const updated = { ...record, ...changes };
      await store.transaction(async (tx) => {
        await tx.webhooks.update(id, changes);
        const fields = Object.keys(input).filter((k) => input[k as keyof typeof input] !== undefined);
        await audit(tx, access, 'webhook.updated', { type: 'webhook', id, label: updated.url }, { fields });
      });
      return toView(updated);
    },

    /** Deletes it, with its pending deliveries and its delivery log. */
    async remove(access: TeamAccess, id: string): Promise<void> {
      requirePermission(access, 'members.manage');
      const record = await load(access, id);
      await store.transaction(async (tx) => {
        await tx.webhooks.delete(id);
        await audit(tx, access, 'webhook.deleted', { type: 'webhook', id, label: record.url });
      });
    },

    /**
     * Stores one delivery of a new event for every enabled webhook of the team subscribed to
     * `type` (one event id and createdAt for all); the worker sends them. Returns the event id,
     * or null when no webhook wants it. Given a transaction's repositories (`tx`), the deliveries
     * commit or roll back with the change that caused the event.
     */
    async emit(teamId: string, type: WebhookEventType, data: Record<string, unknown>, tx: Repositories = store): Promise<string | null> {
      if (!isWebhookEventType(type)) throw validationError('type', `unknown event "${String(type)}"`);
      const hooks = await tx.webhooks.subscribedTo(teamId, type);
      if (hooks.length === 0) return null;
      const now = clock.now();
      const event = newEvent(type, data, now);
      const payload = JSON.stringify(event);
      await tx.webhooks.insertDeliveries(hooks.map((hook) => newDelivery(hook, event, payload, now)));
      return event.id;
    },

    /** Sends a `webhook.test` event to this webhook alone, now; answers with its first attempt. */
    async sendTest(access: TeamAccess, id: string): Promise<DeliveryView> {
      requirePermission(access, 'members.manage');
      const webhook = await load(access, id);
      if (!webhook.enabled) throw conflict('This webhook is disabled; enable it to send a test event');
      // Fails closed (503) before anything is stored when the secret cannot be opened.
      const secret = openWebhookSecret(vault, webhook.sealedSecret, { teamId: webhook.teamId, webhookId: webhook.id });
      const now = clock.now();
      const event = newEvent(WEBHOOK_TEST_EVENT, { webhook: { id: webhook.id, url: webhook.url }, message: 'A test event from Keysmith.' }, now);
      const record = newDelivery(webhook, event, JSON.stringify(event), now);
      const lockToken = createId(random, 'lck');
      // Stored already claimed, so the worker leaves this first attempt to us.
      await store.webhooks.insertDeliveries([record], { token: lockToken, lockedUntil: now + delivery.leaseMs });
      await delivery.deliverClaimed({ ...record, lockToken, webhook: { url: webhook.url, enabled: webhook.enabled, sealedSecret: webhook.sealedSecret } }, secret);
      return deliveryView((await store.webhooks.findDelivery(record.id)) ?? record);
    },

    /**
     * Makes one more attempt of a pending or failed delivery of this webhook now, and answers with
     * the delivery and all its attempts. A failed attempt is scheduled by the usual backoff; once the
     * 24 h window since the event is over, the delivery is failed again.
     */
    async retry(access: TeamAccess, id: string, deliveryId: string): Promise<DeliveryView> {
      requirePermission(access, 'members.manage');
      const webhook = await load(access, id);
      const found = await store.webhooks.findDelivery(deliveryId);
      if (!found || found.webhookId !== webhook.id) throw notFound('Delivery');
      if (found.status === 'delivered') throw conflict('This delivery was already delivered');
      if (!webhook.enabled) throw conflict('This webhook is disabled; enable it to retry a delivery');
      // Fails closed (503) before the delivery is touched when the secret cannot be opened.
      const secret = openWebhookSecret(vault, webhook.sealedSecret, { teamId: webhook.teamId, webhookId: webhook.id });
      const now = clock.now();
      const lockToken = createId(random, 'lck');
      // Atomic: of two retries, or a retry and the worker, only one holds the attempt.
      const claimed = await store.webhooks.claimForRetry(webhook.id, deliveryId, now, now + delivery.leaseMs, lockToken);
      if (!claimed) {
        const current = await store.webhooks.findDelivery(deliveryId);
        if (!current) throw notFound('Delivery');
        if (current.status === 'delivered') throw conflict('This delivery was already delivered');
        throw conflict('An attempt of this delivery is in progress; try again when it is done');
      }
      await delivery.deliverClaimed(claimed, secret);
      return deliveryView((await store.webhooks.findDelivery(deliveryId)) ?? claimed);
    },

    /** The webhook's deliveries, newest first, each with its attempts. */
    async deliveries(access: TeamAccess, id: string, query: { limit: number; cursor?: string }): Promise<Page<DeliveryView>> {
      requirePermission(access, 'members.manage');
      const webhook = await load(access, id);
      const sort = '-createdAt';
      const page = { limit: query.limit, cursor: query.cursor ? decodeCursor(query.cursor, sort, 'integer') : null };
      const [rows, total] = await Promise.all([store.webhooks.listDeliveries({ webhookId: webhook.id, page }), store.webhooks.countDeliveries(webhook.id)]);
      const result = buildPage(rows, page, sort, (d) => d.createdAt, total);
      const attempts = await store.webhooks.attemptsOf(result.data.map((d) => d.id));
      const byDelivery = new Map<string, AttemptRecord[]>();
      for (const a of attempts) byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
      return { ...result, data: result.data.map((d) => toDeliveryView(d, byDelivery.get(d.id) ?? [])) };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

/**
 * Re-seals the data key of every webhook signing secret under the newest master key, a batch per
 * transaction (as `rotateMasterKey` does for provider credentials); safe to run again.
 */
export async function rotateWebhookSecrets(
  store: Store,
  vault: Vault,
  options: { batchSize?: number } = {},
): Promise<{ rewrapped: number; failed: string[] }> {
  const batchSize = options.batchSize ?? 100;
  let rewrapped = 0;
  const failed = new Set<string>();
  for (;;) {
    const batch = (await store.webhooks.sealedUnder(vault.currentMasterKeyId, batchSize + failed.size)).filter((r) => !failed.has(r.id));
    if (batch.length === 0) break;
    await store.transaction(async (tx) => {
      for (const record of batch) {
        try {
          const sealed = vault.rewrap(record.sealedSecret, { teamId: record.teamId, recordId: record.id });
          if (await tx.webhooks.rewrap(record.id, record.sealedSecret.masterKeyId, sealed)) rewrapped += 1;
        } catch (error) {
          if (!(error instanceof VaultError)) throw error;
          failed.add(record.id);
        }
      }
    });
  }
  return { rewrapped, failed: [...failed] };
}
