import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { TextAreaField, TextField } from '../../../components/ui/field';
import { useFormSubmit } from '../../../lib/use-form-submit';
import { useScopes, type ApiKey, type KeyInput } from '../api';
import { FormActions } from '../../../components/ui/form-actions';

interface FormState {
  name: string;
  description: string;
  expiresAt: string;
  scopes: string[];
  creditsLimit: string;
  refillAmount: string;
  refillInterval: 'day' | 'month';
  rateLimit: string;
  rateWindow: string;
}

function initial(key?: ApiKey): FormState {
  return {
    name: key?.name ?? '',
    description: key?.description ?? '',
    expiresAt: key?.expiresAt ? key.expiresAt.slice(0, 10) : '',
    scopes: key?.scopes ?? [],
    creditsLimit: key?.credits ? String(key.credits.limit) : '',
    refillAmount: key?.credits?.refill ? String(key.credits.refill.amount) : '',
    refillInterval: key?.credits?.refill?.interval ?? 'month',
    rateLimit: key?.rateLimit ? String(key.rateLimit.limit) : '',
    rateWindow: key?.rateLimit ? String(key.rateLimit.windowSeconds) : '60',
  };
}

const isWhole = (s: string) => /^\d+$/.test(s.trim());

/** The fields of a key, for create and edit; validates locally and shows the server's field errors. */
export function KeyForm({ existing, submitLabel, onSubmit, onCancel }: { existing?: ApiKey; submitLabel: string; onSubmit: (input: KeyInput) => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation();
  const scopes = useScopes();
  const [form, setForm] = useState<FormState>(() => initial(existing));
  const [advanced, setAdvanced] = useState(Boolean(existing?.credits || existing?.rateLimit));
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setForm((f) => ({ ...f, [k]: v }));

  function validate(): Record<string, string> {
    const e: Record<string, string> = {};
    if (!form.name.trim()) e.name = t('validation.required');
    else if (form.name.trim().length > 100) e.name = t('validation.tooLong', { max: 100 });
    if (form.description.length > 500) e.description = t('validation.tooLong', { max: 500 });
    if (form.expiresAt && Date.parse(`${form.expiresAt}T23:59:59Z`) <= Date.now()) e.expiresAt = t('validation.future');
    if (form.creditsLimit && !isWhole(form.creditsLimit)) e['credits.limit'] = t('validation.wholeNumber');
    if (form.refillAmount && !isWhole(form.refillAmount)) e['credits.refill.amount'] = t('validation.wholeNumber');
    if (form.refillAmount && !form.creditsLimit) e['credits.limit'] = t('keys.refillNeedsLimit');
    if (form.rateLimit && (!isWhole(form.rateLimit) || Number(form.rateLimit) < 1)) e['rateLimit.limit'] = t('validation.positiveNumber');
    if (form.rateLimit && (!isWhole(form.rateWindow) || Number(form.rateWindow) < 1 || Number(form.rateWindow) > 86400)) e['rateLimit.windowSeconds'] = t('validation.windowRange');
    return e;
  }

  function toInput(): KeyInput {
    const credits = form.creditsLimit
      ? { limit: Number(form.creditsLimit), refill: form.refillAmount ? { amount: Number(form.refillAmount), interval: form.refillInterval } : null }
      : null;
    const rateLimit = form.rateLimit ? { limit: Number(form.rateLimit), windowSeconds: Number(form.rateWindow) } : null;
    const input: KeyInput = {
      name: form.name.trim(),
      description: form.description.trim() ? form.description.trim() : null,
      expiresAt: form.expiresAt ? new Date(`${form.expiresAt}T23:59:59.000Z`).toISOString() : null,
      scopes: form.scopes,
      credits,
      rateLimit,
    };
    return input;
  }

  const { errors, pending, onSubmit: submit } = useFormSubmit({
    validate,
    submit: () => onSubmit(toInput()),
    onFieldErrors: (fields) => {
      if (Object.keys(fields).some((k) => k.startsWith('credits') || k.startsWith('rateLimit'))) setAdvanced(true);
    },
  });

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      <TextField label={t('text-field-label')} value={form.name} error={errors.name} onChange={(e) => set('name', e.target.value)} required maxLength={100} autoFocus />
      <TextAreaField label={t('keys.description')} value={form.description} error={errors.description} onChange={(e) => set('description', e.target.value)} maxLength={500} />
      <TextField label={t('keys.expiry')} type="date" value={form.expiresAt} error={errors.expiresAt} hint={t('keys.expiryHint')} onChange={(e) => set('expiresAt', e.target.value)} />
      <fieldset>
        <legend className="text-sm font-medium text-slate-700">{t('keys.scopes')}</legend>
        <div className="mt-1 flex flex-wrap gap-3">
          {(scopes.data?.data ?? []).map((s) => (
            <label key={s.name} className="inline-flex items-center gap-1.5 text-sm" title={s.description}>
              <input
                type="checkbox"
                className="h-4 w-4 rounded border-slate-300"
                checked={form.scopes.includes(s.name)}
                onChange={(e) => set('scopes', e.target.checked ? [...form.scopes, s.name] : form.scopes.filter((x) => x !== s.name))}
              />
              {s.name}
            </label>
          ))}
        </div>
        {errors.scopes ? <p className="text-xs text-red-600">{errors.scopes}</p> : null}
      </fieldset>
      <div>
        <button type="button" className="text-sm font-medium text-indigo-600 hover:underline" aria-expanded={advanced} onClick={() => setAdvanced(!advanced)}>
          {t('keys.advanced')}
        </button>
        {advanced ? (
          <div className="mt-3 grid grid-cols-1 gap-4 rounded-md bg-slate-50 p-3 sm:grid-cols-2">
            <TextField label={t('keys.creditsLimit')} inputMode="numeric" value={form.creditsLimit} error={errors['credits.limit']} hint={t('keys.creditsHint')} onChange={(e) => set('creditsLimit', e.target.value)} />
            <TextField label={t('keys.refillAmount')} inputMode="numeric" value={form.refillAmount} error={errors['credits.refill.amount']} onChange={(e) => set('refillAmount', e.target.value)} />
            <label className="block text-sm">
              <span className="block font-medium text-slate-700">{t('keys.refillInterval')}</span>
              <select className="mt-1 block w-full rounded-md border-0 py-2 text-sm ring-1 ring-slate-300" value={form.refillInterval} onChange={(e) => set('refillInterval', e.target.value as 'day' | 'month')}>
                <option value="day">{t('keys.daily')}</option>
                <option value="month">{t('keys.monthly')}</option>
              </select>
            </label>
            <div />
            <TextField label={t('keys.rateLimit')} inputMode="numeric" value={form.rateLimit} error={errors['rateLimit.limit']} hint={t('keys.rateLimitHint')} onChange={(e) => set('rateLimit', e.target.value)} />
            <TextField label={t('keys.rateWindow')} inputMode="numeric" value={form.rateWindow} error={errors['rateLimit.windowSeconds']} onChange={(e) => set('rateWindow', e.target.value)} />
          </div>
        ) : null}
      </div>
      <FormActions submitLabel={submitLabel} pending={pending} onCancel={onCancel} />
    </form>
  );
}
