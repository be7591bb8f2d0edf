import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { toast } from 'sonner';
import { Button } from '../../../components/ui/button';
import { TextField } from '../../../components/ui/field';
import { ApiError, currentTeam } from '../../../lib/api';
import { fieldErrors } from '../../../lib/use-api-error';
import { acceptInvitation, login, signup } from '../api';

/** Only same-site paths may be a redirect target. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/keys';
}

function AuthCard({ title, children, footer }: { title: string; children: React.ReactNode; footer: React.ReactNode }) {
  return (
    <div className="rounded-lg bg-white p-8 shadow-sm ring-1 ring-slate-200">
      <h1 className="mb-6 text-xl font-semibold">{title}</h1>
      {children}
      <p className="mt-6 text-center text-sm text-slate-600">{footer}</p>
    </div>
  );
}

export function LoginPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const next = safeNext(params.get('next'));

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    try {
      await login({ email, password });
      queryClient.clear();
      navigate(next, { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t('common.unexpectedError'));
    } finally {
      setPending(false);
    }
  }

  return (
    <AuthCard
      title={t('auth.signInTitle')}
      footer={
        <>
          {t('auth.noAccount')}{' '}
          <Link className="font-medium text-indigo-600 hover:underline" to={`/signup?next=${encodeURIComponent(next)}`}>
            {t('auth.signUp')}
          </Link>
        </>
      }
    >
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        <TextField label={t('auth.email')} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <TextField label={t('auth.password')} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {error ? (
          <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">
            {error}
          </p>
        ) : null}
        <Button type="submit" className="w-full" disabled={pending}>
          {pending ? t('common.working') : t('auth.signIn')}
        </Button>
      </form>
    </AuthCard>
  );
}

export function SignupPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form, setForm] = useState({ name: '', email: '', password: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [pending, setPending] = useState(false);
  const next = safeNext(params.get('next'));

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const local: Record<string, string> = {};
    if (!form.name.trim()) local.name = t('validation.required');
    if (!form.email.trim()) local.email = t('validation.required');
    if (form.password.length < 8) local.password = t('auth.passwordTooShort');
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setPending(true);
    try {
      const result = await signup(form);
      currentTeam.set(result.team.id);
      queryClient.clear();
      toast.success(t('auth.welcome'));
      navigate(next, { replace: true });
    } catch (err) {
      const fields = fieldErrors(err);
      setErrors(fields);
      if (Object.keys(fields).length === 0) toast.error(err instanceof ApiError ? err.message : t('common.unexpectedError'));
    } finally {
      setPending(false);
    }
  }

  return (
    <AuthCard
      title={t('auth.signUpTitle')}
      footer={
        <>
          {t('auth.haveAccount')}{' '}
          <Link className="font-medium text-indigo-600 hover:underline" to={`/login?next=${encodeURIComponent(next)}`}>
            {t('auth.signIn')}
          </Link>
        </>
      }
    >
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        <TextField label={t('auth.name')} autoComplete="name" value={form.name} error={errors.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        <TextField label={t('auth.email')} type="email" autoComplete="email" value={form.email} error={errors.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        <TextField
          label={t('auth.password')}
          type="password"
          autoComplete="new-password"
          value={form.password}
          error={errors.password}
          hint={t('auth.passwordHint')}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <Button type="submit" className="w-full" disabled={pending}>
          {pending ? t('common.working') : t('auth.createAccount')}
        </Button>
      </form>
    </AuthCard>
  );
}

export function AcceptInvitationPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pending, setPending] = useState(false);
  const token = params.get('token') ?? '';

  return (
    <div className="rounded-lg bg-white p-8 shadow-sm ring-1 ring-slate-200">
      <h1 className="text-xl font-semibold">{t('invite.acceptTitle')}</h1>
      <p className="mt-2 text-sm text-slate-600">{t('invite.acceptBody')}</p>
      <Button
        className="mt-6"
        disabled={pending || !token}
        onClick={async () => {
          setPending(true);
          try {
            const result = await acceptInvitation(token);
            currentTeam.set(result.data.id);
            await queryClient.invalidateQueries();
            toast.success(t('invite.joined', { team: result.data.name }));
            navigate('/keys', { replace: true });
          } catch (err) {
            toast.error(err instanceof ApiError ? err.message : t('common.unexpectedError'));
          } finally {
            setPending(false);
          }
        }}
      >
        {t('invite.accept')}
      </Button>
    </div>
  );
}
