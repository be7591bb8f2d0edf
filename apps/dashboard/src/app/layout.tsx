import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Navigate, Outlet, useLocation, useNavigate } from 'react-router';
import { toast } from 'sonner';
import { api, currentTeam, setUnauthenticatedHandler } from '../lib/api';
import { activeTeam, useMe } from '../lib/session';
import { LANGUAGES } from '../i18n';
import { Skeleton } from '../components/ui/misc';
import { AlertBell } from '../features/alerts/components/alert-bell';

function LanguageSwitcher() {
  const { t, i18n } = useTranslation();
  return (
    <label className="flex items-center gap-1 text-sm text-slate-600">
      <span className="sr-only">{t('nav.language')}</span>
      <select className="rounded-md border-0 bg-transparent py-1 text-sm ring-1 ring-slate-300" value={i18n.language} onChange={(e) => void i18n.changeLanguage(e.target.value)} aria-label={t('nav.language')}>
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code}>
            {l.label}
          </option>
        ))}
      </select>
    </label>
  );
}

export function PublicShell() {
  return (
    <div className="min-h-screen">
      <header className="flex items-center justify-between px-6 py-4">
        <span className="text-lg font-semibold text-indigo-700">Keysmith</span>
        <LanguageSwitcher />
      </header>
      <main className="mx-auto max-w-md px-4 py-8">
        <Outlet />
      </main>
    </div>
  );
}

/** The signed-in frame: navigation, team switcher, language, sign out. Sends others to sign in. */
export function AppShell() {
  const { t } = useTranslation();
  const me = useMe();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      queryClient.clear();
      navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    });
  }, [navigate, location, queryClient]);

  if (me.isPending) {
    return (
      <div className="p-8" aria-busy="true" aria-label={t('common.loading')}>
        <Skeleton className="h-8 w-48" />
        <Skeleton className="mt-6 h-64 w-full" />
      </div>
    );
  }
  if (me.isError || !me.data?.user) return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;

  const team = activeTeam(me.data);
  const links = [
    { to: '/keys', label: t('nav.keys'), show: true },
    { to: '/team/provider-keys', label: t('nav.providerKeys'), show: team?.permissions.includes('provider_keys.read') ?? false },
    { to: '/team/members', label: t('nav.members'), show: true },
    { to: '/team/usage', label: t('nav.usage'), show: true },
    { to: '/team/audit', label: t('nav.audit'), show: team?.permissions.includes('audit.read') ?? false },
    { to: '/team/webhooks', label: t('nav.webhooks'), show: team?.permissions.includes('members.manage') ?? false },
  ];

  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3">
          <span className="text-lg font-semibold text-indigo-700">Keysmith</span>
          <nav aria-label={t('nav.main')} className="flex flex-wrap gap-1">
            {links
              .filter((l) => l.show)
              .map((l) => (
                <NavLink key={l.to} to={l.to} className={({ isActive }) => `rounded-md px-3 py-1.5 text-sm font-medium ${isActive ? 'bg-indigo-50 text-indigo-700' : 'text-slate-600 hover:bg-slate-100'}`}>
                  {l.label}
                </NavLink>
              ))}
          </nav>
          <div className="ml-auto flex flex-wrap items-center gap-3">
            <AlertBell key={team?.id} />
            <label className="flex items-center gap-1 text-sm">
              <span className="text-slate-500">{t('nav.team')}</span>
              <select
                aria-label={t('nav.team')}
                className="rounded-md border-0 py-1 text-sm ring-1 ring-slate-300"
                value={team?.id ?? ''}
                onChange={(e) => {
                  currentTeam.set(e.target.value);
                  // Everything shown belongs to the old team: drop it all and reload for the new one.
                  queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
                  void queryClient.invalidateQueries({ queryKey: ['me'] });
                  navigate('/keys');
                }}
              >
                {me.data.teams.map((tm) => (
                  <option key={tm.id} value={tm.id}>
                    {tm.name}
                  </option>
                ))}
              </select>
            </label>
            <LanguageSwitcher />
            <span className="hidden text-sm text-slate-500 sm:inline">{me.data.user?.email}</span>
            <button
              type="button"
              className="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100"
              onClick={async () => {
                try {
                  await api('POST', '/api/v1/auth/logout', undefined, { team: false });
                } catch {
                  toast.error(t('auth.signOutFailed'));
                  return;
                }
                queryClient.clear();
                navigate('/login', { replace: true });
              }}
            >
              {t('nav.signOut')}
            </button>
          </div>
        </div>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-8">
        <Outlet key={team?.id} />
      </main>
    </div>
  );
}
