import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { AlertRepository } from '../apps/alert-worker/src/alert.repository';
import { createPool, migrate, seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema, testDatabaseUrl, uniqueId } from '@eagle-eye/testing';

/**
 * The PostgreSQL backup/restore runbook of the README ("Operations"), on the real server: pg_dump
 * in the custom format, pg_restore into a fresh database, then the alert worker's repository reads
 * the alert back as consoles would receive it, the migrations find nothing to do, and the
 * retention function keeps its privileges. (The tests share one database, so the dump is limited
 * to the test's schema with --schema; the runbook dumps the whole database.)
 */
jest.setTimeout(60_000);

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (Debian package postgresql-client)`);
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

describe('PostgreSQL backup and restore (pg_dump -Fc, pg_restore into a fresh database)', () => {
  let db: TestSchema;
  let dir: string;
  const restoredDb = uniqueId('ee_restore_');
  let admin: Pool;
  let restored: Pool | undefined;

  beforeAll(async () => {
    db = await createTestSchema();
    await seedDemo(db.pool);
    dir = mkdtempSync(join(tmpdir(), 'ee-backup-'));
    admin = createPool(testDatabaseUrl(), { max: 1 });
  });
  afterAll(async () => {
    await restored?.end();
    await admin.query(`DROP DATABASE IF EXISTS ${restoredDb}`);
    await admin.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores a dump into a fresh database and reads an alert back', async () => {
    const now = Date.now();
    const repo = new AlertRepository(db.pool);
    const [change] = await repo.upsertCallAlert({
      kind: 'victim_on_call',
      carrierId: 'carrier-a',
      callId: uniqueId('c'),
      victim: 'p1.k1.AAAAAAAAAAAAAAAAAAAAAA',
      suspect: 'p1.k1.BBBBBBBBBBBBBBBBBBBBBB',
      region: '510100',
      severity: 'critical',
      score: 120,
      reasons: [{ rule: 'fanout', points: 60, text: 'called 90 different people', reportOnly: false }],
      callAnsweredAt: now - 60_000,
      stepS: 60,
      eventTimeMs: now,
      raisedAt: now,
    });
    const [original] = await repo.loadForPublish([change.alertId]);
    await db.pool.query(
      `INSERT INTO audit_log (actor, actor_role, action, object_type, object_id) VALUES ('op', 'supervisor', 'view', 'alert', $1)`,
      [change.alertId],
    );

    // the runbook: pg_dump --format=custom, createdb, pg_restore --no-owner --exit-on-error
    const dump = join(dir, 'eagleeye.dump');
    run('pg_dump', ['--format=custom', `--schema=${db.schema}`, `--file=${dump}`, testDatabaseUrl()]);
    await admin.query(`CREATE DATABASE ${restoredDb}`);
    const url = new URL(testDatabaseUrl());
    url.pathname = `/${restoredDb}`;
    run('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${url.toString()}`, dump]);

    restored = createPool(url.toString(), { schema: db.schema, max: 2 });
    const [back] = await new AlertRepository(restored).loadForPublish([change.alertId]);
    expect(back).toEqual(original);
    expect(back.view).toMatchObject({ carrierId: 'carrier-a', severity: 'critical', state: 'open' });
    // the restored schema is current: the migrations have nothing to apply
    expect(await migrate(restored, { schema: db.schema })).toEqual([]);
    // the change sequence goes on after the restored alerts, not from 1
    const { rows } = await restored.query<{ next: string }>(`SELECT nextval('alert_change_seq') AS next`);
    expect(Number(rows[0].next)).toBeGreaterThan(back.view.seq);
    // the retention purge path came back with its privileges
    const fn = await restored.query<{ secdef: boolean }>(
      `SELECT prosecdef AS secdef FROM pg_proc WHERE proname = 'retention_purge_batch'`,
    );
    expect(fn.rows).toEqual([{ secdef: true }]);
    // and the audit trail, still append-only
    expect((await restored.query('SELECT object_id FROM audit_log')).rows).toEqual([
      { object_id: change.alertId },
    ]);
    await expect(restored.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
  });
});
