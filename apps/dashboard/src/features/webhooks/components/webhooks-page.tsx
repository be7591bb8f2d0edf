import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { useEventLabel } from '../../../components/alert-list';
import { Button } from '../../../components/ui/button';
import { DataTable } from '../../../components/ui/data-table';
import { EmptyState, PageHeader, Pager, Skeleton } from '../../../components/ui/misc';
import { formatDate, formatDateTime, formatNumber } from '../../../lib/format';
import { usePermission } from '../../../lib/session';
import { useWebhooks, type Webhook } from '../api';
import { useSendTest } from '../hooks/use-send-test';
import { EnabledBadge } from './badges';
import { CreateWebhookDialog, DeleteWebhookDialog, EditWebhookDialog } from './webhook-dialogs';

type Open = { kind: 'edit' | 'delete'; webhook: Webhook } | null;

function WebhookTable({ items }: { items: Webhook[] }) {
  const { t, i18n } = useTranslation();
  const label = useEventLabel();
  const { send, sending } = useSendTest();
  const [open, setOpen] = useState<Open>(null);
  const close = () => setOpen(null);
  return (
    <>
      <DataTable
        columns={[
          { label: t('webhooks.endpoint') },
          { label: t('webhooks.events') },
          { label: t('webhooks.status') },
          { label: t('webhooks.created') },
          { label: t('webhooks.actions'), hidden: true, align: 'right' },
        ]}
      >
        {items.map((w) => (
          <tr key={w.id}>
            <td className="min-w-48 max-w-xs px-3 py-2">
              <Link to={`/team/webhooks/${encodeURIComponent(w.id)}`} className="break-all font-mono text-xs font-medium text-indigo-700 hover:underline">
                {w.url}
              </Link>
            </td>
            <td className="whitespace-nowrap px-3 py-2">
              <span title={w.events.map(label).join(', ')}>{t('webhooks.eventCount', { count: w.events.length })}</span>
            </td>
            <td className="whitespace-nowrap px-3 py-2">
              <EnabledBadge enabled={w.enabled} />
            </td>
            <td className="whitespace-nowrap px-3 py-2">
              <time dateTime={w.createdAt} title={formatDateTime(w.createdAt, i18n.language)}>
                {formatDate(w.createdAt, i18n.language)}
              </time>
            </td>
            <td className="whitespace-nowrap px-3 py-2 text-right">
              <div className="inline-flex gap-2">
                <Button variant="secondary" size="sm" aria-label={t('webhooks.sendTestTo', { url: w.url })} disabled={!w.enabled || sending === w.id} title={w.enabled ? undefined : t('webhooks.testNeedsEnabled')} onClick={() => void send(w.id)}>
                  {sending === w.id ? t('webhooks.sending') : t('webhooks.sendTest')}
                </Button>
                <Button variant="secondary" size="sm" aria-label={t('webhooks.editName', { url: w.url })} onClick={() => setOpen({ kind: 'edit', webhook: w })}>
                  {t('webhooks.edit')}
                </Button>
                <Button variant="ghost" size="sm" className="text-red-600" aria-label={t('webhooks.deleteName', { url: w.url })} onClick={() => setOpen({ kind: 'delete', webhook: w })}>
                  {t('webhooks.delete')}
                </Button>
              </div>
            </td>
          </tr>
        ))}
      </DataTable>
      {open?.kind === 'edit' ? <EditWebhookDialog webhook={open.webhook} onClose={close} /> : null}
      {open?.kind === 'delete' ? <DeleteWebhookDialog webhook={open.webhook} onClose={close} /> : null}
    </>
  );
}

/** The team's webhooks (owners and admins): add with a one-time secret, test, edit, delete. */
export function WebhooksPage() {
  const { t, i18n } = useTranslation();
  const canManage = usePermission('members.manage');
  const [params, setParams] = useSearchParams();
  const cursor = params.get('cursor');
  const list = useWebhooks(cursor, canManage);
  const [creating, setCreating] = useState(false);
  const page = list.data;
  const setCursor = (c: string | null) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (c) next.set('cursor', c);
        else next.delete('cursor');
        return next;
      },
      { replace: true },
    );

  // A page emptied by a delete: back to the first page.
  useEffect(() => {
    if (cursor && page && page.data.length === 0 && !list.isPlaceholderData) setCursor(null);
  }, [cursor, page, list.isPlaceholderData]);

  if (!canManage) return <EmptyState title={t('webhooks.title')} body={t('webhooks.noPermission')} />;
  const addButton = <Button onClick={() => setCreating(true)}>{t('webhooks.add')}</Button>;

  return (
    <section>
      <PageHeader title={t('webhooks.title')} description={t('webhooks.subtitle')} actions={addButton} />
      {list.isPending ? (
        <div aria-busy="true" aria-label={t('common.loading')} className="space-y-2">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} className="h-10 w-full" />
          ))}
        </div>
      ) : page && page.data.length > 0 ? (
        <>
          <WebhookTable items={page.data} />
          <Pager
            hasPrev={page.prevCursor !== null}
            hasNext={page.nextCursor !== null}
            onPrev={() => setCursor(page.prevCursor)}
            onNext={() => setCursor(page.nextCursor)}
            summary={t('webhooks.total', { count: page.total, formatted: formatNumber(page.total, i18n.language) })}
          />
        </>
      ) : list.isError ? (
        <EmptyState title={t('webhooks.loadFailedTitle')} body={list.error.message} action={<Button variant="secondary" onClick={() => void list.refetch()}>{t('common.retry')}</Button>} />
      ) : (
        <EmptyState title={t('webhooks.emptyTitle')} body={t('webhooks.emptyBody')} action={addButton} />
      )}
      <CreateWebhookDialog open={creating} onOpenChange={setCreating} />
    </section>
  );
}
