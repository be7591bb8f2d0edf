import { useTranslation } from 'react-i18next';
import { Button } from './button';
import { CopyButton } from './copy-button';

/**
 * A secret shown once: a plain warning, the value in monospace, one-click copy, Done. Focus moves
 * to Copy when it appears, since the form that was focused before is gone.
 */
export function OneTimeSecret({ value, warning, label, onDone }: { value: string; warning: string; label: string; onDone: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="space-y-4">
      <div role="alert" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm font-medium text-amber-800">
        {warning}
      </div>
      <div className="flex items-center gap-2">
        <code aria-label={label} className="block min-w-0 flex-1 break-all rounded-md bg-slate-900 px-3 py-2 font-mono text-sm text-slate-50">
          {value}
        </code>
        <CopyButton value={value} autoFocus />
      </div>
      <div className="flex justify-end">
        <Button onClick={onDone}>{t('common.done')}</Button>
      </div>
    </div>
  );
}
