import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { AlertList } from '../../../components/alert-list';
import { DataTable } from '../../../components/ui/data-table';
import { Skeleton } from '../../../components/ui/misc';
import { useAlerts } from '../../../lib/alerts';
import { formatDateTime, formatNumber, relativeTime } from '../../../lib/format';
import { useKeyActivity } from '../api';

interface Seen {
  label: string;
  firstSeenAt: string;
  lastSeenAt: string;
  count: number;
}

function SeenTable({ title, column, rows, empty }: { title: string; column: string; rows: Seen[]; empty: string }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  return (
    <div className="min-w-0">
      <h3 className="mb-2 text-sm font-semibold text-slate-900">{title}</h3>
      {rows.length === 0 ? (
        <p className="rounded-lg bg-white px-4 py-3 text-sm text-slate-500 ring-1 ring-slate-200">{empty}</p>
      ) : (
        <DataTable columns={[{ label: column }, { label: t('keys.activity.calls'), align: 'right' }, { label: t('keys.activity.firstSeen') }, { label: t('keys.activity.lastSeen') }]}>
          {rows.map((r) => (
            <tr key={r.label}>
              <td className="max-w-xs break-all px-3 py-2 font-mono text-xs">{r.label}</td>
              <td className="whitespace-nowrap px-3 py-2 text-right">{formatNumber(r.count, locale)}</td>
              <td className="whitespace-nowrap px-3 py-2">
                <time dateTime={r.firstSeenAt} title={formatDateTime(r.firstSeenAt, locale)}>
                  {relativeTime(r.firstSeenAt, locale)}
                </time>
              </td>
              <td className="whitespace-nowrap px-3 py-2">
                <time dateTime={r.lastSeenAt} title={formatDateTime(r.lastSeenAt, locale)}>
                  {relativeTime(r.lastSeenAt, locale)}
                </time>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}

const byLastSeen = (a: Seen, b: Seen) => Date.parse(b.lastSeenAt) - Date.parse(a.lastSeenAt);

/** Where a key was used from: the networks and user agents seen, most recent first. */
export function KeyActivitySection({ keyId }: { keyId: string }) {
  const { t } = useTranslation();
  const activity = useKeyActivity(keyId);
  return (
    <section aria-labelledby="key-seen-heading" className="mt-6 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <h2 id="key-seen-heading" className="text-sm font-semibold">
        {t('keys.activity.title')}
      </h2>
      <p className="mt-1 text-sm text-slate-500">{t('keys.activity.subtitle')}</p>
      {activity.isPending ? (
        <Skeleton className="mt-3 h-24 w-full" />
      ) : activity.isError ? (
        <p role="alert" className="mt-3 text-sm text-red-700">
          {activity.error.message}
        </p>
      ) : (
        <div className="mt-4 grid gap-6 lg:grid-cols-2">
          <SeenTable
            title={t('keys.activity.networks')}
            column={t('keys.activity.network')}
            empty={t('keys.activity.noNetworks')}
            rows={activity.data.data.networks.map((n) => ({ label: n.network, firstSeenAt: n.firstSeenAt, lastSeenAt: n.lastSeenAt, count: n.count })).sort(byLastSeen)}
          />
          <SeenTable
            title={t('keys.activity.userAgents')}
            column={t('keys.activity.userAgent')}
            empty={t('keys.activity.noUserAgents')}
            rows={activity.data.data.userAgents.map((u) => ({ label: u.userAgent, firstSeenAt: u.firstSeenAt, lastSeenAt: u.lastSeenAt, count: u.count })).sort(byLastSeen)}
          />
        </div>
      )}
    </section>
  );
}

/** How many of the team's newest alerts are searched for this key's, and how many are shown. */
const SHOW = 5;

/**
 * This key's alerts. The alerts API filters by type and read state but not by key, so this takes
 * the team's newest alerts and keeps this key's: a key whose alerts are older than the team's
 * latest hundred shows none here (the Alerts page has them all).
 */
export function KeyAlertsSection({ keyId }: { keyId: string }) {
  const { t } = useTranslation();
  const alerts = useAlerts({ limit: SHOW, keyId });
  const mine = alerts.data?.data ?? [];
  return (
    <section aria-labelledby="key-alerts-heading" className="mt-6 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="key-alerts-heading" className="text-sm font-semibold">
          {t('keys.alerts.title')}
        </h2>
        <Link to="/alerts" className="text-sm font-medium text-indigo-600 hover:underline">
          {t('keys.alerts.all')}
        </Link>
      </div>
      {alerts.isPending ? (
        <Skeleton className="mt-3 h-16 w-full" />
      ) : alerts.isError ? (
        <p role="alert" className="mt-3 text-sm text-red-700">
          {alerts.error.message}
        </p>
      ) : mine.length === 0 ? (
        <p className="mt-3 text-sm text-slate-500">{t('keys.alerts.none')}</p>
      ) : (
        <div className="mt-3">
          <AlertList alerts={mine} label={t('keys.alerts.title')} showKey={false} />
        </div>
      )}
    </section>
  );
}
