import { useState, type FormEvent } from 'react';
import { fieldErrors } from './use-api-error';

/**
 * A form's submit: local validation first (nothing is sent while a field is wrong), then the
 * request; the server's `details` come back as field errors. `pending` covers the request.
 */
export function useFormSubmit(options: {
  validate: () => Record<string, string>;
  submit: () => Promise<void>;
  onFieldErrors?: (errors: Record<string, string>) => void;
}) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent): Promise<void> {
    event.preventDefault();
    const local = options.validate();
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    setPending(true);
    try {
      await options.submit();
    } catch (error) {
      const fields = fieldErrors(error);
      setErrors(fields);
      options.onFieldErrors?.(fields);
    } finally {
      setPending(false);
    }
  }

  return { errors, setErrors, pending, onSubmit };
}
