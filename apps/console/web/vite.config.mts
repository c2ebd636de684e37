import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The web console: `npm run build:console` (vue-tsc, then this) writes dist/apps/console/web, which
// apps/console/src/web-ui.controller.ts serves. Types come from libs/contracts and the console's own
// server code through the same @eagle-eye/* paths as the back end (type-only imports: nothing of the
// server ends up in the bundle).
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  publicDir: here('../public'),
  base: '/',
  plugins: [vue()],
  resolve: {
    alias: {
      '@eagle-eye/contracts': here('../../../libs/contracts/src'),
    },
  },
  build: {
    outDir: here('../../../dist/apps/console/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // one bundle for a console that is used all day: small enough, and no waterfall
    chunkSizeWarningLimit: 400,
  },
  define: {
    // vue-i18n: messages are compiled at run time without eval (the CSP allows no 'unsafe-eval')
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
});
