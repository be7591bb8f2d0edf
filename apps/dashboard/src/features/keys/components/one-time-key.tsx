import { useTranslation } from 'react-i18next';
import { OneTimeSecret } from '../../../components/ui/one-time-secret';

/** The raw key, shown once after create or regenerate. */
export function OneTimeKeyView({ rawKey, onDone }: { rawKey: string; onDone: () => void }) {
  const { t } = useTranslation();
  return <OneTimeSecret value={rawKey} warning={t('keys.oneTimeWarning')} label={t('keys.rawKeyLabel')} onDone={onDone} />;
}
