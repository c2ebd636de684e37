import { Pool, PoolConfig } from 'pg';
import { DependencyUnreachableError } from '@eagle-eye/observability';

export function safeDbUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * A pg pool. `schema` sets the search_path of every connection (tests run each suite in its own
 * schema; production uses the default `public`).
 */
export function createPool(url: string, opts: { schema?: string; max?: number } & PoolConfig = {}): Pool {
  const { schema, ...rest } = opts;
  const options = schema ? `-c search_path=${schema}` : undefined;
  return new Pool({ connectionString: url, max: 10, options, ...rest });
}

export async function assertPostgresReachable(url: string, timeoutMs = 3000): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: timeoutMs });
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    throw new DependencyUnreachableError(
      `cannot reach PostgreSQL at ${safeDbUrl(url)} (DATABASE_URL): ${(e as Error).message}. ` +
        'Start the local services with `npm run services -- up`, or point DATABASE_URL at your PostgreSQL.',
    );
  } finally {
    await pool.end().catch(() => undefined);
  }
}
