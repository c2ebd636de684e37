import { ConfigError, loadConfig, migrationSchema, migrationTarget } from '@eagle-eye/config';
import { assertPostgresReachable, createPool } from './db';
import { migrate } from './migrate';

/**
 * `npm run migrate`: applies pending migrations as DATABASE_MIGRATION_URL's role (the owner; else
 * DATABASE_URL's), then grants the app role (DATABASE_APP_ROLE) its privileges.
 */
async function main(): Promise<void> {
  const target = migrationTarget(loadConfig(migrationSchema));
  await assertPostgresReachable(target.url);
  const pool = createPool(target.url);
  try {
    const applied = await migrate(pool, { log: (l) => console.log(l), appRole: target.appRole });
    console.log(applied.length ? `migrated: ${applied.length} applied` : 'migrated: schema up to date');
  } finally {
    await pool.end();
  }
}

main().catch((e: Error) => {
  console.error(
    e instanceof ConfigError ? `configuration error: ${e.problems.join('; ')}` : `migrate: ${e.message}`,
  );
  process.exit(1);
});
