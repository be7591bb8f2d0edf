import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { SelectField, TextField } from '../../../components/ui/field';
import { useFormSubmit } from '../../../lib/use-form-submit';
import { useProviderKeyTypes, type ProviderKey } from '../api';
import { TypeOptions } from './type-options';
import { FormActions } from '../../../components/ui/form-actions';

const DESCRIPTION_MAX = 200;
const KEY_MAX = 4096;

/** What the form submits: `key` is left out when the field is empty (on edit: keep the stored key). */
export interface ProviderKeyFormValues {
  type: string;
  description: string;
  key?: string;
}

interface FormState {
  type: string;
  description: string;
  key: string;
}

/**
 * Type, description and key of a credential, for add and edit. On edit an empty key means
 * "keep the stored one", so no `key` is sent. Validates locally, then shows the server's
 * field errors (`details`) beside their fields.
 */
export function ProviderKeyForm({ existing, submitLabel, onSubmit, onCancel }: { existing?: ProviderKey; submitLabel: string; onSubmit: (values: ProviderKeyFormValues) => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation();
  const types = useProviderKeyTypes();
  const [form, setForm] = useState<FormState>({ type: existing?.type ?? '', description: existing?.description ?? '', key: '' });
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    // A field's error goes once it is changed; the others stay until the next submit.
    setErrors((e) => (k in e ? Object.fromEntries(Object.entries(e).filter(([path]) => path !== k)) : e));
  };
  const editing = existing !== undefined;

  // Pasted secrets often carry a stray space or line break; no provider's key has one at its ends.
  const key = form.key.trim();
  const description = form.description.trim();

  function validate(): Record<string, string> {
    const e: Record<string, string> = {};
    if (!form.type) e.type = t('validation.required');
    if (!description) e.description = t('validation.required');
    else if (description.length > DESCRIPTION_MAX) e.description = t('validation.tooLong', { max: DESCRIPTION_MAX });
    if (!key && !editing) e.key = t('validation.required');
    else if (key.length > KEY_MAX) e.key = t('validation.tooLong', { max: KEY_MAX });
    return e;
  }

  const { errors, setErrors, pending, onSubmit: submit } = useFormSubmit({
    validate,
    submit: () => onSubmit(key ? { type: form.type, description, key } : { type: form.type, description }),
  });

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      <SelectField label={t('providerKeys.type')} value={form.type} error={errors.type} onChange={(e) => set('type', e.target.value)} required disabled={types.isPending}>
        <option value="">{t('providerKeys.chooseType')}</option>
        <TypeOptions types={types.data?.data ?? []} />
      </SelectField>
      <TextField label={t('providerKeys.description')} value={form.description} error={errors.description} onChange={(e) => set('description', e.target.value)} required autoFocus />
      <TextField
        label={t('providerKeys.key')}
        type="password"
        value={form.key}
        error={errors.key}
        hint={editing ? t('providerKeys.keyHintEdit') : t('providerKeys.keyHintCreate')}
        onChange={(e) => set('key', e.target.value)}
        required={!editing}
        // Not the browser's saved sign-in password: that must never be filled in here.
        autoComplete="new-password"
        spellCheck={false}
        className="font-mono"
      />
      <FormActions submitLabel={submitLabel} pending={pending} onCancel={onCancel} />
    </form>
  );
}
