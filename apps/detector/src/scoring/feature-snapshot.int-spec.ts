import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HandoffEvent, SuspectNumberJob, VictimOnCallJob } from '@eagle-eye/contracts';
import { seedDemo } from '@eagle-eye/db';
import { FEATURE_COUNT, FEATURE_NAMES } from '@eagle-eye/scoring';
import { AlertRepository } from '../../../alert-worker/src/alert.repository';
import { suspectNumberSchema, victimOnCallSchema } from '../../../alert-worker/src/alert-job.schemas';
import { exportFeedback } from '../../../simulator/src/feedback/feedback-export';
import { call, Harness, startHarness, T0, token } from '../test/harness';

/**
 * The model's feedback loop from the detector's side, on real Redis and PostgreSQL: an alert on a
 * number the model judged carries the features it saw; the worker keeps them with the alert's
 * evidence; once a desk confirms the fraud, the export gives exactly those features back as a
 * labelled training row.
 */
describe('caller-model feature snapshots: detector -> worker -> labelled training rows', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, undefined, { models: true });
    await seedDemo(h.schema.pool);
  });
  afterAll(async () => h.close());

  /** A day of a typical fraud SIM in the labelled data: 40 strangers over ~7 hours, answered, ~40 s each. */
  function fraudDay(caller: string, end: number): HandoffEvent[] {
    const out: HandoffEvent[] = [];
    for (let i = 0; i < 40; i++) out.push(...call(caller, token(), end - (40 - i) * 10 * 60_000, 40));
    return out;
  }

  it('sends the features with the alert jobs and gets them back from the export once confirmed', async () => {
    const scammer = token();
    const victim = token();
    await h.detection.process([h.entry(fraudDay(scammer, T0 - 60_000))]);
    await h.detection.process([h.entry(call(scammer, victim, T0, 900).slice(0, 2))]);
    await h.detection.sweep(T0 + 5000 + 61_000);

    const victimJobs = h.sink.jobs
      .filter((j) => j.name === 'victim-on-call' && (j.data as VictimOnCallJob).victim === victim)
      .map((j) => victimOnCallSchema.parse(j.data));
    const suspectJobs = h.sink.jobs
      .filter((j) => j.name === 'suspect-number' && (j.data as SuspectNumberJob).suspect === scammer)
      .map((j) => suspectNumberSchema.parse(j.data));
    expect(victimJobs.length).toBeGreaterThanOrEqual(1);
    expect(suspectJobs.length).toBeGreaterThanOrEqual(1);
    for (const j of [...victimJobs, ...suspectJobs]) expect(j.callerFeatures).toHaveLength(FEATURE_COUNT);
    // at the victim's call the model saw the whole day: 40 different people in 24 hours
    for (const j of victimJobs)
      expect(j.callerFeatures![FEATURE_NAMES.indexOf('distinct24h')]).toBeGreaterThanOrEqual(38);

    const worker = new AlertRepository(h.schema.pool);
    const [alert] = await worker.upsertCallAlert(victimJobs[0]);
    for (const j of victimJobs.slice(1)) await worker.upsertCallAlert(j);
    for (const j of suspectJobs) await worker.upsertSuspectAlert(j);
    await h.schema.pool.query(
      `UPDATE alerts SET state = 'closed', outcome = 'confirmed_fraud', outcome_by = 'desk', outcome_at = now()
        WHERE id = $1`,
      [alert.alertId],
    );

    const out = join(mkdtempSync(join(tmpdir(), 'ee-snap-')), 'feedback.csv');
    const r = await exportFeedback(h.schema.pool, {
      carrierId: h.carrier,
      out,
      folds: 5,
      seed: 1,
      perNumber: 100,
      actor: 'test',
    });
    expect(r.stats).toMatchObject({ decisions: 1, numbers: 1, fraud: 1 });
    const rows = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(2)
      .map((l) => l.split(',').map(Number));
    const sent = [...victimJobs, ...suspectJobs].map((j) => j.callerFeatures!);
    for (const row of rows) {
      expect(row[2]).toBe(1);
      const x = row.slice(5);
      const same = sent.find((s) => s.every((v, i) => Math.abs(v - x[i]) <= 1e-9 * Math.max(1, Math.abs(v))));
      expect(same).toBeDefined();
    }
    // every step the worker kept is a row (a step that changed nothing is not kept)
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.length).toBeLessThanOrEqual(new Set(sent.map((s) => s.join(','))).size);
  });
});
