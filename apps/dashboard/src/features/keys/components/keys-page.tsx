import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../../components/ui/button';
import { inputClass } from '../../../components/ui/field';
import { EmptyState, PageHeader, Pager, Skeleton } from '../../../components/ui/misc';
import { formatNumber } from '../../../lib/format';
import { usePermission } from '../../../lib/session';
import { useListParams } from '../../../lib/use-list-params';
import { useKeys } from '../api';
import { CreateKeyDialog } from './key-dialogs';
import { KeyTable } from './key-table';

const PAGE_SIZE = 20;
const STATUSES = ['active', 'inactive', 'expired', 'revoked'] as const;

/** The centre of the product: the team's keys, searchable, filterable, sortable, paged. */
export function KeysPage() {
  const { t, i18n } = useTranslation();
  const { params, q, search, setSearch, cursor, update } = useListParams();
  const canWrite = usePermission('keys.write');
  const [creating, setCreating] = useState(false);
  const status = params.get('status') ?? '';
  const sort = params.get('sort') ?? '-createdAt';

  const keys = useKeys({ q, status, sort, cursor, limit: PAGE_SIZE });

  const createButton = (
    <Button onClick={() => setCreating(true)} disabled={!canWrite}>
      {t('generate-key-text')}
    </Button>
  );
  const filtered = q !== '' || status !== '';

  return (
    <section>
      <PageHeader
        title={t('keys.title')}
        description={t('keys.subtitle')}
        actions={canWrite ? createButton : <p className="text-sm text-slate-500">{t('keys.noWritePermission')}</p>}
      />
      <div className="mb-4 flex flex-wrap gap-3">
        <input
          type="search"
          className={`${inputClass} max-w-xs`}
          placeholder={t('keys.searchPlaceholder')}
          aria-label={t('keys.search')}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <select className={`${inputClass} max-w-44`} aria-label={t('keys.statusFilter')} value={status} onChange={(e) => update({ status: e.target.value || null, cursor: null })}>
          <option value="">{t('keys.allStatuses')}</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}`)}
            </option>
          ))}
        </select>
      </div>

      {keys.isPending ? (
        <div aria-busy="true" aria-label={t('common.loading')} className="space-y-2">
          {Array.from({ length: 5 }, (_, i) => (
            <Skeleton key={i} className="h-10 w-full" />
          ))}
        </div>
      ) : keys.data && keys.data.data.length > 0 ? (
        <>
          <KeyTable keys={keys.data.data} sort={sort} onSort={(s) => update({ sort: s, cursor: null })} canWrite={canWrite} />
          <Pager
            hasPrev={keys.data.prevCursor !== null}
            hasNext={keys.data.nextCursor !== null}
            onPrev={() => update({ cursor: keys.data.prevCursor })}
            onNext={() => update({ cursor: keys.data.nextCursor })}
            summary={t('keys.total', { count: keys.data.total, formatted: formatNumber(keys.data.total, i18n.language) })}
          />
        </>
      ) : filtered ? (
        <EmptyState title={t('keys.noMatchesTitle')} body={t('keys.noMatchesBody')} />
      ) : (
        <EmptyState title={t('no-key-text')} body={t('keys.emptyBody')} action={canWrite ? createButton : undefined} />
      )}
      <CreateKeyDialog open={creating} onOpenChange={setCreating} />
    </section>
  );
}
