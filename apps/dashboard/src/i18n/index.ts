import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import de from './de.json';
import en from './en.json';

export const LANGUAGES = [
  { code: 'en', label: 'English' },
  { code: 'de', label: 'Deutsch' },
] as const;

const STORAGE = 'keysmith.lang';

function initialLanguage(): string {
  const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE);
  if (stored && LANGUAGES.some((l) => l.code === stored)) return stored;
  const browser = typeof navigator === 'undefined' ? 'en' : navigator.language.slice(0, 2);
  return LANGUAGES.some((l) => l.code === browser) ? browser : 'en';
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, de: { translation: de } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false },
  returnNull: false,
  showSupportNotice: false,
});

i18n.on('languageChanged', (lng) => {
  localStorage.setItem(STORAGE, lng);
  document.documentElement.lang = lng;
});

export default i18n;
