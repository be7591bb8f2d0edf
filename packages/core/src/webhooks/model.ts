import type { Millis } from '../model';
import type { PageRequest } from '../pagination';
import type { SealedSecret } from '../vault/envelope';

/** Key lifecycle events, stored by the key service in each change's transaction. */
export const KEY_EVENT_TYPES = ['key.created', 'key.revoked', 'key.regenerated'] as const;
export type KeyEventType = (typeof KEY_EVENT_TYPES)[number];
/** Alert events, emitted by the alerts engine. */
export const ALERT_EVENT_TYPES = ['key.new_network', 'key.revoked_used', 'key.usage_spike', 'key.credits_low', 'key.expiring_soon', 'key.unused'] as const;
/** Every event a webhook can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [...KEY_EVENT_TYPES, ...ALERT_EVENT_TYPES] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Sent only by `POST /webhooks/:id/test`, to that webhook alone; not subscribable. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';
export type DeliveredEventType = WebhookEventType | typeof WEBHOOK_TEST_EVENT;

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** The body of every delivery, exactly as signed and sent. */
export interface WebhookEvent {
  id: string;
  type: DeliveredEventType;
  createdAt: string;
  data: Record<string, unknown>;
}

/** A webhook as stored: its signing secret sealed under the vault, never in clear. */
export interface WebhookRecord {
  id: string;
  teamId: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  sealedSecret: SealedSecret;
  createdAt: Millis;
  updatedAt: Millis;
  createdBy: { id: string; name: string } | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  teamId: string;
  eventId: string;
  eventType: string;
  /** The JSON body, exactly the bytes that are signed and sent on every attempt. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due; null once delivered or failed. */
  nextAttemptAt: Millis | null;
  createdAt: Millis;
  deliveredAt: Millis | null;
}

export interface AttemptRecord {
  id: string;
  deliveryId: string;
  /** 1 for the first attempt of a delivery, 2 for the second… */
  number: number;
  at: Millis;
  /** The receiver's HTTP status, or null when there was no answer (timeout, refused, DNS…). */
  statusCode: number | null;
  durationMs: number;
  /** Why there was no 2xx, in words that never hold the secret or the signature. */
  error: string | null;
}

/** A delivery claimed by one sender, with what it needs to send it. */
export interface ClaimedDelivery extends DeliveryRecord {
  /** Proves the claim: only its holder can record the attempt. */
  lockToken: string;
  webhook: { url: string; enabled: boolean; sealedSecret: SealedSecret };
}

/** What follows an attempt. */
export type DeliveryOutcome =
  | { status: 'delivered'; deliveredAt: Millis }
  | { status: 'pending'; nextAttemptAt: Millis }
  | { status: 'failed' };

export interface WebhookRepository {
  insert(record: WebhookRecord): Promise<void>;
  /** The webhook in this team, or undefined (another team's webhook is not found). */
  find(teamId: string, id: string): Promise<WebhookRecord | undefined>;
  /** Newest first (createdAt, then id, descending); `limit + 1` rows in the cursor's direction. */
  list(query: { teamId: string; page: PageRequest }): Promise<WebhookRecord[]>;
  count(teamId: string): Promise<number>;
  update(id: string, changes: Partial<Pick<WebhookRecord, 'url' | 'events' | 'enabled' | 'updatedAt'>>): Promise<void>;
  /** Deletes it with all its deliveries and their attempts. */
  delete(id: string): Promise<void>;
  /** The team's enabled webhooks subscribed to `type`. */
  subscribedTo(teamId: string, type: WebhookEventType): Promise<WebhookRecord[]>;
  /**
   * Stores deliveries. One given a `lock` is inserted already claimed by its caller (as `claimDue`
   * would claim it), so no sender takes it before its `lockedUntil`.
   */
  insertDeliveries(deliveries: DeliveryRecord[], lock?: { token: string; lockedUntil: Millis }): Promise<void>;
  /**
   * Claims up to `limit` due deliveries (pending, `nextAttemptAt ≤ now`, no lock or an expired one),
   * oldest due first, atomically: it sets their lock to `token` until `lockedUntil` in the same
   * statement that selects them, so concurrent callers, on one instance or several, never claim the
   * same delivery while its lock holds.
   */
  claimDue(now: Millis, lockedUntil: Millis, token: string, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Claims one delivery of this webhook for an attempt now (a manual retry), atomically: a single
   * UPDATE takes it only while it is `pending` or `failed` and holds no lock or an expired one, and
   * in the same statement sets it `pending`, due `now`, locked to `token` until `lockedUntil`. So it
   * never takes a delivered delivery nor one another sender is attempting, and of two concurrent
   * callers at most one gets it. Returns undefined, writing nothing, when it is not claimable (or is
   * not this webhook's). Should the holder die, the delivery is due again once the lock expires.
   */
  claimForRetry(webhookId: string, deliveryId: string, now: Millis, lockedUntil: Millis, token: string): Promise<ClaimedDelivery | undefined>;
  /**
   * Records one attempt and the delivery's outcome, and releases the lock, only while the
   * delivery is still claimed by `token` (returns false, writing nothing, when it is not). An
   * attempt number is recorded at most once per delivery. Call inside a transaction, so the attempt
   * and the outcome commit together.
   */
  finishAttempt(deliveryId: string, token: string, attempt: AttemptRecord | null, outcome: DeliveryOutcome): Promise<boolean>;
  /** The webhook's deliveries, newest first (createdAt, then id, descending); `limit + 1` rows. */
  listDeliveries(query: { webhookId: string; page: PageRequest }): Promise<DeliveryRecord[]>;
  countDeliveries(webhookId: string): Promise<number>;
  findDelivery(id: string): Promise<DeliveryRecord | undefined>;
  /** The attempts of these deliveries, oldest first. */
  attemptsOf(deliveryIds: string[]): Promise<AttemptRecord[]>;
  /** Up to `limit` webhooks whose secret is sealed under a master key other than `notMasterKeyId`, any team. */
  sealedUnder(notMasterKeyId: string, limit: number): Promise<WebhookRecord[]>;
  /** Replaces the sealed data key only if the row is still sealed under `expectedMasterKeyId` and still holds `sealed.ciphertext`. */
  rewrap(id: string, expectedMasterKeyId: string, sealed: SealedSecret): Promise<boolean>;
}

export type TransportResult = { status: number; durationMs: number } | { error: string; durationMs: number };

/** Sends one HTTP POST of a delivery; implemented by the server (node:http). */
export interface WebhookTransport {
  /**
   * POSTs `body` with exactly these headers and answers with the status, or an error when no
   * answer came within `timeoutMs` (or the address was refused, or the connection failed). Never
   * follows redirects; never throws.
   */
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<TransportResult>;
}
