import type { FastifyInstance } from 'fastify';
import type { AlertService } from '@keysmith/core';

/** How often the expiring_soon and unused rules are swept. */
export const ALERT_SWEEP_MS = 10 * 60_000;

declare module 'fastify' {
  interface FastifyInstance {
    /** This instance's alert rules: `runSweep()` runs the periodic sweep now; `settle()` waits for queued evaluations. */
    alerts: { runSweep(): Promise<number>; settle(): Promise<void> };
  }
}

export interface AlertsWorkerOptions {
  /** Writes pending usage (the usage buffer's flush): before a sweep, so it sees the latest uses. */
  flush: () => Promise<void>;
  sweepMs?: number;
}

/**
 * Sweeps every `sweepMs` on an unref'd timer, and on close writes the last usage and waits for
 * the rules it queues, so they run before the caller closes the database.
 */
export function startAlertsWorker(app: FastifyInstance, alerts: AlertService, { flush, sweepMs = ALERT_SWEEP_MS }: AlertsWorkerOptions): void {
  const runSweep = async () => {
    await flush().catch(() => {});
    return alerts.runSweep();
  };
  app.decorate('alerts', { runSweep, settle: () => alerts.settle() });
  const timer = setInterval(() => {
    runSweep().catch((error: unknown) => app.log.warn({ err: error }, 'alert sweep failed; will retry'));
  }, sweepMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    // A failed write is logged by the app's own last flush; here only the rules matter.
    await flush().catch(() => {});
    await alerts.settle();
    // A last try for alerts whose store failed: they are kept in memory only.
    await alerts.retryFailed();
  });
}
