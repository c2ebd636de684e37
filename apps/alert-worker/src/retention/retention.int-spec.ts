import { Pool } from 'pg';
import { metricsRegistry } from '@eagle-eye/observability';
import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import { AlertWorkerConfigSchema } from '../config';
import { runRetention, RetentionPolicy } from './retention';
import { RetentionService } from './retention.service';

/**
 * The retention purge on the real PostgreSQL: old alerts go with their notes and history, old
 * notes, history and audit entries go on their own, recent rows stay, append-only tables stay
 * append-only for everything but the purge function, and one replica purges at a time.
 */
const DAY = 86_400_000;
const NOW = new Date('2026-11-30T12:00:00Z');
const ago = (days: number): Date => new Date(NOW.getTime() - days * DAY);

async function seed(pool: Pool): Promise<void> {
  await pool.query(`INSERT INTO carriers (id, name) VALUES ('carrier-a', 'A') ON CONFLICT DO NOTHING`);
  let seq = 0;
  const alert = async (callId: string, updatedDaysAgo: number): Promise<number> => {
    const at = ago(updatedDaysAgo);
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO alerts (kind, carrier_id, call_id, victim, suspect, severity, score, event_time, raised_at,
         updated_at, created_seq, seq)
       VALUES ('victim_on_call', 'carrier-a', $1, 'v-' || $1, 's-' || $1, 'critical', 0.9, $2, $2, $2, $3, $3)
       RETURNING id`,
      [callId, at, ++seq],
    );
    return Number(rows[0].id);
  };
  const history = (alertId: number, daysAgo: number) =>
    pool.query(
      `INSERT INTO alert_history (seq, alert_id, at, actor, action) VALUES ($1, $2, $3, 'worker', 'created')`,
      [1000 + ++seq, alertId, ago(daysAgo)],
    );
  const note = (alertId: number, daysAgo: number) =>
    pool.query(
      `INSERT INTO alert_notes (alert_id, at, author, text) VALUES ($1, $2, 'op', 'called the victim')`,
      [alertId, ago(daysAgo)],
    );
  const old = await alert('old', 200); // past the 180-day alert retention
  await history(old, 200);
  await note(old, 200);
  const kept = await alert('kept', 10); // recent alert with an old history entry and an old note
  await history(kept, 100);
  await history(kept, 5);
  await note(kept, 100);
  await note(kept, 5);
  for (const daysAgo of [2000, 1200, 30]) {
    await pool.query(
      `INSERT INTO audit_log (at, actor, actor_role, action, object_type) VALUES ($1, 'admin', 'admin', 'login', 'user')`,
      [ago(daysAgo)],
    );
  }
  await pool.query(
    `INSERT INTO alert_call_ends (carrier_id, call_id, call_ended_at, talk_time_s) VALUES ('carrier-a', 'x', $1, 60), ('carrier-a', 'y', $2, 60)`,
    [ago(300), ago(1)],
  );
  // partner reports with free-text evidence: one past the 365-day retention, one recent
  await pool.query(`INSERT INTO report_partners (id, name, created_by) VALUES ('app', 'app', 'admin')`);
  await pool.query(
    `INSERT INTO number_reports (partner_id, reporter, number_token, category, evidence, reported_at)
     VALUES ('app', 'r1', 'p1.k1.aaaaaaaaaaaaaaaaaaaaaa', 'other', 'old', $1),
            ('app', 'r2', 'p1.k1.aaaaaaaaaaaaaaaaaaaaaa', 'other', 'new', $2)`,
    [ago(400), ago(3)],
  );
}

const count = async (pool: Pool, table: string): Promise<number> =>
  Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

describe('retention purge (PostgreSQL)', () => {
  let db: TestSchema;
  const policy: RetentionPolicy = {
    days: { alerts: 180, notes: 60, history: 60, audit: 1095, call_ends: 180, reports: 365 },
    batchRows: 1, // one row per batch: the loop must go on until a batch comes back short
    maxBatches: 100,
  };

  beforeEach(async () => {
    db = await createTestSchema();
    await seed(db.pool);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('audit_log stays append-only outside the purge', async () => {
    await expect(db.pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`UPDATE audit_log SET actor = 'x'`)).rejects.toThrow(/append-only/);
  });

  it('deletes what is past retention, in batches, and keeps the rest', async () => {
    const batches: string[] = [];
    const r = await runRetention(db.pool, policy, NOW, (tbl, n) => batches.push(`${tbl}:${n}`));
    expect(r.result).toBe('ok');
    // old alert with its note and history; kept alert's 100-day note and history; 2 audit rows
    expect(r.purged).toEqual({ alerts: 1, notes: 2, history: 2, audit: 2, call_ends: 1, reports: 1 });
    expect((await db.pool.query('SELECT evidence FROM number_reports')).rows).toEqual([{ evidence: 'new' }]);
    expect(batches.filter((b) => b.startsWith('audit:'))).toEqual(['audit:1', 'audit:1']);
    expect((await db.pool.query('SELECT call_id FROM alerts')).rows).toEqual([{ call_id: 'kept' }]);
    expect(await count(db.pool, 'alert_notes')).toBe(1);
    expect(await count(db.pool, 'alert_history')).toBe(1);
    expect(await count(db.pool, 'audit_log')).toBe(1);
    expect(await count(db.pool, 'alert_call_ends')).toBe(1);
    // the triggers are back on afterwards
    await expect(db.pool.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    // a second run finds nothing
    expect((await runRetention(db.pool, policy, NOW)).purged).toEqual({
      alerts: 0,
      notes: 0,
      history: 0,
      audit: 0,
      call_ends: 0,
      reports: 0,
    });
  });

  it('keeps data forever when its retention is 0', async () => {
    const r = await runRetention(db.pool, { ...policy, days: { ...policy.days, audit: 0, alerts: 0 } }, NOW);
    expect(r.purged.audit).toBeUndefined();
    expect(r.purged.alerts).toBeUndefined();
    expect(await count(db.pool, 'audit_log')).toBe(3);
    expect(await count(db.pool, 'alerts')).toBe(2);
  });

  it('one replica purges at a time', async () => {
    const other = await db.pool.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [0x45_52_45_54]);
      expect((await runRetention(db.pool, policy, NOW)).result).toBe('skipped');
      await other.query('SELECT pg_advisory_unlock($1)', [0x45_52_45_54]);
    } finally {
      other.release();
    }
    expect(await count(db.pool, 'audit_log')).toBe(3);
  });

  it('the purge function is SECURITY DEFINER, not executable by PUBLIC, and refuses a recent cutoff', async () => {
    const { rows } = await db.pool.query<{ secdef: boolean; public_exec: boolean }>(
      `SELECT p.prosecdef AS secdef,
              coalesce(bool_or(a.grantee = 0 AND a.privilege_type = 'EXECUTE'), false) AS public_exec
         FROM pg_proc p LEFT JOIN LATERAL aclexplode(p.proacl) a ON true
        WHERE p.proname = 'retention_purge_batch' AND p.pronamespace = $1::regnamespace
        GROUP BY p.prosecdef`,
      [db.schema],
    );
    expect(rows).toEqual([{ secdef: true, public_exec: false }]);
    await expect(db.pool.query(`SELECT * FROM retention_purge_batch('audit', now(), 10)`)).rejects.toThrow(
      /audit is kept at least 365 days \(retention_floors\)/,
    );
    await expect(
      db.pool.query(`SELECT * FROM retention_purge_batch('users', now() - interval '1 day', 10)`),
    ).rejects.toThrow(/unknown data/);
  });

  it('the worker service counts purged rows per table and its runs', async () => {
    const config = AlertWorkerConfigSchema.parse({
      RETENTION_NOTES_DAYS: '60',
      RETENTION_HISTORY_DAYS: '60',
    });
    const service = new RetentionService(db.pool, config);
    const value = async (name: string, labels: Record<string, string>): Promise<number> => {
      const m = await metricsRegistry.getSingleMetric(name)!.get();
      return m.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
    };
    const before = await value('eagleeye_retention_purged_total', { table: 'audit' });
    const runsBefore = await value('eagleeye_retention_runs_total', { result: 'ok' });
    await service.runOnce(NOW);
    expect((await value('eagleeye_retention_purged_total', { table: 'audit' })) - before).toBe(2);
    expect((await value('eagleeye_retention_runs_total', { result: 'ok' })) - runsBefore).toBe(1);
    expect(await count(db.pool, 'alerts')).toBe(1);
  });
});
