import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { Pool } from 'pg';
import { enforceProduction } from '@eagle-eye/config';

/**
 * Demo tenants and users for `npm run stack` / `npm run demo`. The credentials are public (the
 * README lists them): never seed them into a deployment that sees real traffic.
 */
export const DEMO_CARRIERS = [
  {
    id: 'carrier-a',
    name: 'Demo Carrier A',
    keyId: 'demoa',
    secret: 'demo-carrier-a-secret-0000000000000000',
  },
  {
    id: 'carrier-b',
    name: 'Demo Carrier B',
    keyId: 'demob',
    secret: 'demo-carrier-b-secret-0000000000000000',
  },
] as const;

export const DEMO_USERS = [
  {
    username: 'operator.a',
    password: 'demo-operator-a',
    role: 'carrier_operator',
    carrierId: 'carrier-a',
    regions: [],
    name: 'Fraud desk, Carrier A',
  },
  {
    username: 'operator.b',
    password: 'demo-operator-b',
    role: 'carrier_operator',
    carrierId: 'carrier-b',
    regions: [],
    name: 'Fraud desk, Carrier B',
  },
  {
    username: 'officer.chengdu',
    password: 'demo-officer',
    role: 'police_officer',
    carrierId: null,
    regions: ['510100'],
    name: 'Chengdu anti-fraud centre',
  },
  {
    username: 'officer.mianyang',
    password: 'demo-officer',
    role: 'police_officer',
    carrierId: null,
    regions: ['510700'],
    name: 'Mianyang anti-fraud centre',
  },
  {
    username: 'supervisor',
    password: 'demo-supervisor',
    role: 'supervisor',
    carrierId: null,
    regions: [],
    name: 'Shift supervisor',
  },
  {
    username: 'admin',
    password: 'demo-admin',
    role: 'admin',
    carrierId: null,
    regions: [],
    name: 'Administrator',
  },
] as const;

/** The API key a carrier presents: `eek_<keyId>_<secret>`; only SHA-256(secret) is stored. */
export function apiKeyFor(keyId: string, secret: string): string {
  return `eek_${keyId}_${secret}`;
}

export function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export async function seedDemo(pool: Pool): Promise<void> {
  for (const c of DEMO_CARRIERS) {
    await pool.query('INSERT INTO carriers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [
      c.id,
      c.name,
    ]);
    await pool.query(
      `INSERT INTO carrier_api_keys (key_id, carrier_id, secret_sha256, label) VALUES ($1, $2, $3, 'demo')
       ON CONFLICT (key_id) DO NOTHING`,
      [c.keyId, c.id, sha256(c.secret)],
    );
  }
  for (const u of DEMO_USERS) {
    const exists = await pool.query('SELECT 1 FROM console_users WHERE username = $1', [u.username]);
    if (exists.rowCount) continue;
    await pool.query(
      `INSERT INTO console_users (username, password_hash, role, carrier_id, regions, display_name)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [u.username, await bcrypt.hash(u.password, 10), u.role, u.carrierId, u.regions, u.name],
    );
  }
}

/**
 * The demo credentials still usable in this database: demo carrier keys (not revoked) with their
 * published secrets, demo users (not disabled) with their published passwords. Names only.
 * bcryptjs async: never blocks the event loop.
 */
export async function demoCredentialsPresent(pool: Pool): Promise<string[]> {
  const found: string[] = [];
  const keys = await pool.query<{ key_id: string; secret_sha256: Buffer }>(
    `SELECT key_id, secret_sha256 FROM carrier_api_keys
      WHERE key_id = ANY($1::text[]) AND (revoked_at IS NULL OR revoked_at > now())`,
    [DEMO_CARRIERS.map((c) => c.keyId)],
  );
  for (const k of keys.rows) {
    const demo = DEMO_CARRIERS.find((c) => c.keyId === k.key_id);
    if (demo && sha256(demo.secret).equals(k.secret_sha256)) found.push(`demo carrier API key ${k.key_id}`);
  }
  const users = await pool.query<{ username: string; password_hash: string }>(
    `SELECT username, password_hash FROM console_users WHERE username = ANY($1::text[]) AND NOT disabled`,
    [DEMO_USERS.map((u) => u.username)],
  );
  for (const u of users.rows) {
    const demo = DEMO_USERS.find((d) => d.username === u.username);
    if (demo && (await bcrypt.compare(demo.password, u.password_hash)))
      found.push(`demo console user ${u.username} with its published password`);
  }
  return found;
}

/** The production refusals for the demo credentials that work in this database. */
export async function demoCredentialProblems(pool: Pool): Promise<string[]> {
  return (await demoCredentialsPresent(pool)).map(
    (f) => `${f} exists (revoke or disable it, or run a database never seeded with demo data)`,
  );
}

/** With NODE_ENV=production, refuses to go on while demo credentials work in this database. */
export async function assertNoDemoCredentials(
  pool: Pool,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (env.NODE_ENV !== 'production') return;
  enforceProduction(await demoCredentialProblems(pool), env);
}
