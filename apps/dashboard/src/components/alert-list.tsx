import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { toast } from 'sonner';
import { useAlertActions, type Alert, type Severity } from '../lib/alerts';
import { formatDateTime, relativeTime } from '../lib/format';
import { useErrorToast } from '../lib/use-api-error';
import { Button } from './ui/button';

const SEVERITY_STYLE: Record<Severity, string> = {
  info: 'bg-sky-50 text-sky-700 ring-sky-600/20',
  warning: 'bg-amber-50 text-amber-800 ring-amber-600/30',
  critical: 'bg-red-50 text-red-700 ring-red-600/20',
};

export function SeverityBadge({ severity }: { severity: Severity }) {
  const { t } = useTranslation();
  const style = SEVERITY_STYLE[severity] ?? SEVERITY_STYLE.info;
  return <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${style}`}>{t(`alerts.severity.${severity}`, { defaultValue: severity })}</span>;
}

/** The human name of an event or alert type ("key.revoked_used" → "Revoked key used"). */
export function useEventLabel() {
  const { t } = useTranslation();
  return (type: string) => t(`eventTypes.${type}`, { defaultValue: type });
}

function AlertItem({ alert, showKey }: { alert: Alert; showKey: boolean }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const label = useEventLabel();
  const actions = useAlertActions();
  const showError = useErrorToast();
  const [pending, setPending] = useState(false);
  const unread = alert.readAt === null;
  const title = label(alert.type);

  return (
    <li className={`flex flex-col gap-2 px-4 py-3 sm:flex-row sm:items-start sm:justify-between ${unread ? 'bg-indigo-50/40' : ''}`}>
      <div className="min-w-0 space-y-1">
        <div className="flex flex-wrap items-center gap-2">
          {unread ? (
            <span className="inline-flex items-center">
              <span aria-hidden="true" className="h-2 w-2 rounded-full bg-indigo-600" />
              <span className="sr-only">{t('alerts.unreadMarker')}</span>
            </span>
          ) : null}
          <SeverityBadge severity={alert.severity} />
          <h3 className={`text-sm ${unread ? 'font-semibold text-slate-900' : 'font-medium text-slate-700'}`}>{title}</h3>
          <time dateTime={alert.createdAt} title={formatDateTime(alert.createdAt, locale)} className="text-xs text-slate-500">
            {relativeTime(alert.createdAt, locale)}
          </time>
        </div>
        <p className="break-words text-sm text-slate-600">{alert.message}</p>
        {showKey && alert.keyId ? (
          <Link to={`/keys/${encodeURIComponent(alert.keyId)}`} className="text-sm font-medium text-indigo-600 hover:underline">
            {t('alerts.viewKey')}
          </Link>
        ) : null}
      </div>
      <div className="shrink-0">
        {unread ? (
          <Button
            variant="secondary"
            size="sm"
            aria-label={t('alerts.markReadName', { type: title })}
            disabled={pending}
            onClick={async () => {
              setPending(true);
              try {
                await actions.markRead(alert.id);
                toast.success(t('alerts.markedRead'));
              } catch (err) {
                showError(err);
              } finally {
                setPending(false);
              }
            }}
          >
            {pending ? t('common.working') : t('alerts.markRead')}
          </Button>
        ) : (
          <span className="text-xs text-slate-500">{t('alerts.readAt', { when: relativeTime(alert.readAt ?? alert.createdAt, locale) })}</span>
        )}
      </div>
    </li>
  );
}

/** Alerts newest first: severity, type, message, when, and Mark read for the unread ones. */
export function AlertList({ alerts, label, showKey = true }: { alerts: Alert[]; label: string; showKey?: boolean }) {
  return (
    <ul aria-label={label} className="divide-y divide-slate-100 overflow-hidden rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
      {alerts.map((alert) => (
        <AlertItem key={alert.id} alert={alert} showKey={showKey} />
      ))}
    </ul>
  );
}
