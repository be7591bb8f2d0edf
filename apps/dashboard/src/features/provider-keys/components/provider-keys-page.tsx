import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../../components/ui/button';
import { inputClass } from '../../../components/ui/field';
import { EmptyState, PageHeader, Pager, Skeleton } from '../../../components/ui/misc';
import { formatNumber } from '../../../lib/format';
import { usePermission } from '../../../lib/session';
import { useListParams } from '../../../lib/use-list-params';
import { PROVIDER_KEY_SORTS, useProviderKeys, useProviderKeyTypes } from '../api';
import { AddProviderKeyDialog } from './provider-key-dialogs';
import { ProviderKeyTable } from './provider-key-table';
import { TypeOptions } from './type-options';

const PAGE_SIZE = 20;
const DEFAULT_SORT = '-createdAt';

function validSort(value: string | null): string {
  return value && (PROVIDER_KEY_SORTS as readonly string[]).includes(value.replace(/^-/, '')) ? value : DEFAULT_SORT;
}

/** The team's credentials for outside services: searchable by description, filterable by type, sortable, paged. */
export function ProviderKeysPage() {
  const { t, i18n } = useTranslation();
  const { params, q, search, setSearch, cursor, update } = useListParams();
  const canRead = usePermission('provider_keys.read');
  const canWrite = usePermission('provider_keys.write');
  const canReveal = usePermission('provider_keys.reveal');
  const [adding, setAdding] = useState(false);
  const type = params.get('type') ?? '';
  const sort = validSort(params.get('sort'));

  const types = useProviderKeyTypes();
  const list = useProviderKeys({ q, type, sort, cursor, limit: PAGE_SIZE });
  const page = list.data;

  // A page emptied by a delete (or a stale cursor in the URL): go back to the first page.
  useEffect(() => {
    if (cursor && page && page.data.length === 0 && !list.isPlaceholderData) update({ cursor: null });
  }, [cursor, page, list.isPlaceholderData]);

  if (!canRead) return <EmptyState title={t('providerKeys.title')} body={t('providerKeys.noPermission')} />;

  const addButton = <Button onClick={() => setAdding(true)}>{t('providerKeys.add')}</Button>;
  const filtered = q !== '' || type !== '';

  return (
    <section>
      <PageHeader
        title={t('providerKeys.title')}
        description={t('providerKeys.subtitle')}
        actions={canWrite ? addButton : <p className="text-sm text-slate-500">{t('providerKeys.noWritePermission')}</p>}
      />
      <div className="mb-4 flex flex-wrap gap-3">
        <input
          type="search"
          className={`${inputClass} max-w-xs`}
          placeholder={t('providerKeys.searchPlaceholder')}
          aria-label={t('providerKeys.search')}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <select className={`${inputClass} max-w-56`} aria-label={t('providerKeys.typeFilter')} value={type} onChange={(e) => update({ type: e.target.value || null, cursor: null })}>
          <option value="">{t('providerKeys.allTypes')}</option>
          <TypeOptions types={types.data?.data ?? []} />
        </select>
      </div>

      {list.isPending ? (
        <div aria-busy="true" aria-label={t('common.loading')} className="space-y-2">
          {Array.from({ length: 5 }, (_, i) => (
            <Skeleton key={i} className="h-10 w-full" />
          ))}
        </div>
      ) : page && page.data.length > 0 ? (
        <>
          <ProviderKeyTable items={page.data} types={types.data?.data ?? []} sort={sort} onSort={(s) => update({ sort: s, cursor: null })} canWrite={canWrite} canReveal={canReveal} />
          <Pager
            hasPrev={page.prevCursor !== null}
            hasNext={page.nextCursor !== null}
            onPrev={() => update({ cursor: page.prevCursor })}
            onNext={() => update({ cursor: page.nextCursor })}
            summary={t('providerKeys.total', { count: page.total, formatted: formatNumber(page.total, i18n.language) })}
          />
        </>
      ) : list.isError ? (
        <EmptyState title={t('providerKeys.loadFailedTitle')} body={list.error.message} action={<Button variant="secondary" onClick={() => void list.refetch()}>{t('common.retry')}</Button>} />
      ) : filtered ? (
        <EmptyState title={t('providerKeys.noMatchesTitle')} body={t('providerKeys.noMatchesBody')} />
      ) : (
        <EmptyState title={t('providerKeys.emptyTitle')} body={t('providerKeys.emptyBody')} action={canWrite ? addButton : undefined} />
      )}
      <AddProviderKeyDialog open={adding} onOpenChange={setAdding} />
    </section>
  );
}
