import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from './button';

export type KeyStatus = 'active' | 'inactive' | 'expired' | 'revoked';

const STATUS_STYLE: Record<KeyStatus, string> = {
  active: 'bg-green-50 text-green-700 ring-green-600/20',
  inactive: 'bg-slate-100 text-slate-600 ring-slate-500/20',
  expired: 'bg-amber-50 text-amber-700 ring-amber-600/20',
  revoked: 'bg-red-50 text-red-700 ring-red-600/20',
};

export function StatusBadge({ status }: { status: KeyStatus }) {
  const { t } = useTranslation();
  return <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STATUS_STYLE[status]}`}>{t(`status.${status}`)}</span>;
}

export function Skeleton({ className = '' }: { className?: string }) {
  return <div aria-hidden="true" className={`animate-pulse rounded bg-slate-200 ${className}`} />;
}

export function EmptyState({ title, body, action }: { title: string; body: string; action?: ReactNode }) {
  return (
    <div className="rounded-lg border-2 border-dashed border-slate-200 px-6 py-12 text-center">
      <h3 className="text-sm font-semibold text-slate-900">{title}</h3>
      <p className="mt-1 text-sm text-slate-500">{body}</p>
      {action ? <div className="mt-4">{action}</div> : null}
    </div>
  );
}

/** Previous / Next, each disabled at its end. */
export function Pager({ onPrev, onNext, hasPrev, hasNext, summary }: { onPrev: () => void; onNext: () => void; hasPrev: boolean; hasNext: boolean; summary: string }) {
  const { t } = useTranslation();
  return (
    <nav className="flex items-center justify-between gap-2 py-3" aria-label={t('common.pagination')}>
      <p className="text-sm text-slate-600">{summary}</p>
      <div className="flex gap-2">
        <Button variant="secondary" size="sm" onClick={onPrev} disabled={!hasPrev}>
          {t('common.previous')}
        </Button>
        <Button variant="secondary" size="sm" onClick={onNext} disabled={!hasNext}>
          {t('common.next')}
        </Button>
      </div>
    </nav>
  );
}

export function PageHeader({ title, description, actions }: { title: string; description?: string; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
        {description ? <p className="mt-1 text-sm text-slate-500">{description}</p> : null}
      </div>
      {actions ? <div className="flex gap-2">{actions}</div> : null}
    </div>
  );
}

/** A control a role may not use: disabled, with the reason as its description. */
export function DisabledReason({ reason, children }: { reason: string; children: ReactNode }) {
  return (
    <span title={reason} className="inline-flex">
      {children}
      <span className="sr-only">{reason}</span>
    </span>
  );
}
