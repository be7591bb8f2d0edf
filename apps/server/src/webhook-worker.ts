import type { FastifyInstance } from 'fastify';
import type { WebhookDelivery } from '@keysmith/core';

declare module 'fastify' {
  interface FastifyInstance {
    /** The webhook delivery worker of this instance (`runDue()` sends what is due now). */
    webhookDelivery: WebhookDelivery;
  }
}

/**
 * Runs the delivery worker every `intervalMs` (0: only when `runDue()` is called), on an unref'd
 * timer, and stops it when the app closes: after its in-flight attempts are recorded, and so
 * before the caller closes the database.
 */
export function startWebhookWorker(app: FastifyInstance, delivery: WebhookDelivery, intervalMs: number): void {
  app.decorate('webhookDelivery', delivery);
  const timer = intervalMs > 0 ? setInterval(() => delivery.tick(), intervalMs) : null;
  timer?.unref();
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    await delivery.stop();
  });
}
