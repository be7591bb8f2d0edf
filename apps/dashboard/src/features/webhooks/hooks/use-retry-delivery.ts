import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { toast } from 'sonner';
import { timeUntil } from '../../../lib/format';
import { useErrorToast } from '../../../lib/use-api-error';
import { useWebhookActions, type Delivery } from '../api';
import { useAttemptOutcome } from './use-send-test';

/**
 * "Retry now" for a pending or failed delivery: one attempt at once, then a toast that says
 * whether the receiver took it or why not and what happens next. `retrying` holds the ids in flight.
 */
export function useRetryDelivery(webhookId: string) {
  const { t, i18n } = useTranslation();
  const actions = useWebhookActions();
  const showError = useErrorToast();
  const outcome = useAttemptOutcome();
  const [retrying, setRetrying] = useState<ReadonlySet<string>>(new Set());

  const mark = (id: string, on: boolean) =>
    setRetrying((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  async function retry(delivery: Delivery): Promise<void> {
    mark(delivery.id, true);
    try {
      const result = await actions.retryDelivery(webhookId, delivery.id);
      const last = result.attempts.at(-1);
      if (result.status === 'delivered') {
        toast.success(t('webhooks.retryDelivered', { status: last?.status ?? 200, ms: last?.durationMs ?? 0 }));
      } else {
        const next = result.nextAttemptAt ? t('webhooks.retriesAt', { when: timeUntil(result.nextAttemptAt, i18n.language) }) : t('webhooks.retryGaveUp');
        toast.error(`${t('webhooks.retryFailed', { reason: outcome(last) })} ${next}`);
      }
    } catch (err) {
      showError(err);
    } finally {
      mark(delivery.id, false);
    }
  }

  return { retry, retrying };
}
