import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { toast } from 'sonner';
import { AlertList, useEventLabel } from '../../../components/alert-list';
import { Button } from '../../../components/ui/button';
import { inputClass } from '../../../components/ui/field';
import { EmptyState, PageHeader, Pager, Skeleton } from '../../../components/ui/misc';
import { ALERT_TYPES, useAlertActions, useAlerts, useUnreadAlertCount } from '../../../lib/alerts';
import { formatNumber } from '../../../lib/format';
import { useErrorToast } from '../../../lib/use-api-error';
import { useListParams } from '../../../lib/use-list-params';

const PAGE_SIZE = 25;
const READ_STATES = ['', 'true', 'false'] as const;

/** The team's alerts, newest first: filter by type and read state, mark one or all read, page on. */
export function AlertsPage() {
  const { t, i18n } = useTranslation();
  const label = useEventLabel();
  const { params, cursor, update: set } = useListParams();
  const type = params.get('type') ?? '';
  const unreadParam = params.get('unread') ?? '';
  const unread = (READ_STATES as readonly string[]).includes(unreadParam) ? unreadParam : '';
  const list = useAlerts({ type, unread, cursor, limit: PAGE_SIZE });
  const unreadCount = useUnreadAlertCount();
  const actions = useAlertActions();
  const showError = useErrorToast();
  const [markingAll, setMarkingAll] = useState(false);
  const page = list.data;

  // A page emptied by marking read under the "Unread" filter (or a stale cursor): back to the first page.
  useEffect(() => {
    if (cursor && page && page.data.length === 0 && !list.isPlaceholderData) set({ cursor: null });
  }, [cursor, page, list.isPlaceholderData]);

  const filtered = type !== '' || unread !== '';
  const nothingUnread = unreadCount.data === 0;

  return (
    <section>
      <PageHeader
        title={t('alerts.title')}
        description={t('alerts.subtitle')}
        actions={
          <>
            <Link to="/alerts/settings" className="inline-flex items-center rounded-md bg-white px-3.5 py-2 text-sm font-medium text-slate-700 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50">
              {t('alerts.settingsLink')}
            </Link>
            <Button
              disabled={markingAll || nothingUnread}
              onClick={async () => {
                setMarkingAll(true);
                try {
                  await actions.markAllRead();
                  toast.success(t('alerts.markedAllRead'));
                } catch (err) {
                  showError(err);
                } finally {
                  setMarkingAll(false);
                }
              }}
            >
              {markingAll ? t('common.working') : t('alerts.markAllRead')}
            </Button>
          </>
        }
      />
      <div className="mb-4 flex flex-wrap gap-3">
        <select className={`${inputClass} max-w-60`} aria-label={t('alerts.typeFilter')} value={type} onChange={(e) => set({ type: e.target.value || null, cursor: null })}>
          <option value="">{t('alerts.allTypes')}</option>
          {ALERT_TYPES.map((a) => (
            <option key={a} value={a}>
              {label(a)}
            </option>
          ))}
        </select>
        <select className={`${inputClass} max-w-48`} aria-label={t('alerts.readFilter')} value={unread} onChange={(e) => set({ unread: e.target.value || null, cursor: null })}>
          <option value="">{t('alerts.allStates')}</option>
          <option value="true">{t('alerts.unreadOnly')}</option>
          <option value="false">{t('alerts.readOnly')}</option>
        </select>
      </div>

      {list.isPending ? (
        <div aria-busy="true" aria-label={t('common.loading')} className="space-y-2">
          {Array.from({ length: 4 }, (_, i) => (
            <Skeleton key={i} className="h-16 w-full" />
          ))}
        </div>
      ) : page && page.data.length > 0 ? (
        <>
          <AlertList alerts={page.data} label={t('alerts.listLabel')} />
          <Pager
            hasPrev={page.prevCursor !== null}
            hasNext={page.nextCursor !== null}
            onPrev={() => set({ cursor: page.prevCursor })}
            onNext={() => set({ cursor: page.nextCursor })}
            summary={t('alerts.total', { count: page.total, formatted: formatNumber(page.total, i18n.language) })}
          />
        </>
      ) : list.isError ? (
        <EmptyState
          title={t('alerts.loadFailedTitle')}
          body={list.error.message}
          action={
            <Button variant="secondary" onClick={() => void list.refetch()}>
              {t('common.retry')}
            </Button>
          }
        />
      ) : filtered ? (
        <EmptyState title={t('alerts.noMatchesTitle')} body={t('alerts.noMatchesBody')} />
      ) : (
        <EmptyState title={t('alerts.emptyTitle')} body={t('alerts.emptyBody')} />
      )}
    </section>
  );
}
