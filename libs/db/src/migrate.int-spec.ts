import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import { migrate, readMigrations } from './migrate';

describe('migrations on real PostgreSQL', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('records every migration and is idempotent', async () => {
    const { rows } = await db.pool.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual(readMigrations().map((m) => m.version));
    expect(await migrate(db.pool, { schema: db.schema })).toEqual([]);
  });

  it('keeps the audit log append-only', async () => {
    await db.pool.query(
      `INSERT INTO audit_log (actor, actor_role, action, object_type) VALUES ('alice', 'admin', 'test', 'none')`,
    );
    await expect(db.pool.query(`UPDATE audit_log SET action = 'x'`)).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`DELETE FROM audit_log`)).rejects.toThrow(/append-only/);
  });

  it('enforces user scope by constraint', async () => {
    await expect(
      db.pool.query(
        `INSERT INTO console_users (username, password_hash, role) VALUES ('op1', 'x', 'carrier_operator')`,
      ),
    ).rejects.toThrow(/console_users_scope/);
  });
});
