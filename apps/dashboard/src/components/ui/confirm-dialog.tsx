import { AlertDialog as A } from 'radix-ui';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from './button';

export interface ConfirmDialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  destructive?: boolean;
  /** Runs on confirm; the dialog closes when it resolves and stays open (for a retry) if it throws. */
  onConfirm: () => Promise<void>;
  /** Close when onConfirm resolves (default); false when the caller shows a next step instead. */
  closeOnConfirm?: boolean;
  children?: ReactNode;
}

/** A confirmation before a destructive or important action. */
export function ConfirmDialog({ open, onOpenChange, title, description, confirmLabel, destructive = false, onConfirm, closeOnConfirm = true, children }: ConfirmDialogProps) {
  const { t } = useTranslation();
  const [pending, setPending] = useState(false);
  return (
    <A.Root open={open} onOpenChange={(o) => !pending && onOpenChange(o)}>
      <A.Portal>
        <A.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <A.Content className="fixed left-1/2 top-1/2 z-50 w-[calc(100vw-2rem)] max-w-md -translate-x-1/2 -translate-y-1/2 rounded-lg bg-white p-6 shadow-xl">
          <A.Title className="text-lg font-semibold">{title}</A.Title>
          <A.Description className="mt-2 text-sm text-slate-600">{description}</A.Description>
          {children ? <div className="mt-4">{children}</div> : null}
          <div className="mt-6 flex justify-end gap-2">
            <A.Cancel asChild>
              <Button variant="secondary" disabled={pending}>
                {t('common.cancel')}
              </Button>
            </A.Cancel>
            <Button
              variant={destructive ? 'danger' : 'primary'}
              disabled={pending}
              onClick={async () => {
                setPending(true);
                try {
                  await onConfirm();
                  if (closeOnConfirm) onOpenChange(false);
                } catch {
                  // The caller shows the error; the dialog stays open for another try.
                } finally {
                  setPending(false);
                }
              }}
            >
              {pending ? t('common.working') : confirmLabel}
            </Button>
          </div>
        </A.Content>
      </A.Portal>
    </A.Root>
  );
}
