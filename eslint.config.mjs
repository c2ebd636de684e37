// typescript-eslint with type information: the promise rules catch the bugs that lose events
// (a forgotten await on a Redis write, an async handler passed where a sync one is expected).
import js from '@eslint/js';
import pluginVue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.run/**',
      'coverage/**',
      'libs/contracts/src/generated/**',
      '**/*.js',
      '**/*.mjs',
      'apps/console/public/**',
      'load-tests/k6/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  // the web console's single-file components (apps/console/web): Vue's recommended rules, the
  // script blocks parsed as TypeScript with the same type-aware rules; layout is Prettier's
  ...pluginVue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.vue'],
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      ...pluginVue.configs['no-layout-rules'].rules,
      // TypeScript (vue-tsc) knows the browser's globals; the core rule does not read the types
      'no-undef': 'off',
    },
  },
);
