import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { toast } from 'sonner';
import { timeUntil } from '../../../lib/format';
import { useErrorToast } from '../../../lib/use-api-error';
import { useWebhookActions, type Delivery } from '../api';

/** Why an attempt was not a success, in a few words: "HTTP 500" or the transport's error. */
export function useAttemptOutcome() {
  const { t } = useTranslation();
  return (attempt: Delivery['attempts'][number] | undefined) => {
    if (!attempt) return t('webhooks.noAttemptYet');
    if (attempt.status !== null) return attempt.error ? `HTTP ${attempt.status} · ${attempt.error}` : `HTTP ${attempt.status}`;
    return attempt.error ?? t('webhooks.noAnswer');
  };
}

/**
 * "Send test" for a webhook: sends it, then says in a toast whether the receiver took it (with
 * its status and time) or why not and when Keysmith tries again. `sending` is the id in flight.
 */
export function useSendTest() {
  const { t, i18n } = useTranslation();
  const actions = useWebhookActions();
  const showError = useErrorToast();
  const outcome = useAttemptOutcome();
  const [sending, setSending] = useState<string | null>(null);

  async function send(id: string): Promise<void> {
    setSending(id);
    try {
      const delivery = await actions.sendTest(id);
      const first = delivery.attempts[0];
      if (delivery.status === 'delivered') {
        toast.success(t('webhooks.testDelivered', { status: first?.status ?? 200, ms: first?.durationMs ?? 0 }));
      } else {
        const retry = delivery.nextAttemptAt ? ` ${t('webhooks.retriesAt', { when: timeUntil(delivery.nextAttemptAt, i18n.language) })}` : '';
        toast.error(`${t('webhooks.testFailed', { reason: outcome(first) })}${retry}`);
      }
    } catch (err) {
      showError(err);
    } finally {
      setSending(null);
    }
  }

  return { send, sending };
}
