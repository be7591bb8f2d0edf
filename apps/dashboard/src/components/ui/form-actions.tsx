import { useTranslation } from 'react-i18next';
import { Button } from './button';

/** A form's Cancel and submit buttons; both wait while the submit is pending. */
export function FormActions({ submitLabel, pending, onCancel, className = 'pt-2' }: { submitLabel: string; pending: boolean; onCancel: () => void; className?: string }) {
  const { t } = useTranslation();
  return (
    <div className={`flex justify-end gap-2 ${className}`}>
      <Button variant="secondary" onClick={onCancel} disabled={pending}>
        {t('common.cancel')}
      </Button>
      <Button type="submit" disabled={pending}>
        {pending ? t('common.working') : submitLabel}
      </Button>
    </div>
  );
}
