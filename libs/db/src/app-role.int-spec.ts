import { Pool } from 'pg';
import { createTestSchema, TEST_APP_ROLE, TestSchema } from '@eagle-eye/testing';
import { APPEND_ONLY_TABLES, databaseRoleProblems, grantAppRole } from './app-role';
import { createPool } from './db';
import { assertProductionDatabase } from './production-db';

/**
 * The apps' database role on real PostgreSQL: it reads and appends to the records of what happened
 * and can neither rewrite nor erase them, nor get around that (no ownership: no TRUNCATE, no
 * trigger or table changes); old rows go only through the retention function, above its floors.
 */
describe('the app role cannot erase or rewrite history', () => {
  let db: TestSchema;
  let app: Pool;
  const denied = /permission denied|must be owner/;

  beforeAll(async () => {
    db = await createTestSchema({ appRole: true });
    app = createPool(db.appUrl!, { max: 2 });
  }, 60_000);
  afterAll(async () => {
    await app?.end();
    await db?.drop();
  });

  it('connects as a role that is neither superuser nor owner, in the test schema', async () => {
    const { rows } = await app.query<{ u: string; s: string }>(
      'SELECT current_user AS u, current_schema() AS s',
    );
    expect(rows[0]).toEqual({ u: TEST_APP_ROLE.name, s: db.schema });
    expect(await databaseRoleProblems(app)).toEqual([]);
    // the owner's own connection is what production refuses for an app
    const owner = await databaseRoleProblems(db.pool);
    expect(owner).toHaveLength(1);
    expect(owner[0]).toMatch(/a superuser|owns the tables/);
    await expect(assertProductionDatabase(db.pool, { NODE_ENV: 'production' })).rejects.toThrow(
      /refusing to start with NODE_ENV=production: DATABASE_URL connects as/,
    );
    await expect(assertProductionDatabase(app, { NODE_ENV: 'production' })).resolves.toBeUndefined();
  });

  it('appends to and reads the audit log, and cannot update, delete, truncate or unguard it', async () => {
    await app.query(
      `INSERT INTO audit_log (actor, actor_role, action, object_type) VALUES ('op', 'operator', 'alert.claim', 'alert')`,
    );
    const { rows } = await app.query<{ n: string }>('SELECT count(*) AS n FROM audit_log');
    expect(Number(rows[0].n)).toBeGreaterThanOrEqual(1);
    for (const sql of [
      `UPDATE audit_log SET actor = 'someone else'`,
      `DELETE FROM audit_log`,
      `TRUNCATE audit_log`,
      `ALTER TABLE audit_log DISABLE TRIGGER USER`,
      `DROP TRIGGER audit_log_no_update ON audit_log`,
      `DROP TABLE audit_log`,
      `CREATE TABLE audit_log_copy (id int)`,
      `UPDATE retention_floors SET min_age = interval '1 hour'`,
      `INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'x', 'x')`,
    ])
      await expect(app.query(sql)).rejects.toThrow(denied);
  });

  it('has SELECT and INSERT only on every append-only table, full rights on the working tables', async () => {
    const priv = async (table: string, p: string): Promise<boolean> =>
      (await app.query<{ ok: boolean }>('SELECT has_table_privilege($1, $2) AS ok', [table, p])).rows[0].ok;
    for (const t of APPEND_ONLY_TABLES) {
      expect([t, await priv(t, 'SELECT'), await priv(t, 'INSERT')]).toEqual([t, true, true]);
      for (const p of ['UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER'])
        expect([t, p, await priv(t, p)]).toEqual([t, p, false]);
    }
    for (const t of ['alerts', 'number_lists', 'console_users', 'alert_call_ends'])
      for (const p of ['SELECT', 'INSERT', 'UPDATE', 'DELETE'])
        expect([t, p, await priv(t, p)]).toEqual([t, p, true]);
    expect(await priv('alerts', 'TRUNCATE')).toBe(false);
  });

  it('purges old rows only through the retention function, never younger than its floors', async () => {
    await expect(
      app.query(`SELECT * FROM retention_purge_batch('audit', now() - interval '30 days', 10)`),
    ).rejects.toThrow(/audit is kept at least 365 days \(retention_floors\)/);
    const { rows } = await app.query<{ tbl: string; purged: string }>(
      `SELECT * FROM retention_purge_batch('audit', now() - interval '400 days', 10)`,
    );
    expect(rows).toEqual([{ tbl: 'audit', purged: '0' }]);
    // the rows appended above are all still there, guarded again
    await expect(app.query(`DELETE FROM audit_log`)).rejects.toThrow(denied);
  });

  it('refuses to make the owner, a superuser or a missing role the app role', async () => {
    const { rows } = await db.pool.query<{ u: string }>('SELECT current_user AS u');
    await expect(grantAppRole(db.pool, rows[0].u, db.schema)).rejects.toThrow(
      /neither a superuser nor the role/,
    );
    await expect(grantAppRole(db.pool, 'no_such_role_here', db.schema)).rejects.toThrow(/does not exist/);
    await expect(grantAppRole(db.pool, 'Robert"; DROP', db.schema)).rejects.toThrow(/must match/);
  });
});
