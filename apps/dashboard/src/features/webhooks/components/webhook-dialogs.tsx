import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { toast } from 'sonner';
import { ConfirmDialog } from '../../../components/ui/confirm-dialog';
import { Modal } from '../../../components/ui/dialog';
import { OneTimeSecret } from '../../../components/ui/one-time-secret';
import { useErrorToast } from '../../../lib/use-api-error';
import { useWebhookActions, type Webhook } from '../api';
import { WebhookForm } from './webhook-form';

/**
 * Create a webhook, then show its signing secret once. The secret lives only in this
 * component's state (never the query cache, storage or the URL) and is dropped on close.
 */
export function CreateWebhookDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  const actions = useWebhookActions();
  const showError = useErrorToast();
  const [secret, setSecret] = useState<string | null>(null);
  const close = () => {
    setSecret(null);
    onOpenChange(false);
  };
  return (
    <Modal open={open} onOpenChange={(o) => (o ? onOpenChange(true) : close())} title={secret ? t('webhooks.secretTitle') : t('webhooks.createTitle')} modalLock={secret !== null}>
      {secret ? (
        <OneTimeSecret value={secret} warning={t('webhooks.secretWarning')} label={t('webhooks.secretLabel')} onDone={close} />
      ) : open ? (
        <WebhookForm
          submitLabel={t('webhooks.create')}
          onCancel={close}
          onSubmit={async (input) => {
            try {
              const result = await actions.create(input);
              setSecret(result.secret);
              toast.success(t('webhooks.createdToast'));
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

export function EditWebhookDialog({ webhook, onClose }: { webhook: Webhook; onClose: () => void }) {
  const { t } = useTranslation();
  const actions = useWebhookActions();
  const showError = useErrorToast();
  return (
    <Modal open onOpenChange={(o) => !o && onClose()} title={t('webhooks.editTitle')} description={webhook.url}>
      <WebhookForm
        existing={webhook}
        submitLabel={t('common.save')}
        onCancel={onClose}
        onSubmit={async (input) => {
          // Only what changed, so an edit of the events never re-checks an unchanged URL.
          const changes: Partial<typeof input> = {};
          if (input.url !== webhook.url) changes.url = input.url;
          if (input.events.join() !== webhook.events.join()) changes.events = input.events;
          if (input.enabled !== webhook.enabled) changes.enabled = input.enabled;
          try {
            if (Object.keys(changes).length > 0) await actions.update(webhook.id, changes);
            toast.success(t('webhooks.updatedToast'));
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

export function DeleteWebhookDialog({ webhook, onClose, onDeleted }: { webhook: Webhook; onClose: () => void; onDeleted?: () => void }) {
  const { t } = useTranslation();
  const actions = useWebhookActions();
  const showError = useErrorToast();
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => !o && onClose()}
      title={t('webhooks.deleteTitle')}
      description={t('webhooks.deleteBody', { url: webhook.url })}
      confirmLabel={t('webhooks.delete')}
      destructive
      onConfirm={async () => {
        try {
          await actions.remove(webhook.id);
          toast.success(t('webhooks.deletedToast'));
          onDeleted?.();
        } catch (err) {
          showError(err);
          throw err;
        }
      }}
    />
  );
}
