import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { createPool, migrate } from '@eagle-eye/db';

/**
 * Test access to the real Redis and PostgreSQL that scripts/test.sh starts (or that REDIS_URL /
 * DATABASE_URL point at). Each test gets its own Redis key prefix and its own Postgres schema.
 */
export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6391';
}

export function testDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://eagleeye:eagleeye-dev@127.0.0.1:5441/eagleeye_test';
}

export function uniqueId(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export async function connectTestRedis(): Promise<Redis> {
  const redis = new Redis(testRedisUrl(), {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
  } catch (e) {
    throw new Error(
      `integration tests need Redis at ${testRedisUrl()} (${(e as Error).message}); run them with \`npm test\`, which starts it`,
      { cause: e },
    );
  }
  return redis;
}

/** Deletes every key under a test prefix. */
export async function dropRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

export interface TestSchema {
  schema: string;
  /** connections as the schema's owner (the migrations' role) */
  pool: Pool;
  /** a DATABASE_URL whose connections use this schema (for apps started as child processes) */
  url: string;
  /** with `appRole`: the same as the app role, which owns nothing (what production apps use) */
  appUrl?: string;
  drop(): Promise<void>;
}

/** The role tests connect as when they run the apps the way production does (owns nothing). */
export const TEST_APP_ROLE = { name: 'eagleeye_test_app', password: 'eagleeye-test-app' };

/** Creates the test app role once per database cluster (several suites may race to create it). */
async function ensureTestAppRole(admin: Pool): Promise<void> {
  await admin.query(`DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TEST_APP_ROLE.name}') THEN
      CREATE ROLE ${TEST_APP_ROLE.name} LOGIN PASSWORD '${TEST_APP_ROLE.password}';
    END IF;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END $$`);
}

/**
 * A fresh schema with every migration applied. `appRole`: the test app role is granted the apps'
 * privileges on it (`appUrl`), as `npm run migrate` does with DATABASE_APP_ROLE.
 */
export async function createTestSchema(opts: { appRole?: boolean } = {}): Promise<TestSchema> {
  const schema = uniqueId('t_');
  const admin = createPool(testDatabaseUrl(), { max: 1 });
  try {
    if (opts.appRole) await ensureTestAppRole(admin);
    await migrate(admin, { schema, ...(opts.appRole ? { appRole: TEST_APP_ROLE.name } : {}) });
  } catch (e) {
    await admin.end();
    const msg = (e as Error).message;
    if (/ECONNREFUSED|connect/.test(msg)) {
      throw new Error(
        `integration tests need PostgreSQL at ${testDatabaseUrl()} (${msg}); run them with \`npm test\``,
        { cause: e },
      );
    }
    throw e;
  }
  await admin.end();
  const pool = createPool(testDatabaseUrl(), { schema, max: 5 });
  const u = new URL(testDatabaseUrl());
  u.searchParams.set('options', `-c search_path=${schema}`);
  const app = new URL(u);
  app.username = TEST_APP_ROLE.name;
  app.password = TEST_APP_ROLE.password;
  return {
    schema,
    pool,
    url: u.toString(),
    ...(opts.appRole ? { appUrl: app.toString() } : {}),
    async drop() {
      await pool.end();
      const a = createPool(testDatabaseUrl(), { max: 1 });
      await a.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await a.end();
    },
  };
}
