import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool, PoolClient } from 'pg';
import { grantAppRole } from './app-role';

// From source (libs/db/src) or from the build (dist/libs/db/src): the SQL stays in libs/db/migrations.
export const MIGRATIONS_DIR =
  [
    join(__dirname, '..', 'migrations'),
    join(__dirname, '..', '..', '..', '..', 'libs', 'db', 'migrations'),
  ].find((d) => existsSync(d)) ?? join(__dirname, '..', 'migrations');
const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m) throw new Error(`migration file ${file} must be named NNN_name.sql`);
      const sql = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(m[1]),
        name: m[2],
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(`two migrations share version ${migrations[i].version}`);
    }
  }
  return migrations;
}

const LOCK_ID = 0x45_41_47_4c; // 'EAGL': one migrator at a time per database

/**
 * Applies pending migrations in order, each in its own transaction, under an advisory lock so that
 * several apps starting together migrate once. A changed, already-applied file is an error.
 * `schema` (tests) runs everything inside that schema. `appRole`: afterwards, grant that role what
 * the apps need and no more (app-role.ts), on every run, so new tables are covered too.
 */
export async function migrate(
  db: Pool | Client,
  opts: { schema?: string; dir?: string; log?: (line: string) => void; appRole?: string } = {},
): Promise<number[]> {
  const log = opts.log ?? (() => undefined);
  const client: PoolClient | Client = db instanceof Pool ? await db.connect() : db;
  const applied: number[] = [];
  try {
    if (opts.schema) {
      if (!/^[a-z_][a-z0-9_]*$/.test(opts.schema)) throw new Error(`bad schema name ${opts.schema}`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
      await client.query(`SET search_path TO ${opts.schema}`);
    }
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations',
      );
      const done = new Map(rows.map((r) => [r.version, r.checksum]));
      for (const m of readMigrations(opts.dir)) {
        const prior = done.get(m.version);
        if (prior !== undefined) {
          if (prior !== m.checksum) {
            throw new Error(
              `migration ${m.version}_${m.name} changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            m.checksum,
          ]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`migration ${m.version}_${m.name} failed: ${(e as Error).message}`, { cause: e });
        }
        applied.push(m.version);
        log(`applied migration ${m.version}_${m.name}`);
      }
      if (opts.appRole) {
        await grantAppRole(client, opts.appRole, opts.schema ?? 'public');
        log(`granted the app role ${opts.appRole} its privileges`);
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]);
    }
  } finally {
    if (opts.schema) await client.query('SET search_path TO DEFAULT').catch(() => undefined);
    if (db instanceof Pool) (client as PoolClient).release();
  }
  return applied;
}
