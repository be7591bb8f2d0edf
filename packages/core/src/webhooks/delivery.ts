import type { Clock } from '../clock';
import { KeysmithError } from '../errors';
import type { Store } from '../ports';
import { createId, type Random } from '../random';
import { VaultError, type SealedSecret, type Vault } from '../vault/envelope';
import { nextAttemptAt } from './backoff';
import type { AttemptRecord, ClaimedDelivery, DeliveryOutcome, TransportResult, WebhookTransport } from './model';
import { SIGNATURE_HEADER, signatureHeader } from './signature';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_USER_AGENT = 'Keysmith-Webhooks/1';

export interface WebhookDeliveryOptions {
  store: Store;
  clock: Clock;
  random: Random;
  /** Opens the signing secrets; null (or a master key that does not open one) fails sending closed. */
  vault: Vault | null;
  transport: WebhookTransport;
  /** How long one attempt may take before it counts as a timeout (default 10 s). */
  timeoutMs?: number;
  /** How many deliveries one claim takes (sent in parallel). */
  batchSize?: number;
  /** Told of what could not be recorded (e.g. the database is down); never given a secret. */
  onError?: (error: unknown, what: string) => void;
}

/** Opens a webhook's signing secret, or throws CREDENTIAL_UNAVAILABLE (never sends unsigned). */
export function openWebhookSecret(vault: Vault | null, sealed: SealedSecret, context: { teamId: string; webhookId: string }): string {
  if (!vault) throw new KeysmithError('CREDENTIAL_UNAVAILABLE', 'The credential vault is not available: no master key is configured');
  try {
    return vault.open(sealed, { teamId: context.teamId, recordId: context.webhookId });
  } catch (error) {
    if (error instanceof VaultError) throw new KeysmithError('CREDENTIAL_UNAVAILABLE', 'This webhook secret cannot be decrypted with the configured master keys');
    throw error;
  }
}

/**
 * The delivery worker: claims due deliveries, signs and sends each, records every attempt and
 * schedules retries with exponential backoff. Deliveries live in the database, so a restart, or
 * another instance, picks up where this one stopped; a claim keeps two senders off one attempt.
 */
export function createWebhookDelivery({ store, clock, random, vault, transport, timeoutMs = DEFAULT_WEBHOOK_TIMEOUT_MS, batchSize = 10, onError = () => {} }: WebhookDeliveryOptions) {
  // A claim outlives any one attempt by far, so no other sender takes a delivery still being sent;
  // if its holder dies, the delivery is due again once the claim expires.
  const leaseMs = Math.max(60_000, timeoutMs * 3);
  let running: Promise<number> | null = null;
  let stopped = false;

  async function finish(delivery: ClaimedDelivery, attempt: AttemptRecord | null, outcome: DeliveryOutcome): Promise<void> {
    const kept = await store.transaction((tx) => tx.webhooks.finishAttempt(delivery.id, delivery.lockToken, attempt, outcome));
    if (!kept) onError(new Error('the claim expired before the attempt was recorded'), `webhook delivery ${delivery.id}`);
  }

  /**
   * Makes the next attempt of a delivery this caller has claimed, and records it. `secret` is the
   * opened signing secret when the caller has it already. Returns the attempt (null when nothing
   * was attempted: the webhook is disabled).
   */
  async function deliverClaimed(delivery: ClaimedDelivery, secret?: string): Promise<AttemptRecord | null> {
    if (!delivery.webhook.enabled) {
      // Disabled since the event: dropped, not sent.
      await finish(delivery, null, { status: 'failed' });
      return null;
    }
    const number = delivery.attempts + 1;
    let result: TransportResult;
    let at = clock.now();
    try {
      const key = secret ?? openWebhookSecret(vault, delivery.webhook.sealedSecret, { teamId: delivery.teamId, webhookId: delivery.webhookId });
      at = clock.now();
      const headers = {
        'content-type': 'application/json',
        'user-agent': WEBHOOK_USER_AGENT,
        'Keysmith-Event-Id': delivery.eventId,
        [SIGNATURE_HEADER]: signatureHeader(key, Math.floor(at / 1000), delivery.payload),
      };
      result = await transport.post(delivery.webhook.url, delivery.payload, headers, timeoutMs);
    } catch (error) {
      // Fail closed: without its secret a delivery is not sent unsigned; it is retried later.
      if (!(error instanceof KeysmithError)) throw error;
      result = { error: 'not sent: the signing secret cannot be decrypted with the configured master keys', durationMs: 0 };
    }
    const status = 'status' in result ? result.status : null;
    const attempt: AttemptRecord = {
      id: createId(random, 'wha'),
      deliveryId: delivery.id,
      number,
      at,
      statusCode: status,
      durationMs: Math.max(0, Math.round(result.durationMs)),
      error: 'error' in result ? result.error.slice(0, 500) : null,
    };
    let outcome: DeliveryOutcome;
    if (status !== null && status >= 200 && status < 300) outcome = { status: 'delivered', deliveredAt: clock.now() };
    else {
      const next = nextAttemptAt(delivery.createdAt, number, clock.now());
      outcome = next === null ? { status: 'failed' } : { status: 'pending', nextAttemptAt: next };
    }
    await finish(delivery, attempt, outcome);
    return attempt;
  }

  async function runOnce(): Promise<number> {
    let sent = 0;
    // Bounded, so one call cannot run forever while new deliveries keep arriving.
    for (let round = 0; round < 100 && !stopped; round += 1) {
      const now = clock.now();
      const claimed = await store.webhooks.claimDue(now, now + leaseMs, createId(random, 'lck'), batchSize);
      await Promise.all(
        claimed.map((delivery) => deliverClaimed(delivery).catch((error: unknown) => onError(error, `webhook delivery ${delivery.id}`))),
      );
      sent += claimed.length;
      if (claimed.length < batchSize) break;
    }
    return sent;
  }

  /** Sends every delivery due now (after any run in progress); returns how many it attempted. */
  async function runDue(): Promise<number> {
    while (running) await running.catch(() => 0);
    if (stopped) return 0;
    const run = runOnce();
    running = run;
    try {
      return await run;
    } finally {
      if (running === run) running = null;
    }
  }

  return {
    /** How long a claim holds (see `claimDue`); callers that insert claimed deliveries use it. */
    leaseMs,
    timeoutMs,
    deliverClaimed,
    runDue,
    /** For a timer: starts a run unless one is in progress; never rejects. */
    tick(): void {
      if (running || stopped) return;
      runDue().catch((error: unknown) => onError(error, 'webhook delivery run'));
    },
    /** Stops starting runs and waits for the one in progress (its attempts are recorded). */
    async stop(): Promise<void> {
      stopped = true;
      while (running) await running.catch(() => 0);
    },
  };
}

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>;
