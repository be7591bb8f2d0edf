import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { UsageChart } from '../../../components/ui/bar-chart';
import { DataTable } from '../../../components/ui/data-table';
import { EmptyState, PageHeader, Skeleton } from '../../../components/ui/misc';
import { formatNumber } from '../../../lib/format';
import { useTeam, useTeamUsage } from '../api';

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <dt className="text-sm text-slate-500">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums">{value}</dd>
    </div>
  );
}

/** Team totals for the last 30 days, a chart, credits, and the busiest keys. */
export function UsagePage() {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const usage = useTeamUsage();
  const team = useTeam();
  const credits = team.data?.data.credits;
  return (
    <section>
      <PageHeader title={t('usage.title')} description={t('usage.subtitle')} />
      {usage.isPending ? (
        <Skeleton className="h-64 w-full" />
      ) : usage.data ? (
        <div className="space-y-6">
          <dl className="grid gap-4 sm:grid-cols-4">
            <Stat label={t('usage.valid')} value={formatNumber(usage.data.totals.valid, locale)} />
            <Stat label={t('usage.rejected')} value={formatNumber(usage.data.totals.rejected, locale)} />
            <Stat label={t('usage.creditsUsed')} value={formatNumber(usage.data.totals.creditsUsed, locale)} />
            <Stat label={t('usage.teamBalance')} value={credits ? formatNumber(credits.balance, locale) : t('keys.unlimited')} />
          </dl>
          <div className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200">
            <UsageChart points={usage.data.series} label={t('usage.chartLabel')} />
          </div>
          {usage.data.byKey.length === 0 ? (
            <EmptyState title={t('usage.emptyTitle')} body={t('usage.emptyBody')} />
          ) : (
            <DataTable
              columns={[
                { label: t('keys.name') },
                { label: t('usage.valid'), align: 'right' },
                { label: t('usage.rejected'), align: 'right' },
                { label: t('usage.creditsUsed'), align: 'right' },
              ]}
            >
                  {[...usage.data.byKey]
                    .sort((a, b) => b.valid + b.rejected - (a.valid + a.rejected))
                    .map((row) => (
                      <tr key={row.keyId}>
                        <td className="px-3 py-2">
                          {row.name ? (
                            <Link to={`/keys/${row.keyId}`} className="hover:underline">
                              {row.name}
                            </Link>
                          ) : (
                            <span className="text-slate-400">{t('usage.deletedKey')}</span>
                          )}
                        </td>
                        <td className="px-3 py-2 text-right tabular-nums">{formatNumber(row.valid, locale)}</td>
                        <td className="px-3 py-2 text-right tabular-nums">{formatNumber(row.rejected, locale)}</td>
                        <td className="px-3 py-2 text-right tabular-nums">{formatNumber(row.creditsUsed, locale)}</td>
                      </tr>
                    ))}
            </DataTable>
          )}
        </div>
      ) : null}
    </section>
  );
}
