import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { toast } from 'sonner';
import { useEventLabel } from '../../../components/alert-list';
import { Button } from '../../../components/ui/button';
import { EmptyState, PageHeader, Skeleton } from '../../../components/ui/misc';
import { formatDateTime } from '../../../lib/format';
import { usePermission } from '../../../lib/session';
import { useErrorToast } from '../../../lib/use-api-error';
import { useWebhook, useWebhookActions } from '../api';
import { useSendTest } from '../hooks/use-send-test';
import { EnabledBadge } from './badges';
import { DeliveryLog } from './delivery-log';
import { DeleteWebhookDialog, EditWebhookDialog } from './webhook-dialogs';

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-2 py-2 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="col-span-2 min-w-0 text-slate-900">{children}</dd>
    </div>
  );
}

/** One webhook: its settings, Send test, enable/disable, edit, delete, and its delivery log. */
export function WebhookDetailPage() {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const canManage = usePermission('members.manage');
  const webhook = useWebhook(id, canManage);
  const actions = useWebhookActions();
  const showError = useErrorToast();
  const label = useEventLabel();
  const { send, sending } = useSendTest();
  const [open, setOpen] = useState<'edit' | 'delete' | null>(null);
  const [toggling, setToggling] = useState(false);

  if (!canManage) return <EmptyState title={t('webhooks.title')} body={t('webhooks.noPermission')} />;
  if (webhook.isPending) return <Skeleton className="h-64 w-full" />;
  if (webhook.isError || !webhook.data) {
    return (
      <div role="alert" className="rounded-md bg-red-50 p-4 text-sm text-red-700">
        {t('webhooks.notFound')}{' '}
        <Link to="/team/webhooks" className="font-medium underline">
          {t('webhooks.backToWebhooks')}
        </Link>
      </div>
    );
  }
  const w = webhook.data.data;

  return (
    <section>
      <Link to="/team/webhooks" className="text-sm text-indigo-600 hover:underline">
        ← {t('webhooks.backToWebhooks')}
      </Link>
      <div className="mt-2">
        <PageHeader
          title={t('webhooks.detailTitle')}
          description={w.url}
          actions={
            <div className="flex flex-wrap gap-2">
              <Button onClick={() => void send(w.id)} disabled={!w.enabled || sending === w.id} title={w.enabled ? undefined : t('webhooks.testNeedsEnabled')}>
                {sending === w.id ? t('webhooks.sending') : t('webhooks.sendTest')}
              </Button>
              <Button
                variant="secondary"
                disabled={toggling}
                onClick={async () => {
                  setToggling(true);
                  try {
                    await actions.update(w.id, { enabled: !w.enabled });
                    toast.success(w.enabled ? t('webhooks.disabledToast') : t('webhooks.enabledToast'));
                  } catch (err) {
                    showError(err);
                  } finally {
                    setToggling(false);
                  }
                }}
              >
                {w.enabled ? t('webhooks.disable') : t('webhooks.enable')}
              </Button>
              <Button variant="secondary" onClick={() => setOpen('edit')}>
                {t('webhooks.edit')}
              </Button>
              <Button variant="danger" onClick={() => setOpen('delete')}>
                {t('webhooks.delete')}
              </Button>
            </div>
          }
        />
      </div>
      {!w.enabled ? (
        <p role="note" className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800 ring-1 ring-inset ring-amber-600/20">
          {t('webhooks.disabledNote')}
        </p>
      ) : null}
      <dl className="divide-y divide-slate-100 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
        <Row label={t('webhooks.url')}>
          <span className="break-all font-mono text-xs">{w.url}</span>
        </Row>
        <Row label={t('webhooks.status')}>
          <EnabledBadge enabled={w.enabled} />
        </Row>
        <Row label={t('webhooks.events')}>
          <ul className="flex flex-wrap gap-1.5">
            {w.events.map((e) => (
              <li key={e} className="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700" title={e}>
                {label(e)}
              </li>
            ))}
          </ul>
        </Row>
        <Row label={t('webhooks.secret')}>{t('webhooks.secretHidden')}</Row>
        <Row label={t('webhooks.created')}>
          {formatDateTime(w.createdAt, locale)}
          {w.createdBy ? ` · ${w.createdBy.name}` : ''}
        </Row>
      </dl>
      <DeliveryLog webhookId={w.id} enabled={w.enabled} />
      {open === 'edit' ? <EditWebhookDialog webhook={w} onClose={() => setOpen(null)} /> : null}
      {open === 'delete' ? <DeleteWebhookDialog webhook={w} onClose={() => setOpen(null)} onDeleted={() => navigate('/team/webhooks', { replace: true })} /> : null}
    </section>
  );
}
