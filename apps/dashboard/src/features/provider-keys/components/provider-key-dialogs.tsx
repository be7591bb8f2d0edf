import { useTranslation } from 'react-i18next';
import { toast } from 'sonner';
import { ConfirmDialog } from '../../../components/ui/confirm-dialog';
import { Modal } from '../../../components/ui/dialog';
import { OneTimeSecret } from '../../../components/ui/one-time-secret';
import { useErrorToast } from '../../../lib/use-api-error';
import { useProviderKeyActions, type ProviderKey } from '../api';
import { ProviderKeyForm } from './provider-key-form';

export function AddProviderKeyDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  const actions = useProviderKeyActions();
  const showError = useErrorToast();
  return (
    <Modal open={open} onOpenChange={onOpenChange} title={t('providerKeys.add')}>
      {/* Mounted only while open, so a closed dialog keeps no typed key. */}
      {open ? (
        <ProviderKeyForm
          submitLabel={t('common.save')}
          onCancel={() => onOpenChange(false)}
          onSubmit={async ({ type, description, key = '' }) => {
            try {
              await actions.create({ type, description, key });
              toast.success(t('providerKeys.createdToast'));
              onOpenChange(false);
            } catch (err) {
              showError(err);
              throw err;
            }
          }}
        />
      ) : null}
    </Modal>
  );
}

export function EditProviderKeyDialog({ providerKey, onClose }: { providerKey: ProviderKey; onClose: () => void }) {
  const { t } = useTranslation();
  const actions = useProviderKeyActions();
  const showError = useErrorToast();
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={t('providerKeys.editTitle', { description: providerKey.description })}>
      <ProviderKeyForm
        existing={providerKey}
        submitLabel={t('common.save')}
        onCancel={onClose}
        onSubmit={async (changes) => {
          try {
            await actions.update(providerKey.id, changes);
            toast.success(t('providerKeys.updatedToast'));
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

export function DeleteProviderKeyDialog({ providerKey, onClose }: { providerKey: ProviderKey; onClose: () => void }) {
  const { t } = useTranslation();
  const actions = useProviderKeyActions();
  const showError = useErrorToast();
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => !o && onClose()}
      title={t('providerKeys.deleteTitle', { description: providerKey.description })}
      description={t('providerKeys.deleteBody')}
      confirmLabel={t('providerKeys.delete')}
      destructive
      onConfirm={async () => {
        try {
          await actions.remove(providerKey.id);
          toast.success(t('providerKeys.deletedToast'));
        } catch (err) {
          showError(err);
          throw err;
        }
      }}
    />
  );
}

/**
 * A revealed credential. The value is a prop held only in the opener's state: closing the
 * dialog drops it, and it is never put in the query cache, storage or the URL.
 */
export function RevealedProviderKeyDialog({ providerKey, value, onClose }: { providerKey: ProviderKey; value: string; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={t('providerKeys.revealTitle', { description: providerKey.description })}>
      <OneTimeSecret value={value} warning={t('providerKeys.revealWarning')} label={t('providerKeys.revealedLabel')} onDone={onClose} />
    </Modal>
  );
}
