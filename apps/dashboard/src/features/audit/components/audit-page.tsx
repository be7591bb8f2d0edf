import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { DataTable } from '../../../components/ui/data-table';
import { inputClass } from '../../../components/ui/field';
import { EmptyState, PageHeader, Pager, Skeleton } from '../../../components/ui/misc';
import { formatDateTime, formatNumber } from '../../../lib/format';
import { usePermission } from '../../../lib/session';
import { AUDIT_ACTIONS, useAuditLog } from '../api';

/** The team's audit log, filterable by action, newest first. */
export function AuditPage() {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const [params, setParams] = useSearchParams();
  const action = params.get('action') ?? '';
  const cursor = params.get('cursor');
  const allowed = usePermission('audit.read');
  const log = useAuditLog(action, cursor);
  const set = (changes: Record<string, string | null>) =>
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v);
      else next.delete(k);
      return next;
    });

  if (!allowed) return <EmptyState title={t('audit.title')} body={t('audit.noPermission')} />;
  return (
    <section>
      <PageHeader title={t('audit.title')} description={t('audit.subtitle')} />
      <select className={`${inputClass} mb-4 max-w-60`} aria-label={t('audit.filter')} value={action} onChange={(e) => set({ action: e.target.value || null, cursor: null })}>
        <option value="">{t('audit.allActions')}</option>
        {AUDIT_ACTIONS.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
      {log.isPending ? (
        <Skeleton className="h-64 w-full" />
      ) : log.data && log.data.data.length > 0 ? (
        <>
          <DataTable
            columns={[
              { label: t('audit.when') },
              { label: t('audit.action') },
              { label: t('audit.actor') },
              { label: t('audit.target') },
              { label: t('audit.ip') },
            ]}
          >
                {log.data.data.map((e) => (
                  <tr key={e.id}>
                    <td className="whitespace-nowrap px-3 py-2">{formatDateTime(e.createdAt, locale)}</td>
                    <td className="px-3 py-2 font-mono text-xs">{e.action}</td>
                    <td className="px-3 py-2">{e.actor.label}</td>
                    <td className="px-3 py-2">{e.target.label}</td>
                    <td className="px-3 py-2 text-slate-500">{e.ip ?? '—'}</td>
                  </tr>
                ))}
          </DataTable>
          <Pager
            hasPrev={log.data.prevCursor !== null}
            hasNext={log.data.nextCursor !== null}
            onPrev={() => set({ cursor: log.data.prevCursor })}
            onNext={() => set({ cursor: log.data.nextCursor })}
            summary={t('audit.total', { count: log.data.total, formatted: formatNumber(log.data.total, locale) })}
          />
        </>
      ) : (
        <EmptyState title={t('audit.emptyTitle')} body={t('audit.empty')} />
      )}
    </section>
  );
}
