import { baseSchema, ConfigError, loadConfig } from '@eagle-eye/config';
import { assertPostgresReachable, createPool } from './db';
import { migrate } from './migrate';

/** `npm run migrate`: applies pending migrations to DATABASE_URL. */
async function main(): Promise<void> {
  const cfg = loadConfig(baseSchema);
  await assertPostgresReachable(cfg.DATABASE_URL);
  const pool = createPool(cfg.DATABASE_URL);
  try {
    const applied = await migrate(pool, { log: (l) => console.log(l) });
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
