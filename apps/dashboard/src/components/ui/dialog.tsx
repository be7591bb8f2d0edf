import { Dialog as D } from 'radix-ui';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export interface ModalProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: string;
  children: ReactNode;
  /** Keeps the dialog open on outside clicks (e.g. while a one-time secret is shown). */
  modalLock?: boolean;
}

/** An accessible modal dialog: focus is trapped inside, Escape closes it. */
export function Modal({ open, onOpenChange, title, description, children, modalLock = false }: ModalProps) {
  const { t } = useTranslation();
  return (
    <D.Root open={open} onOpenChange={onOpenChange}>
      <D.Portal>
        <D.Overlay className="fixed inset-0 z-40 bg-slate-900/40" />
        <D.Content
          className="fixed left-1/2 top-1/2 z-50 max-h-[90vh] w-[calc(100vw-2rem)] max-w-lg -translate-x-1/2 -translate-y-1/2 overflow-y-auto rounded-lg bg-white p-6 shadow-xl"
          onPointerDownOutside={(e) => {
            if (modalLock) e.preventDefault();
          }}
          {...(description ? {} : { 'aria-describedby': undefined })}
        >
          <D.Title className="text-lg font-semibold text-slate-900">{title}</D.Title>
          {description ? <D.Description className="mt-1 text-sm text-slate-500">{description}</D.Description> : null}
          <div className="mt-4">{children}</div>
          <D.Close className="absolute right-3 top-3 rounded p-1 text-slate-400 hover:text-slate-600" aria-label={t('common.close')}>
            <span aria-hidden="true">✕</span>
          </D.Close>
        </D.Content>
      </D.Portal>
    </D.Root>
  );
}
