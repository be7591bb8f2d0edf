import { useTranslation } from 'react-i18next';
import type { DeliveryStatus } from '../api';

const BADGE = 'inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset';

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  const { t } = useTranslation();
  return <span className={`${BADGE} ${enabled ? 'bg-green-50 text-green-700 ring-green-600/20' : 'bg-slate-100 text-slate-600 ring-slate-500/20'}`}>{enabled ? t('webhooks.enabled') : t('webhooks.disabled')}</span>;
}

const DELIVERY_STYLE: Record<DeliveryStatus, string> = {
  pending: 'bg-amber-50 text-amber-800 ring-amber-600/30',
  delivered: 'bg-green-50 text-green-700 ring-green-600/20',
  failed: 'bg-red-50 text-red-700 ring-red-600/20',
};

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  const { t } = useTranslation();
  return <span className={`${BADGE} ${DELIVERY_STYLE[status]}`}>{t(`webhooks.deliveryStatus.${status}`)}</span>;
}
