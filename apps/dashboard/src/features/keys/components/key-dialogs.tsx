import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { toast } from 'sonner';
import { ConfirmDialog } from '../../../components/ui/confirm-dialog';
import { Modal } from '../../../components/ui/dialog';
import { SelectField } from '../../../components/ui/field';
import { useErrorToast } from '../../../lib/use-api-error';
import { useKeyActions, type ApiKey } from '../api';
import { KeyForm } from './key-form';
import { OneTimeKeyView } from './one-time-key';

/**
 * Create a key, then show it once. The raw key lives only in this component's state and is
 * dropped when the dialog closes.
 */
export function CreateKeyDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  const actions = useKeyActions();
  const showError = useErrorToast();
  const [rawKey, setRawKey] = useState<string | null>(null);
  const close = () => {
    setRawKey(null);
    onOpenChange(false);
  };
  return (
    <Modal open={open} onOpenChange={(o) => (o ? onOpenChange(true) : close())} title={rawKey ? t('keys.saveYourKey') : t('generate-key-text')} modalLock={rawKey !== null}>
      {rawKey ? (
        <OneTimeKeyView rawKey={rawKey} onDone={close} />
      ) : (
        <KeyForm
          submitLabel={t('keys.create')}
          onCancel={close}
          onSubmit={async (input) => {
            try {
              const result = await actions.create(input);
              setRawKey(result.rawKey);
              toast.success(t('keys.created_toast'));
            } catch (err) {
              showError(err);
              throw err;
            }
          }}
        />
      )}
    </Modal>
  );
}

export function EditKeyDialog({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const { t } = useTranslation();
  const actions = useKeyActions();
  const showError = useErrorToast();
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={t('keys.editTitle', { name: apiKey.name })}>
      <KeyForm
        existing={apiKey}
        submitLabel={t('common.save')}
        onCancel={onClose}
        onSubmit={async (input) => {
          try {
            await actions.update(apiKey.id, input);
            toast.success(t('keys.updated'));
            onClose();
          } catch (err) {
            showError(err);
            throw err;
          }
        }}
      />
    </Modal>
  );
}

const GRACE_OPTIONS = [0, 3600, 86400, 7 * 86400];

/** Regenerate: confirm (with an optional grace period for the old secret), then the one-time view. */
export function RegenerateDialog({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const { t } = useTranslation();
  const actions = useKeyActions();
  const showError = useErrorToast();
  const [grace, setGrace] = useState(0);
  const [rawKey, setRawKey] = useState<string | null>(null);
  if (rawKey) {
    return (
      <Modal open onOpenChange={(o) => !o && onClose()} title={t('keys.saveYourKey')} modalLock>
        <OneTimeKeyView rawKey={rawKey} onDone={onClose} />
      </Modal>
    );
  }
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => !o && onClose()}
      title={t('keys.regenerateTitle', { name: apiKey.name })}
      description={t('keys.regenerateBody')}
      confirmLabel={t('regenerate-button-text')}
      closeOnConfirm={false}
      onConfirm={async () => {
        try {
          const result = await actions.regenerate(apiKey.id, grace);
          toast.success(t('keys.regenerated'));
          setRawKey(result.rawKey);
        } catch (err) {
          showError(err);
          throw err;
        }
      }}
    >
      <SelectField label={t('keys.oldKeyValidFor')} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
        {GRACE_OPTIONS.map((g) => (
          <option key={g} value={g}>
            {t(`keys.grace.${g}`)}
          </option>
        ))}
      </SelectField>
    </ConfirmDialog>
  );
}
