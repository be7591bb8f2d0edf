import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { UsageChart } from '../../../components/ui/bar-chart';
import { PageHeader, Skeleton, StatusBadge } from '../../../components/ui/misc';
import { formatDateTime, formatNumber, relativeTime } from '../../../lib/format';
import { usePermission } from '../../../lib/session';
import { useKey, useKeyAudit, useKeyUsage } from '../api';
import { KeyActivitySection, KeyAlertsSection } from './key-activity';

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-3 gap-2 py-2 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="col-span-2 text-slate-900">{children}</dd>
    </div>
  );
}

/**
 * Everything about one key: fields, 30 days of usage, credits consumed, its alerts, the networks
 * and user agents it was used from, recent audit entries.
 */
export function KeyDetailPage() {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const { id = '' } = useParams();
  const key = useKey(id);
  const usage = useKeyUsage(id);
  const canAudit = usePermission('audit.read');
  const audit = useKeyAudit(id, canAudit);

  if (key.isPending) return <Skeleton className="h-64 w-full" />;
  if (key.isError || !key.data) {
    return (
      <div role="alert" className="rounded-md bg-red-50 p-4 text-sm text-red-700">
        {t('keys.notFound')}{' '}
        <Link to="/keys" className="font-medium underline">
          {t('keys.backToKeys')}
        </Link>
      </div>
    );
  }
  const k = key.data.data;
  const creditsUsed = (usage.data?.data ?? []).reduce((sum, p) => sum + p.creditsUsed, 0);
  return (
    <section>
      <Link to="/keys" className="text-sm text-indigo-600 hover:underline">
        ← {t('keys.backToKeys')}
      </Link>
      <div className="mt-2">
        <PageHeader title={k.name} description={k.description ?? undefined} actions={<StatusBadge status={k.status} />} />
      </div>
      <div className="grid gap-6 lg:grid-cols-2">
        <dl className="divide-y divide-slate-100 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <Row label={t('keys.key')}>
            <span className="font-mono">{k.prefix}…</span>
          </Row>
          <Row label={t('keys.environment')}>{k.environment}</Row>
          <Row label={t('keys.created')}>
            {formatDateTime(k.createdAt, locale)}
            {k.createdBy ? ` · ${k.createdBy.name}` : ''}
          </Row>
          <Row label={t('keys.lastUsed')}>{k.lastUsedAt ? relativeTime(k.lastUsedAt, locale) : t('keys.never')}</Row>
          <Row label={t('keys.calls')}>{formatNumber(k.usageCount, locale)}</Row>
          <Row label={t('keys.expires')}>{k.expiresAt ? formatDateTime(k.expiresAt, locale) : t('keys.never')}</Row>
          {k.revokedAt ? <Row label={t('keys.revokedAt')}>{formatDateTime(k.revokedAt, locale)}</Row> : null}
          <Row label={t('keys.scopes')}>{k.scopes.length ? k.scopes.join(', ') : t('keys.noScopes')}</Row>
          <Row label={t('keys.credits')}>{k.credits ? `${formatNumber(k.credits.remaining, locale)} / ${formatNumber(k.credits.limit, locale)}` : t('keys.unlimited')}</Row>
          <Row label={t('keys.rateLimit')}>{k.rateLimit ? t('keys.rateLimitValue', { limit: k.rateLimit.limit, seconds: k.rateLimit.windowSeconds }) : t('keys.none')}</Row>
        </dl>
        <div className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <h2 className="text-sm font-semibold">{t('keys.usage30')}</h2>
          {usage.data ? <UsageChart points={usage.data.data} label={t('keys.usageChartLabel', { name: k.name })} /> : <Skeleton className="mt-2 h-40 w-full" />}
          <p className="mt-3 text-sm text-slate-600">{t('keys.creditsConsumed', { count: creditsUsed, formatted: formatNumber(creditsUsed, locale) })}</p>
        </div>
      </div>
      <KeyAlertsSection keyId={k.id} />
      <KeyActivitySection keyId={k.id} />
      {canAudit ? (
        <div className="mt-6 rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <h2 className="text-sm font-semibold">{t('keys.recentActivity')}</h2>
          <ul className="mt-2 divide-y divide-slate-100 text-sm">
            {(audit.data?.data ?? []).map((e) => (
              <li key={e.id} className="flex justify-between gap-4 py-2">
                <span>
                  <span className="font-mono text-xs">{e.action}</span> · {e.actor.label}
                </span>
                <time dateTime={e.createdAt} className="text-slate-500">
                  {formatDateTime(e.createdAt, locale)}
                </time>
              </li>
            ))}
            {audit.data && audit.data.data.length === 0 ? <li className="py-2 text-slate-500">{t('audit.empty')}</li> : null}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
