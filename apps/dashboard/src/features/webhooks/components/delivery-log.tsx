import { Fragment, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useEventLabel } from '../../../components/alert-list';
import { Button } from '../../../components/ui/button';
import { DataTable } from '../../../components/ui/data-table';
import { EmptyState, Pager, Skeleton } from '../../../components/ui/misc';
import { formatDateTime, formatNumber, relativeTime, timeUntil } from '../../../lib/format';
import { useDeliveries, type Delivery } from '../api';
import { useRetryDelivery } from '../hooks/use-retry-delivery';
import { useAttemptOutcome } from '../hooks/use-send-test';
import { DeliveryStatusBadge } from './badges';

function NextStep({ delivery }: { delivery: Delivery }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  if (delivery.status === 'delivered' && delivery.deliveredAt) {
    return (
      <time dateTime={delivery.deliveredAt} title={formatDateTime(delivery.deliveredAt, locale)}>
        {t('webhooks.deliveredAgo', { when: relativeTime(delivery.deliveredAt, locale) })}
      </time>
    );
  }
  if (delivery.status === 'pending' && delivery.nextAttemptAt) {
    return (
      <time dateTime={delivery.nextAttemptAt} title={formatDateTime(delivery.nextAttemptAt, locale)}>
        {t('webhooks.nextAttempt', { when: timeUntil(delivery.nextAttemptAt, locale) })}
      </time>
    );
  }
  if (delivery.status === 'failed') return <span>{t('webhooks.gaveUp')}</span>;
  return <span>—</span>;
}

/**
 * One webhook's deliveries, newest first: event, status, the last answer, when it was sent and
 * what happens next; each row opens its attempts. Refreshes itself while one is pending. Failed
 * attempts are retried on the server's schedule; "Retry now" makes one attempt of a pending or
 * failed delivery at once (not while the webhook is disabled: the server would refuse it).
 */
export function DeliveryLog({ webhookId, enabled = true }: { webhookId: string; enabled?: boolean }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const label = useEventLabel();
  const outcome = useAttemptOutcome();
  const { retry, retrying } = useRetryDelivery(webhookId);
  const [cursor, setCursor] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const log = useDeliveries(webhookId, cursor, true);
  const page = log.data;
  const toggle = (id: string) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section aria-labelledby="delivery-log-heading" className="mt-8">
      <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h2 id="delivery-log-heading" className="text-lg font-semibold text-slate-900">
            {t('webhooks.deliveryLog')}
          </h2>
          <p className="mt-1 max-w-2xl text-sm text-slate-500">{t('webhooks.retryExplained')}</p>
        </div>
        <Button variant="secondary" size="sm" onClick={() => void log.refetch()} disabled={log.isFetching}>
          {log.isFetching && !log.isPending ? t('common.working') : t('webhooks.refresh')}
        </Button>
      </div>
      {log.isPending ? (
        <div aria-busy="true" aria-label={t('common.loading')} className="space-y-2">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} className="h-10 w-full" />
          ))}
        </div>
      ) : page && page.data.length > 0 ? (
        <>
          <DataTable
            columns={[
              { label: t('webhooks.event') },
              { label: t('webhooks.status') },
              { label: t('webhooks.response') },
              { label: t('webhooks.sentAt') },
              { label: t('webhooks.next') },
              { label: t('webhooks.attempts'), align: 'right' },
              { label: t('webhooks.actions'), align: 'right' },
            ]}
          >
            {page.data.map((d) => {
              const last = d.attempts.at(-1);
              const open = expanded.has(d.id);
              const attemptsId = `attempts-${d.id}`;
              return (
                <Fragment key={d.id}>
                  <tr>
                    <td className="px-3 py-2">
                      <span className="block font-medium">{label(d.type)}</span>
                      <span className="block font-mono text-xs text-slate-500">{d.eventId}</span>
                    </td>
                    <td className="whitespace-nowrap px-3 py-2">
                      <DeliveryStatusBadge status={d.status} />
                    </td>
                    <td className="max-w-xs px-3 py-2">
                      <span className="block break-words">{outcome(last)}</span>
                      {last ? <span className="block text-xs text-slate-500">{t('webhooks.durationMs', { ms: formatNumber(last.durationMs, locale) })}</span> : null}
                    </td>
                    <td className="whitespace-nowrap px-3 py-2">
                      <time dateTime={d.createdAt} title={formatDateTime(d.createdAt, locale)}>
                        {relativeTime(d.createdAt, locale)}
                      </time>
                    </td>
                    <td className="whitespace-nowrap px-3 py-2">
                      <NextStep delivery={d} />
                    </td>
                    <td className="whitespace-nowrap px-3 py-2 text-right">
                      <Button
                        variant="ghost"
                        size="sm"
                        aria-expanded={open}
                        aria-controls={attemptsId}
                        aria-label={t('webhooks.showAttempts', { count: d.attempts.length, event: label(d.type) })}
                        disabled={d.attempts.length === 0}
                        onClick={() => toggle(d.id)}
                      >
                        {formatNumber(d.attempts.length, locale)} <span aria-hidden="true">{open ? '▴' : '▾'}</span>
                      </Button>
                    </td>
                    <td className="whitespace-nowrap px-3 py-2 text-right">
                      {d.status === 'delivered' ? null : (
                        <Button
                          variant="secondary"
                          size="sm"
                          aria-label={t('webhooks.retryNowOf', { event: label(d.type) })}
                          disabled={!enabled || retrying.has(d.id)}
                          title={enabled ? undefined : t('webhooks.retryNeedsEnabled')}
                          onClick={() => void retry(d)}
                        >
                          {retrying.has(d.id) ? t('webhooks.retrying') : t('webhooks.retryNow')}
                        </Button>
                      )}
                    </td>
                  </tr>
                  {open ? (
                    <tr id={attemptsId} className="bg-slate-50">
                      <td colSpan={7} className="px-3 py-2">
                        <ol className="space-y-1 text-xs text-slate-700" aria-label={t('webhooks.attemptsOf', { event: label(d.type) })}>
                          {d.attempts.map((a, i) => (
                            <li key={a.at + i} className="flex flex-wrap gap-x-3">
                              <span className="font-semibold">#{i + 1}</span>
                              <time dateTime={a.at}>{formatDateTime(a.at, locale)}</time>
                              <span>{outcome(a)}</span>
                              <span className="text-slate-500">{t('webhooks.durationMs', { ms: formatNumber(a.durationMs, locale) })}</span>
                            </li>
                          ))}
                        </ol>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </DataTable>
          <Pager
            hasPrev={page.prevCursor !== null}
            hasNext={page.nextCursor !== null}
            onPrev={() => setCursor(page.prevCursor)}
            onNext={() => setCursor(page.nextCursor)}
            summary={t('webhooks.deliveriesTotal', { count: page.total, formatted: formatNumber(page.total, locale) })}
          />
        </>
      ) : log.isError ? (
        <EmptyState title={t('webhooks.deliveriesFailedTitle')} body={log.error.message} action={<Button variant="secondary" onClick={() => void log.refetch()}>{t('common.retry')}</Button>} />
      ) : (
        <EmptyState title={t('webhooks.noDeliveriesTitle')} body={t('webhooks.noDeliveriesBody')} />
      )}
    </section>
  );
}
