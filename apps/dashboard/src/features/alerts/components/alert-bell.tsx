import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import { ApiError } from '../../../lib/api';
import { useUnreadAlertCount } from '../../../lib/alerts';
import { formatNumber } from '../../../lib/format';

function BellIcon() {
  return (
    <svg aria-hidden="true" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" className="h-5 w-5">
      <path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  );
}

/**
 * The header's bell: a link to the Alerts page whose name carries the unread count ("Alerts,
 * 1 unread"); a polite live region announces the count when it changes. Hidden for a team whose
 * alerts this person cannot read.
 */
export function AlertBell() {
  const { t, i18n } = useTranslation();
  const unread = useUnreadAlertCount();
  if (unread.error instanceof ApiError && (unread.error.status === 403 || unread.error.status === 404)) return null;
  const count = unread.data;
  const label = count === undefined ? t('alerts.bell') : count === 0 ? t('alerts.bellNone') : t('alerts.bellCount', { count, formatted: formatNumber(count, i18n.language) });
  return (
    <>
      <NavLink
        to="/alerts"
        end
        aria-label={label}
        title={label}
        className={({ isActive }) => `relative inline-flex h-9 w-9 items-center justify-center rounded-md ${isActive ? 'bg-indigo-50 text-indigo-700' : 'text-slate-600 hover:bg-slate-100'}`}
      >
        <BellIcon />
        {count !== undefined && count > 0 ? (
          <span aria-hidden="true" className="absolute -right-1 -top-1 min-w-5 rounded-full bg-red-600 px-1 text-center text-[11px] font-semibold leading-5 text-white">
            {count > 99 ? '99+' : count}
          </span>
        ) : null}
      </NavLink>
      <span className="sr-only" role="status" aria-live="polite">
        {count !== undefined && count > 0 ? t('alerts.liveCount', { count, formatted: formatNumber(count, i18n.language) }) : ''}
      </span>
    </>
  );
}
