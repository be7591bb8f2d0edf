import { useTranslation } from 'react-i18next';
import { toast } from 'sonner';
import { ApiError } from './api';

/** Shows a failed request as a toast with the server's message. */
export function useErrorToast() {
  const { t } = useTranslation();
  return (error: unknown) => {
    const message = error instanceof ApiError ? error.message : t('common.unexpectedError');
    toast.error(message);
  };
}

/** Field errors from the server's `details`, keyed by path. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  return Object.fromEntries(error.details.map((d) => [d.path, d.message]));
}
