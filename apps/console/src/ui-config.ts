/** What the web console reads from `GET /ui-config.json` before it renders (no session needed). */
export interface UiConfig {
  /** IANA zone every time on screen is shown in (CONSOLE_TIME_ZONE) */
  timeZone: string;
  /** language until the user picks one (CONSOLE_DEFAULT_LOCALE) */
  defaultLocale: UiLocale;
  /** days a confirmed-fraud outcome blacklists the suspect (the confirmation dialog says it) */
  confirmedFraudBlacklistDays: number;
}
export type UiLocale = 'zh-CN' | 'en';
export const UI_LOCALES: readonly UiLocale[] = ['zh-CN', 'en'];
