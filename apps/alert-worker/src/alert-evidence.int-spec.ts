import { randomBytes } from 'node:crypto';
import { SuspectNumberJob, VictimOnCallJob } from '@eagle-eye/contracts';
import { seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema, uniqueId } from '@eagle-eye/testing';
import { AlertRepository } from './alert.repository';

const tok = () => `p1.k1.${randomBytes(16).toString('base64url').slice(0, 22)}`;

/**
 * The evidence snapshot (migration 090): every detection step the worker applies keeps what the
 * detector sent, in the same transaction as the alert change, so a case timeline shows each
 * step's reasons after the alert row itself has moved on and the Redis windows have expired.
 */
describe('alert evidence snapshots on real PostgreSQL', () => {
  let db: TestSchema;
  let repo: AlertRepository;
  beforeAll(async () => {
    db = await createTestSchema();
    await seedDemo(db.pool);
    repo = new AlertRepository(db.pool);
  });
  afterAll(async () => {
    await db.drop();
  });

  const evidence = (alertId: string) =>
    db.pool.query<{
      seq: string;
      action: string;
      step_s: number;
      severity: string;
      score: number;
      reasons: { rule: string; text: string }[];
      event_time: Date;
      call_answered_at: Date | null;
      history_action: string | null;
    }>(
      `SELECT e.seq, e.action, e.step_s, e.severity, e.score, e.reasons, e.event_time, e.call_answered_at,
              h.action AS history_action
         FROM alert_evidence e LEFT JOIN alert_history h ON h.seq = e.seq AND h.alert_id = e.alert_id
        WHERE e.alert_id = $1 ORDER BY e.seq`,
      [alertId],
    );

  it('keeps one snapshot per detection step of a call alert, with that step’s reasons', async () => {
    const t0 = Date.now() - 10 * 60_000;
    const first: VictimOnCallJob = {
      kind: 'victim_on_call',
      carrierId: 'carrier-a',
      callId: uniqueId('c'),
      victim: tok(),
      suspect: tok(),
      region: '510100',
      severity: 'warning',
      score: 60,
      reasons: [{ rule: 'fanout', points: 30, text: 'called 41 different people in the last hour' }],
      callAnsweredAt: t0,
      stepS: 120,
      eventTimeMs: t0 + 120_000,
      raisedAt: t0 + 120_100,
    };
    const [created] = await repo.upsertCallAlert(first);
    const upgrade: VictimOnCallJob = {
      ...first,
      severity: 'critical',
      score: 110,
      stepS: 600,
      reasons: [
        { rule: 'fanout', points: 30, text: 'called 55 different people in the last hour' },
        { rule: 'long_call', points: 50, text: 'on the phone with a suspect stranger for over 10 min' },
      ],
      eventTimeMs: t0 + 600_000,
      raisedAt: t0 + 600_050,
    };
    await repo.upsertCallAlert(upgrade);
    expect(await repo.upsertCallAlert(upgrade)).toEqual([]); // a repeat changes nothing, keeps nothing

    const { rows } = await evidence(created.alertId);
    expect(rows.map((r) => [r.action, r.history_action, r.step_s, r.severity, r.score])).toEqual([
      ['created', 'created', 120, 'warning', 60],
      ['upgraded', 'upgraded', 600, 'critical', 110],
    ]);
    // the first step's reasons survive the upgrade that replaced them on the alert row
    expect(rows[0].reasons.map((r) => r.text)).toEqual(['called 41 different people in the last hour']);
    expect(rows[1].reasons.map((r) => r.rule)).toEqual(['fanout', 'long_call']);
    expect(rows[0].event_time.getTime()).toBe(t0 + 120_000);
    expect(rows[0].call_answered_at?.getTime()).toBe(t0);
    const alert = await db.pool.query<{ reasons: unknown[] }>(`SELECT reasons FROM alerts WHERE id = $1`, [
      created.alertId,
    ]);
    expect(alert.rows[0].reasons).toHaveLength(2);
  });

  it('goes with its alert when retention purges the alert', async () => {
    const j: SuspectNumberJob = {
      kind: 'suspect_number',
      carrierId: 'carrier-a',
      suspect: tok(),
      severity: 'warning',
      score: 70,
      reasons: [{ rule: 'fanout', points: 70, text: 'called 80 different people in the last hour' }],
      eventTimeMs: Date.now(),
      raisedAt: Date.now(),
    };
    const [created] = await repo.upsertSuspectAlert(j);
    expect((await evidence(created.alertId)).rows).toHaveLength(1);
    await db.pool.query(`UPDATE alerts SET updated_at = now() - interval '400 days' WHERE id = $1`, [
      created.alertId,
    ]);
    await db.pool.query(`SELECT * FROM retention_purge_batch('alerts', now() - interval '365 days', 1000)`);
    expect((await db.pool.query(`SELECT 1 FROM alerts WHERE id = $1`, [created.alertId])).rowCount).toBe(0);
    expect((await evidence(created.alertId)).rows).toEqual([]);
  });

  it('keeps the snapshot of a suspect-number alert (no call)', async () => {
    const j: SuspectNumberJob = {
      kind: 'suspect_number',
      carrierId: 'carrier-a',
      suspect: tok(),
      region: '510700',
      severity: 'warning',
      score: 80,
      reasons: [{ rule: 'caller_model', points: 80, text: 'model m: 96.0 % likely a fraud caller' }],
      eventTimeMs: Date.now() - 1000,
      raisedAt: Date.now(),
    };
    const [created] = await repo.upsertSuspectAlert(j);
    const { rows } = await evidence(created.alertId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'created', step_s: 0, call_answered_at: null, score: 80 });
    expect(rows[0].reasons[0].rule).toBe('caller_model');
  });
});
