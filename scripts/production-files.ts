/**
 * What a production install is made of, besides node_modules (README, "Deploying"): the files that
 * scripts/production-install.e2e-spec.ts copies and starts apps from, and that deploy/Dockerfile
 * copies into its run-time stage (scripts/k8s/manifests.spec.ts checks both lists are the same).
 */
export const PRODUCTION_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json', // the @eagle-eye/* paths scripts/register-paths.js resolves
  'scripts/register-paths.js',
  'deploy/entrypoint.sh', // the image's entry point: its first argument picks the app
  'dist/apps',
  'dist/libs',
  // read at run time from the source tree (tsc does not copy them into dist/)
  'proto',
  'apps/ingest/src/lua',
  'apps/detector/src/lua',
  'apps/detector/models',
  'libs/db/migrations',
];
