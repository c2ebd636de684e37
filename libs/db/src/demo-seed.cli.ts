import { enforceProduction, loadConfig, migrationSchema, migrationTarget } from '@eagle-eye/config';
import { assertPostgresReachable, createPool } from './db';
import { apiKeyFor, DEMO_CARRIERS, DEMO_USERS, seedDemo } from './demo-seed';
import { migrate } from './migrate';

/** Migrates and seeds the demo tenants; prints the demo credentials. */
async function main(): Promise<void> {
  const target = migrationTarget(loadConfig(migrationSchema));
  // demo credentials are public: never seeded into a production deployment
  enforceProduction(['the demo seed (public credentials) does not run in production'], process.env);
  await assertPostgresReachable(target.url);
  const pool = createPool(target.url);
  try {
    await migrate(pool, { log: (l) => console.log(`[migrate] ${l}`), appRole: target.appRole });
    await seedDemo(pool);
  } finally {
    await pool.end();
  }
  if (process.argv.includes('--quiet')) return;
  console.log('Demo carriers (gRPC metadata `authorization: Bearer <key>`):');
  for (const c of DEMO_CARRIERS) console.log(`  ${c.id.padEnd(18)} ${apiKeyFor(c.keyId, c.secret)}`);
  console.log('Demo console users (username / password / role):');
  for (const u of DEMO_USERS)
    console.log(
      `  ${u.username.padEnd(18)} ${u.password.padEnd(18)} ${u.role}${u.carrierId ? ' ' + u.carrierId : ''}${u.regions.length ? ' ' + u.regions.join(',') : ''}`,
    );
}

main().catch((e: Error) => {
  console.error(`seed: ${e.message}`);
  process.exit(1);
});
