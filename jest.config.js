// Unit specs sit beside the code (*.spec.ts); integration (*.int-spec.ts) and end-to-end
// (*.e2e-spec.ts) tests talk to the real Redis and PostgreSQL that scripts/test.sh starts.
// Type errors are caught by `tsc --noEmit` in the same run, so ts-jest only transpiles.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { compilerOptions } = require('./tsconfig.json');

const moduleNameMapper = {
  ...Object.fromEntries(
    Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
  ),
  // the web console imports single files of libs/contracts (its bundle takes only what it uses)
  '^@eagle-eye/contracts/(.*)$': '<rootDir>/libs/contracts/src/$1',
};

module.exports = {
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['apps', 'libs', 'load-tests', 'scripts']
    .filter((d) => existsSync(join(__dirname, d)))
    .map((d) => `<rootDir>/${d}`),
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  // NestJS 12 ships ES modules only; Node 20 loads them through require(esm), jest does not, so
  // jest transpiles them (and the few other ESM-only dependencies) to CommonJS like our own code.
  transform: { '^.+\\.[tj]s$': '<rootDir>/scripts/jest-transform.js' },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|file-type|strtok3|token-types|peek-readable|uint8array-extras|@tokenizer|load-esm)/)',
  ],
  moduleNameMapper,
  testTimeout: 30000,
  maxWorkers: 2,
  setupFiles: ['reflect-metadata'],
};
