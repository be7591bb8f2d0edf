import { DropdownMenu, Tooltip } from 'radix-ui';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { toast } from 'sonner';
import { ConfirmDialog } from '../../../components/ui/confirm-dialog';
import { SortHeader } from '../../../components/ui/data-table';
import { StatusBadge } from '../../../components/ui/misc';
import { formatDate, formatNumber, relativeTime } from '../../../lib/format';
import { useErrorToast } from '../../../lib/use-api-error';
import { useKeyActions, type ApiKey } from '../api';
import { EditKeyDialog, RegenerateDialog } from './key-dialogs';

type Dialog = 'edit' | 'regenerate' | 'revoke' | 'delete' | null;

function RowActions({ apiKey, canWrite }: { apiKey: ApiKey; canWrite: boolean }) {
  const { t } = useTranslation();
  const actions = useKeyActions();
  const showError = useErrorToast();
  const [dialog, setDialog] = useState<Dialog>(null);
  const revoked = apiKey.status === 'revoked';
  const enabled = apiKey.status !== 'inactive';

  async function toggle() {
    try {
      await actions.update(apiKey.id, { enabled: !enabled });
      toast.success(enabled ? t('keys.deactivated') : t('keys.activated'));
    } catch (err) {
      showError(err);
    }
  }

  const item = 'cursor-pointer rounded px-2 py-1.5 text-sm outline-none data-[highlighted]:bg-slate-100 data-[disabled]:cursor-not-allowed data-[disabled]:text-slate-300';
  return (
    <>
      <DropdownMenu.Root modal={false}>
        <DropdownMenu.Trigger className="rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100" aria-label={t('keys.actionsFor', { name: apiKey.name })}>
          <span aria-hidden="true">⋯</span>
        </DropdownMenu.Trigger>
        <DropdownMenu.Portal>
          <DropdownMenu.Content align="end" className="z-30 min-w-44 rounded-md bg-white p-1 shadow-lg ring-1 ring-slate-200">
            <DropdownMenu.Item className={item} asChild>
              <Link to={`/keys/${apiKey.id}`}>{t('keys.viewDetails')}</Link>
            </DropdownMenu.Item>
            {canWrite && !revoked ? (
              <>
                <DropdownMenu.Item className={item} onSelect={() => void toggle()}>
                  {enabled ? t('keys.deactivate') : t('keys.activate')}
                </DropdownMenu.Item>
                <DropdownMenu.Item className={item} onSelect={() => setDialog('edit')}>
                  {t('keys.edit')}
                </DropdownMenu.Item>
                <DropdownMenu.Item className={item} onSelect={() => setDialog('regenerate')}>
                  {t('regenerate-button-text')}
                </DropdownMenu.Item>
                <DropdownMenu.Separator className="my-1 h-px bg-slate-200" />
                <DropdownMenu.Item className={`${item} text-red-600`} onSelect={() => setDialog('revoke')}>
                  {t('keys.revoke')}
                </DropdownMenu.Item>
              </>
            ) : null}
            {canWrite && revoked ? (
              <DropdownMenu.Item className={`${item} text-red-600`} onSelect={() => setDialog('delete')}>
                {t('keys.deletePermanently')}
              </DropdownMenu.Item>
            ) : null}
          </DropdownMenu.Content>
        </DropdownMenu.Portal>
      </DropdownMenu.Root>
      {dialog === 'edit' ? <EditKeyDialog apiKey={apiKey} onClose={() => setDialog(null)} /> : null}
      {dialog === 'regenerate' ? <RegenerateDialog apiKey={apiKey} onClose={() => setDialog(null)} /> : null}
      <ConfirmDialog
        open={dialog === 'revoke'}
        onOpenChange={(o) => !o && setDialog(null)}
        title={t('keys.revokeTitle', { name: apiKey.name })}
        description={t('keys.revokeBody')}
        confirmLabel={t('keys.revoke')}
        destructive
        onConfirm={async () => {
          try {
            await actions.revoke(apiKey.id);
            toast.success(t('keys.revoked'));
          } catch (err) {
            showError(err);
            throw err;
          }
        }}
      />
      <ConfirmDialog
        open={dialog === 'delete'}
        onOpenChange={(o) => !o && setDialog(null)}
        title={t('keys.deleteTitle', { name: apiKey.name })}
        description={t('keys.deleteBody')}
        confirmLabel={t('keys.deletePermanently')}
        destructive
        onConfirm={async () => {
          try {
            await actions.purge(apiKey.id);
            toast.success(t('keys.deleted'));
          } catch (err) {
            showError(err);
            throw err;
          }
        }}
      />
    </>
  );
}

export type SortField = 'name' | 'createdAt' | 'lastUsedAt';

/** The keys of a team: name, prefix, dates, calls, credits, expiry, status, actions. */
export function KeyTable({ keys, sort, onSort, canWrite }: { keys: ApiKey[]; sort: string; onSort: (s: string) => void; canWrite: boolean }) {
  const { t, i18n } = useTranslation();
  const locale = i18n.language;
  return (
    <div className="relative overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-600">
          <tr>
            <SortHeader field="name" label={t('keys.name')} sort={sort} onSort={onSort} />
            <th scope="col" className="px-3 py-2 text-left font-semibold">
              {t('keys.key')}
            </th>
            <SortHeader field="createdAt" label={t('keys.created')} sort={sort} onSort={onSort} />
            <SortHeader field="lastUsedAt" label={t('keys.lastUsed')} sort={sort} onSort={onSort} />
            <th scope="col" className="px-3 py-2 text-right font-semibold">
              {t('keys.calls')}
            </th>
            <th scope="col" className="px-3 py-2 text-left font-semibold">
              {t('keys.credits')}
            </th>
            <th scope="col" className="px-3 py-2 text-left font-semibold">
              {t('keys.expires')}
            </th>
            <th scope="col" className="px-3 py-2 text-left font-semibold">
              {t('keys.status')}
            </th>
            <th scope="col" className="px-3 py-2">
              <span className="sr-only">{t('keys.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {keys.map((k) => {
            const revoked = k.status === 'revoked';
            return (
              <tr key={k.id} className={revoked ? 'text-slate-400' : ''} data-status={k.status}>
                <td className="px-3 py-2 font-medium">
                  <Tooltip.Root>
                    <Tooltip.Trigger asChild>
                      <Link to={`/keys/${k.id}`} className={`inline-block hover:underline ${revoked ? 'line-through' : ''}`}>
                        {revoked ? <span className="sr-only">{t('status.revoked')}: </span> : null}
                        {k.name}
                      </Link>
                    </Tooltip.Trigger>
                    <Tooltip.Portal>
                      <Tooltip.Content className="z-50 max-w-xs rounded bg-slate-900 px-2 py-1 text-xs text-white" sideOffset={4}>
                        {k.description || t('keys.noDescription')}
                      </Tooltip.Content>
                    </Tooltip.Portal>
                  </Tooltip.Root>
                </td>
                <td className={`px-3 py-2 font-mono text-xs ${revoked ? 'line-through' : ''}`}>{k.prefix}…</td>
                <td className="whitespace-nowrap px-3 py-2">{formatDate(k.createdAt, locale)}</td>
                <td className="whitespace-nowrap px-3 py-2">{k.lastUsedAt ? relativeTime(k.lastUsedAt, locale) : t('keys.never')}</td>
                <td className="px-3 py-2 text-right tabular-nums">{formatNumber(k.usageCount, locale)}</td>
                <td className="whitespace-nowrap px-3 py-2 tabular-nums">
                  {k.credits ? `${formatNumber(k.credits.remaining, locale)} / ${formatNumber(k.credits.limit, locale)}` : t('keys.unlimited')}
                </td>
                <td className="whitespace-nowrap px-3 py-2">{k.expiresAt ? formatDate(k.expiresAt, locale) : t('keys.never')}</td>
                <td className="px-3 py-2">
                  <StatusBadge status={k.status} />
                </td>
                <td className="px-3 py-2 text-right">
                  <RowActions apiKey={k} canWrite={canWrite} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
