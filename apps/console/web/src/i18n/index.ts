import { createI18n } from 'vue-i18n';
import type { UiLocale } from '../../../src/ui-config';
import { en } from './en';
import { zhCN } from './zh-CN';

/** The message tree, from zh-CN (the first language): every locale has exactly these keys. */
export type Messages = typeof zhCN;

export const MESSAGES: Record<UiLocale, Messages> = { 'zh-CN': zhCN, en };

const STORAGE_KEY = 'ee.locale';

/** The user's choice (remembered in this browser), else the deployment's default. */
export function initialLocale(fallback: UiLocale): UiLocale {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved === 'zh-CN' || saved === 'en' ? saved : fallback;
}

export function rememberLocale(locale: UiLocale): void {
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

export function makeI18n(locale: UiLocale) {
  document.documentElement.lang = locale;
  return createI18n<[Messages], UiLocale, false>({
    legacy: false,
    locale,
    fallbackLocale: 'en',
    messages: MESSAGES,
    missingWarn: false,
    fallbackWarn: false,
  });
}
