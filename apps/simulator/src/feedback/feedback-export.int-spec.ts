import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { SuspectNumberJob, VictimOnCallJob } from '@eagle-eye/contracts';
import { createPool, seedDemo } from '@eagle-eye/db';
import { FEATURE_COUNT, FEATURE_NAMES } from '@eagle-eye/scoring';
import { createTestSchema, TestSchema, uniqueId } from '@eagle-eye/testing';
import { AlertRepository } from '../../../alert-worker/src/alert.repository';
import { exportFeedback, provenancePath } from './feedback-export';
import { FEEDBACK_NUMBER_BASE } from './feedback-labels';

const tok = () => `p1.k1.${randomBytes(16).toString('base64url').slice(0, 22)}`;
const features = (seed: number) => Array.from({ length: FEATURE_COUNT }, (_, i) => seed + i / 100);
const T0 = Date.UTC(2026, 10, 20, 9);

/**
 * The model's feedback loop on real PostgreSQL: the alert worker keeps the suspect's features
 * with each detection step (migration 095); desks record outcomes and supervisors review reports;
 * the export turns one carrier's decisions into labelled training samples with their provenance,
 * connected as the app role (which owns nothing), and audits the read.
 */
describe('feedback export (reviewed outcomes and reports -> training samples) on real PostgreSQL', () => {
  let db: TestSchema;
  let app: Pool;
  let alerts: AlertRepository;
  const dir = mkdtempSync(join(tmpdir(), 'ee-feedback-'));
  beforeAll(async () => {
    db = await createTestSchema({ appRole: true });
    await seedDemo(db.pool);
    app = createPool(db.appUrl!, { max: 2 });
    alerts = new AlertRepository(app);
    await db.pool.query(`INSERT INTO report_partners (id, name, created_by) VALUES ('app', 'app', 'admin')`);
  });
  afterAll(async () => {
    await app.end();
    await db.drop();
  });

  const suspectAlert = async (carrierId: string, suspect: string, x?: number[], at = T0) => {
    const j: SuspectNumberJob = {
      kind: 'suspect_number',
      carrierId,
      suspect,
      severity: 'warning',
      score: 55,
      reasons: [{ rule: 'caller_model', points: 55, text: 'model m: 97 % likely a fraud caller' }],
      eventTimeMs: at,
      raisedAt: at + 50,
      ...(x ? { callerFeatures: x } : {}),
    };
    const [c] = await alerts.upsertSuspectAlert(j);
    return c.alertId;
  };
  const callAlert = async (carrierId: string, suspect: string, steps: (number[] | undefined)[]) => {
    const base: VictimOnCallJob = {
      kind: 'victim_on_call',
      carrierId,
      callId: uniqueId('c'),
      victim: tok(),
      suspect,
      region: '510100',
      severity: 'warning',
      score: 60,
      reasons: [{ rule: 'fanout', points: 30, text: 'called 41 different people in the last hour' }],
      callAnsweredAt: T0,
      stepS: 0,
      eventTimeMs: T0,
      raisedAt: T0 + 10,
    };
    let id = '';
    for (const [i, x] of steps.entries()) {
      const [c] = await alerts.upsertCallAlert({
        ...base,
        severity: i ? 'critical' : 'warning',
        score: 60 + 40 * i,
        stepS: 120 * i,
        eventTimeMs: T0 + 120_000 * i,
        raisedAt: T0 + 120_000 * i + 10,
        ...(x ? { callerFeatures: x } : {}),
      });
      id = c.alertId;
    }
    return id;
  };
  const outcome = (id: string, o: string, at: number) =>
    db.pool.query(
      `UPDATE alerts SET state = 'closed', outcome = $2, outcome_by = 'desk-a', outcome_at = $3 WHERE id = $1`,
      [id, o, new Date(at)],
    );
  const report = async (token: string, state: 'confirmed' | 'dismissed', at: number) => {
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO number_reports (partner_id, reporter, number_token, category, state, reviewed_by, reviewed_at)
       VALUES ('app', $1, $2, 'impersonation_police', $3, 'supervisor-1', $4) RETURNING id::text AS id`,
      [uniqueId('r'), token, state, new Date(at)],
    );
    return rows[0].id;
  };

  it('keeps the features of every detection step, by name; a malformed snapshot is no snapshot', async () => {
    const s = tok();
    const id = await callAlert('carrier-a', s, [features(1), features(2)]);
    const { rows } = await db.pool.query<{ caller_features: Record<string, number> | null }>(
      `SELECT caller_features FROM alert_evidence WHERE alert_id = $1 ORDER BY seq`,
      [id],
    );
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0].caller_features!).sort()).toEqual([...FEATURE_NAMES].sort());
    expect(rows[0].caller_features![FEATURE_NAMES[0]]).toBe(1);
    expect(rows[1].caller_features![FEATURE_NAMES[3]]).toBeCloseTo(2.03);
    const none = await suspectAlert('carrier-a', tok());
    const r2 = await db.pool.query(`SELECT caller_features FROM alert_evidence WHERE alert_id = $1`, [none]);
    expect(r2.rows).toEqual([{ caller_features: null }]);
  });

  it("exports one carrier's reviewed numbers as labelled samples with their provenance, and audits it", async () => {
    // fraud confirmed on a call alert: two distinct snapshots and a repeat of the first
    const fraudByOutcome = tok();
    const a1 = await callAlert('carrier-a', fraudByOutcome, [features(10), features(11)]);
    const a1b = await suspectAlert('carrier-a', fraudByOutcome, features(10));
    await outcome(a1, 'confirmed_fraud', T0 + 3600_000);
    // a false positive
    const courier = tok();
    const a2 = await suspectAlert('carrier-a', courier, features(20));
    await outcome(a2, 'false_positive', T0 + 3600_000);
    // a desk said false positive, then a supervisor confirmed reports of the number: fraud (latest)
    const flipped = tok();
    const a3 = await suspectAlert('carrier-a', flipped, features(30));
    await outcome(a3, 'false_positive', T0 + 3600_000);
    const r3 = await report(flipped, 'confirmed', T0 + 7200_000);
    // reports dismissed for a number the carrier alerted on: not fraud
    const dismissed = tok();
    await suspectAlert('carrier-a', dismissed, features(40));
    await report(dismissed, 'dismissed', T0 + 3600_000);
    // labelled, but the model never judged it (no snapshot): counted, not exported
    const noFeatures = tok();
    const a5 = await suspectAlert('carrier-a', noFeatures);
    await outcome(a5, 'confirmed_fraud', T0 + 3600_000);
    // not decided (dissuaded says nothing the review did not; pending reports are not reviewed)
    const dissuaded = await callAlert('carrier-a', tok(), [features(50)]);
    await outcome(dissuaded, 'dissuaded', T0 + 3600_000);
    const pending = tok();
    await suspectAlert('carrier-a', pending, features(60));
    await db.pool.query(
      `INSERT INTO number_reports (partner_id, reporter, number_token, category) VALUES ('app', 'x1', $1, 'other')`,
      [pending],
    );
    // another tenant: carrier-b's outcome on its own alert, and a confirmed report of a number only
    // carrier-b has seen, never reach carrier-a's export
    const other = tok();
    const b1 = await suspectAlert('carrier-b', other, features(70));
    await outcome(b1, 'confirmed_fraud', T0 + 3600_000);
    await report(other, 'confirmed', T0 + 3600_000);

    const out = join(dir, 'a.csv');
    const r = await exportFeedback(app, {
      carrierId: 'carrier-a',
      out,
      folds: 5,
      seed: 1,
      perNumber: 100,
      actor: 'cli:test',
    });
    expect(r.stats).toEqual({
      decisions: 6,
      numbers: 4,
      fraud: 2,
      samples: 5,
      withoutFeatures: 1,
      conflicts: 1,
      incomplete: 0,
      duplicates: 1,
      refused: 0,
    });

    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('# feedback carrier=carrier-a seed=1 folds=5 numbers=4 fraud=2 samples=5');
    expect(lines[1].split(',')).toEqual([
      'number',
      'fold',
      'label',
      'active_day',
      'weight',
      ...FEATURE_NAMES,
    ]);
    const rows = lines.slice(2).map((l) => l.split(',').map(Number));
    const prov = readFileSync(provenancePath(out), 'utf8')
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            number: number;
            token: string;
            label: number;
            conflict: boolean;
            carrierId: string;
            decisions: { source: string; id: string; decision: string; by: string }[];
            evidence: { alertId: string }[];
          },
      );
    const byToken = new Map(prov.map((p) => [p.token, p]));
    expect([...byToken.keys()].sort()).toEqual([fraudByOutcome, courier, flipped, dismissed].sort());
    const samplesOf = (token: string) => rows.filter((x) => x[0] === byToken.get(token)!.number);

    const f = byToken.get(fraudByOutcome)!;
    expect(f).toMatchObject({ label: 1, conflict: false, carrierId: 'carrier-a' });
    expect(f.number).toBeGreaterThanOrEqual(FEEDBACK_NUMBER_BASE);
    expect(f.decisions).toEqual([
      { source: 'alert', id: a1, decision: 'confirmed_fraud', by: 'desk-a', at: expect.any(String) },
    ]);
    expect(new Set(f.evidence.map((e) => e.alertId))).toEqual(new Set([a1]));
    expect(f.evidence).toHaveLength(2); // the suspect alert's snapshot repeated the first step's
    expect(a1b).not.toBe(a1);
    const fs = samplesOf(fraudByOutcome);
    expect(fs.map((x) => [x[2], x[3], x[4]])).toEqual([
      [1, 0, 0.5],
      [1, 0, 0.5],
    ]);
    expect(fs.map((x) => x[5])).toEqual([10, 11]);
    expect(fs[0].slice(5)).toHaveLength(FEATURE_COUNT);

    expect(byToken.get(courier)).toMatchObject({ label: 0, conflict: false });
    expect(samplesOf(courier).map((x) => [x[2], x[4], x[5]])).toEqual([[0, 1, 20]]);
    const fl = byToken.get(flipped)!;
    expect(fl).toMatchObject({ label: 1, conflict: true });
    expect(fl.decisions.map((d) => [d.source, d.id, d.decision])).toEqual([
      ['alert', a3, 'false_positive'],
      ['report', r3, 'confirmed'],
    ]);
    expect(byToken.get(dismissed)).toMatchObject({ label: 0 });
    // a number keeps its fold whatever else is exported
    for (const x of rows) expect(x[1]).toBe(rows.find((y) => y[0] === x[0])![1]);

    const text = readFileSync(out, 'utf8') + readFileSync(provenancePath(out), 'utf8');
    expect(text).not.toContain(other);
    expect(text).not.toContain(pending);
    expect(text).not.toMatch(/\+?\b1[3-9]\d{9}\b/); // tokens only, no clear number anywhere

    const audit = await db.pool.query<{
      actor: string;
      carrier_id: string;
      detail: { numbers: number; sha256: string };
    }>(`SELECT actor, carrier_id, detail FROM audit_log WHERE action = 'feedback.export'`);
    expect(audit.rows).toEqual([
      {
        actor: 'cli:test',
        carrier_id: 'carrier-a',
        detail: expect.objectContaining({ numbers: 4, sha256: r.sha256 }),
      },
    ]);

    // carrier-b sees only its own number
    const rb = await exportFeedback(app, {
      carrierId: 'carrier-b',
      out: join(dir, 'b.csv'),
      folds: 5,
      seed: 1,
      perNumber: 100,
      actor: 'cli:test',
    });
    expect(rb.stats).toMatchObject({ decisions: 2, numbers: 1, fraud: 1, samples: 1 });
    expect(readFileSync(provenancePath(join(dir, 'b.csv')), 'utf8')).toContain(other);
  });

  it('refuses an unknown carrier', async () => {
    await expect(
      exportFeedback(app, {
        carrierId: 'nobody',
        out: join(dir, 'x.csv'),
        folds: 5,
        seed: 1,
        perNumber: 100,
        actor: 't',
      }),
    ).rejects.toThrow('no carrier nobody');
  });
});
