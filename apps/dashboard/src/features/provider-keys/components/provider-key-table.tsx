import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../../components/ui/button';
import { DataTable, type Column } from '../../../components/ui/data-table';
import { formatDate, formatDateTime } from '../../../lib/format';
import { useErrorToast } from '../../../lib/use-api-error';
import { useProviderKeyActions, type ProviderKey, type ProviderKeyType } from '../api';
import { DeleteProviderKeyDialog, EditProviderKeyDialog, RevealedProviderKeyDialog } from './provider-key-dialogs';
import { useCategoryLabel } from './type-options';

type Open = { kind: 'edit' | 'delete'; item: ProviderKey } | { kind: 'revealed'; item: ProviderKey; value: string } | null;

function When({ iso, locale }: { iso: string; locale: string }) {
  return (
    <time dateTime={iso} title={formatDateTime(iso, locale)}>
      {formatDate(iso, locale)}
    </time>
  );
}

export interface ProviderKeyTableProps {
  items: ProviderKey[];
  types: ProviderKeyType[];
  sort: string;
  onSort: (sort: string) => void;
  canWrite: boolean;
  canReveal: boolean;
}

/**
 * A team's provider credentials: description (opens the editor), type with its category, the
 * masked key, dates, and Reveal / Delete for the roles allowed to.
 */
export function ProviderKeyTable({ items, types, sort, onSort, canWrite, canReveal }: ProviderKeyTableProps) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  const actions = useProviderKeyActions();
  const showError = useErrorToast();
  const categoryLabel = useCategoryLabel();
  const [open, setOpen] = useState<Open>(null);
  const [revealing, setRevealing] = useState<string | null>(null);
  const typeById = new Map(types.map((type) => [type.id, type]));
  const close = () => setOpen(null);

  async function reveal(item: ProviderKey) {
    setRevealing(item.id);
    try {
      // Only this component's state holds the value, and only until the dialog closes.
      const value = await actions.reveal(item.id);
      setOpen({ kind: 'revealed', item, value });
    } catch (err) {
      showError(err);
    } finally {
      setRevealing(null);
    }
  }

  const columns: Column[] = [
    { label: t('providerKeys.description'), sortField: 'description' },
    { label: t('providerKeys.type'), sortField: 'type' },
    { label: t('providerKeys.key') },
    { label: t('providerKeys.created'), sortField: 'createdAt' },
    { label: t('providerKeys.updated'), sortField: 'updatedAt' },
  ];
  const hasActions = canWrite || canReveal;
  if (hasActions) columns.push({ label: t('providerKeys.actions'), hidden: true, align: 'right' });

  return (
    <>
      <DataTable columns={columns} sort={sort} onSort={onSort}>
        {items.map((item) => {
          const type = typeById.get(item.type);
          return (
            <tr key={item.id} className={canWrite ? 'cursor-pointer hover:bg-slate-50' : ''} onClick={canWrite ? () => setOpen({ kind: 'edit', item }) : undefined}>
              <td className="max-w-xs px-3 py-2 font-medium">
                {canWrite ? (
                  <button
                    type="button"
                    className="break-words text-left text-indigo-700 hover:underline"
                    title={t('providerKeys.editHint')}
                    onClick={(e) => {
                      e.stopPropagation();
                      setOpen({ kind: 'edit', item });
                    }}
                  >
                    {item.description}
                  </button>
                ) : (
                  <span className="break-words">{item.description}</span>
                )}
              </td>
              <td className="whitespace-nowrap px-3 py-2">
                <span className="block">{type?.label ?? item.type}</span>
                {type ? <span className="block text-xs text-slate-500">{categoryLabel(type.category)}</span> : null}
              </td>
              <td className="whitespace-nowrap px-3 py-2 font-mono text-xs">{item.maskedKey}</td>
              <td className="whitespace-nowrap px-3 py-2">
                <When iso={item.createdAt} locale={locale} />
              </td>
              <td className="whitespace-nowrap px-3 py-2">
                <When iso={item.updatedAt} locale={locale} />
              </td>
              {hasActions ? (
                <td className="whitespace-nowrap px-3 py-2 text-right" onClick={(e) => e.stopPropagation()}>
                  <div className="inline-flex gap-2">
                    {canReveal ? (
                      <Button variant="secondary" size="sm" aria-label={t('providerKeys.revealName', { description: item.description })} disabled={revealing === item.id} onClick={() => void reveal(item)}>
                        {revealing === item.id ? t('common.working') : t('providerKeys.reveal')}
                      </Button>
                    ) : null}
                    {canWrite ? (
                      <Button variant="ghost" size="sm" className="text-red-600" aria-label={t('providerKeys.deleteName', { description: item.description })} onClick={() => setOpen({ kind: 'delete', item })}>
                        {t('providerKeys.delete')}
                      </Button>
                    ) : null}
                  </div>
                </td>
              ) : null}
            </tr>
          );
        })}
      </DataTable>
      {open?.kind === 'edit' ? <EditProviderKeyDialog providerKey={open.item} onClose={close} /> : null}
      {open?.kind === 'delete' ? <DeleteProviderKeyDialog providerKey={open.item} onClose={close} /> : null}
      {open?.kind === 'revealed' ? <RevealedProviderKeyDialog providerKey={open.item} value={open.value} onClose={close} /> : null}
    </>
  );
}
