import { Pool } from 'pg';
import { enforceProduction } from '@eagle-eye/config';
import { databaseRoleProblems } from './app-role';
import { demoCredentialProblems } from './demo-seed';
import { createPool } from './db';

/**
 * With NODE_ENV=production every app refuses to go on when its database connection could erase the
 * audit trail (a superuser, the tables' owner, a role with UPDATE/DELETE/TRUNCATE on audit_log) or
 * when the published demo credentials work in the database. Names only, never values.
 */
export async function assertProductionDatabase(
  pool: Pool,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (env.NODE_ENV !== 'production') return;
  enforceProduction([...(await databaseRoleProblems(pool)), ...(await demoCredentialProblems(pool))], env);
}

/** The same from a URL (an app's preflight, before its modules open their pools). */
export async function assertProductionDatabaseAt(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (env.NODE_ENV !== 'production') return;
  const pool = createPool(url, { max: 1 });
  try {
    await assertProductionDatabase(pool, env);
  } finally {
    await pool.end();
  }
}
