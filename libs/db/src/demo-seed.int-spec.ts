import bcrypt from 'bcryptjs';
import { KNOWN_DEMO_VALUES } from '@eagle-eye/config';
import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import {
  assertNoDemoCredentials,
  DEMO_CARRIERS,
  DEMO_USERS,
  demoCredentialsPresent,
  seedDemo,
} from './demo-seed';

describe('demo credentials guard', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema();
  }, 30000);
  afterAll(async () => {
    await db?.drop();
  });

  it('lists every published demo secret as a known demo value', () => {
    for (const c of DEMO_CARRIERS) expect(KNOWN_DEMO_VALUES).toContain(c.secret);
    for (const u of DEMO_USERS) expect(KNOWN_DEMO_VALUES).toContain(u.password);
  });

  it('finds the demo keys and users of a seeded database, and refuses it in production only', async () => {
    expect(await demoCredentialsPresent(db.pool)).toEqual([]);
    await seedDemo(db.pool);
    const found = await demoCredentialsPresent(db.pool);
    expect(found).toEqual(
      expect.arrayContaining([
        'demo carrier API key demoa',
        'demo console user admin with its published password',
      ]),
    );
    expect(found).toHaveLength(DEMO_CARRIERS.length + DEMO_USERS.length);
    await expect(assertNoDemoCredentials(db.pool, { NODE_ENV: 'production' })).rejects.toThrow(
      /refusing to start with NODE_ENV=production: demo carrier API key demoa exists/,
    );
    await expect(assertNoDemoCredentials(db.pool, { NODE_ENV: 'test' })).resolves.toBeUndefined();
    // revoked keys, disabled or re-passworded users no longer count
    await db.pool.query(`UPDATE carrier_api_keys SET revoked_at = now() WHERE key_id IN ('demoa', 'demob')`);
    await db.pool.query(`UPDATE console_users SET disabled = true WHERE username <> 'admin'`);
    await db.pool.query(`UPDATE console_users SET password_hash = $1 WHERE username = 'admin'`, [
      await bcrypt.hash('a-real-admin-password', 4),
    ]);
    await expect(assertNoDemoCredentials(db.pool, { NODE_ENV: 'production' })).resolves.toBeUndefined();
  });
});
