import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { toast } from 'sonner';
import { useEventLabel } from '../../../components/alert-list';
import { Button } from '../../../components/ui/button';
import { TextField } from '../../../components/ui/field';
import { EmptyState, PageHeader, Skeleton } from '../../../components/ui/misc';
import { formatNumber } from '../../../lib/format';
import { usePermission } from '../../../lib/session';
import { useErrorToast } from '../../../lib/use-api-error';
import { useFormSubmit } from '../../../lib/use-form-submit';
import { RULE_FIELDS, useAlertSettings, useAlertSettingsActions, type AlertRules, type AlertRuleType } from '../api';

type NumberField = 'factor' | 'minCalls' | 'percent' | 'days';
/** The form's state: numbers as typed, so a half-typed value is not lost or coerced. */
type Draft = Record<AlertRuleType, { enabled: boolean } & Partial<Record<NumberField, string>>>;

function toDraft(rules: AlertRules): Draft {
  const draft = {} as Draft;
  for (const { type, fields } of RULE_FIELDS) {
    const rule = (rules[type] ?? { enabled: false }) as { enabled: boolean } & Partial<Record<NumberField, number>>;
    draft[type] = { enabled: rule.enabled };
    for (const f of fields) draft[type][f] = rule[f] === undefined ? '' : String(rule[f]);
  }
  return draft;
}

/** What each number accepts, as the server checks it (ALERT_SETTING_LIMITS); factor and percent may have decimals. */
function limitsOf(type: AlertRuleType, field: NumberField): { min: number; max: number; whole: boolean } {
  if (field === 'factor') return { min: 1, max: 1000, whole: false };
  if (field === 'minCalls') return { min: 1, max: 1_000_000_000, whole: true };
  if (field === 'percent') return { min: 1, max: 99, whole: false };
  return type === 'key.expiring_soon' ? { min: 1, max: 365, whole: true } : { min: 1, max: 3650, whole: true };
}

function SettingsForm({ rules, canManage }: { rules: AlertRules; canManage: boolean }) {
  const { t, i18n } = useTranslation();
  const label = useEventLabel();
  const actions = useAlertSettingsActions();
  const showError = useErrorToast();
  const [draft, setDraft] = useState<Draft>(() => toDraft(rules));

  function validate(): Record<string, string> {
    const errors: Record<string, string> = {};
    for (const { type, fields } of RULE_FIELDS) {
      for (const f of fields) {
        const raw = (draft[type][f] ?? '').trim();
        const limits = limitsOf(type, f);
        const n = Number(raw.replace(',', '.'));
        const range = t('validation.range', { min: formatNumber(limits.min, i18n.language), max: formatNumber(limits.max, i18n.language) });
        if (raw === '') errors[`${type}.${f}`] = t('validation.required');
        else if (!Number.isFinite(n) || (limits.whole && !Number.isInteger(n))) errors[`${type}.${f}`] = limits.whole ? t('validation.wholeNumber') : t('validation.number');
        else if (n < limits.min || n > limits.max) errors[`${type}.${f}`] = range;
      }
    }
    return errors;
  }

  function toRules(): AlertRules {
    const out: Record<string, Record<string, unknown>> = {};
    for (const { type, fields } of RULE_FIELDS) {
      out[type] = { enabled: draft[type].enabled };
      // A German decimal comma ("2,5") is the same number as "2.5".
      for (const f of fields) out[type][f] = Number((draft[type][f] ?? '').trim().replace(',', '.'));
    }
    return out as unknown as AlertRules;
  }

  const { errors, setErrors, pending, onSubmit } = useFormSubmit({
    validate,
    submit: async () => {
      try {
        await actions.save(toRules());
        toast.success(t('alerts.settings.saved'));
      } catch (err) {
        showError(err);
        throw err;
      }
    },
  });
  // The server names fields from the body's root ("rules.key.unused.days"); the form keys them by rule.
  const errorOf = (type: string, field: string) => errors[`${type}.${field}`] ?? errors[`rules.${type}.${field}`];

  const change = (type: AlertRuleType, field: 'enabled' | NumberField, value: boolean | string) => {
    setDraft((d) => ({ ...d, [type]: { ...d[type], [field]: value } }));
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== `${type}.${field}` && k !== `rules.${type}.${field}`)));
  };

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      {RULE_FIELDS.map(({ type, fields }) => (
        <fieldset key={type} className="rounded-lg bg-white p-4 shadow-sm ring-1 ring-slate-200" disabled={!canManage}>
          <legend className="sr-only">{label(type)}</legend>
          <label className="flex items-start gap-3">
            <input
              type="checkbox"
              className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600"
              checked={draft[type].enabled}
              onChange={(e) => change(type, 'enabled', e.target.checked)}
              aria-describedby={`rule-${type}-help`}
            />
            <span>
              <span className="block text-sm font-semibold text-slate-900">{label(type)}</span>
              {/* Read as the checkbox's description, not as part of its name. */}
              <span id={`rule-${type}-help`} aria-hidden="true" className="block text-sm text-slate-500">
                {t(`alerts.settings.help.${type}`)}
              </span>
            </span>
          </label>
          {fields.length > 0 ? (
            <div className="mt-3 grid gap-3 pl-7 sm:grid-cols-2">
              {fields.map((f) => (
                <TextField
                  key={f}
                  label={t(`alerts.settings.fields.${f}`)}
                  hint={t(`alerts.settings.hints.${f}`)}
                  inputMode={limitsOf(type, f).whole ? 'numeric' : 'decimal'}
                  value={draft[type][f] ?? ''}
                  error={errorOf(type, f)}
                  onChange={(e) => change(type, f, e.target.value)}
                />
              ))}
            </div>
          ) : null}
        </fieldset>
      ))}
      {canManage ? (
        <div className="flex justify-end">
          <Button type="submit" disabled={pending}>
            {pending ? t('common.working') : t('common.save')}
          </Button>
        </div>
      ) : null}
    </form>
  );
}

/** When each alert fires. Everyone may read the rules; owners and admins change them. */
export function AlertSettingsPage() {
  const { t } = useTranslation();
  const canManage = usePermission('members.manage');
  const settings = useAlertSettings();
  return (
    <section className="max-w-3xl">
      <Link to="/alerts" className="text-sm text-indigo-600 hover:underline">
        ← {t('alerts.backToAlerts')}
      </Link>
      <div className="mt-2">
        <PageHeader title={t('alerts.settings.title')} description={t('alerts.settings.subtitle')} />
      </div>
      {!canManage ? (
        <p role="note" className="mb-4 rounded-md bg-slate-100 px-3 py-2 text-sm text-slate-700">
          {t('alerts.settings.readOnly')}
        </p>
      ) : null}
      {settings.isPending ? (
        <div aria-busy="true" aria-label={t('common.loading')} className="space-y-2">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} className="h-20 w-full" />
          ))}
        </div>
      ) : settings.isError ? (
        <EmptyState title={t('alerts.settings.loadFailedTitle')} body={settings.error.message} action={<Button variant="secondary" onClick={() => void settings.refetch()}>{t('common.retry')}</Button>} />
      ) : (
        <SettingsForm rules={settings.data.rules} canManage={canManage} />
      )}
    </section>
  );
}
