import { createApp } from 'vue';
import App from './App.vue';
import { initialLocale, makeI18n } from './i18n';
import { loadUiConfig, session, signOut, start, uiConfig } from './store';
import './style.css';

async function boot(): Promise<void> {
  // the deployment's zone and language come first: every time on screen depends on them
  await loadUiConfig().catch(() => undefined);
  const app = createApp(App);
  app.use(makeI18n(initialLocale(uiConfig.defaultLocale)));
  app.mount('#app');
  if (session.token) await start().catch(() => signOut());
}
void boot();
