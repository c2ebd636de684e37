import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { SuspectNumberJob, VictimOnCallJob } from '@eagle-eye/contracts';
import { createPool, migrate, MIGRATIONS_DIR, seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema, testDatabaseUrl, uniqueId } from '@eagle-eye/testing';
import { AlertRepository } from '../../../alert-worker/src/alert.repository';
import { Principal } from '../auth/principal';
import { AlertsRepository } from './alerts.repository';

const tok = () => `p1.k1.${randomBytes(16).toString('base64url').slice(0, 22)}`;
const trace = () => {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
};
const sup: Principal = {
  userId: '1',
  username: 'sup',
  role: 'supervisor',
  carrierId: null,
  regions: [],
  displayName: 's',
};

/**
 * The REST AlertView names the trace of the alert's latest detection change (alerts.trace_id,
 * migration 096), as the socket event names its change's: written by the alert worker, read by
 * the console through alert_views, both connected as the app role.
 */
describe('alert trace id in REST answers (PostgreSQL)', () => {
  let db: TestSchema;
  let app: Pool;
  let worker: AlertRepository;
  let consoleRepo: AlertsRepository;
  beforeAll(async () => {
    db = await createTestSchema({ appRole: true });
    await seedDemo(db.pool);
    app = createPool(db.appUrl!, { max: 3 });
    worker = new AlertRepository(app);
    consoleRepo = new AlertsRepository(app);
  });
  afterAll(async () => {
    await app.end();
    await db.drop();
  });

  it('follows the detection changes of a call alert; a change without a trace keeps the last one', async () => {
    const t0 = Date.now() - 600_000;
    const first = trace();
    const job: VictimOnCallJob = {
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
      stepS: 0,
      eventTimeMs: t0,
      raisedAt: t0 + 10,
      traceparent: first.traceparent,
    };
    const [c] = await worker.upsertCallAlert(job);
    const got = async () => (await consoleRepo.get(sup, c.alertId))!.traceId;
    expect(await got()).toBe(first.traceId);
    const listed = await consoleRepo.list(sup, { carrierId: 'carrier-a', limit: 50, offset: 0 });
    expect(listed.items.find((a) => a.id === c.alertId)?.traceId).toBe(first.traceId);

    const upgrade = trace();
    await worker.upsertCallAlert({
      ...job,
      severity: 'critical',
      score: 100,
      stepS: 300,
      traceparent: upgrade.traceparent,
    });
    expect(await got()).toBe(upgrade.traceId);
    const ended = trace();
    await worker.recordCallEnded({
      carrierId: 'carrier-a',
      callId: job.callId,
      callEndedAt: t0 + 400_000,
      talkTimeS: 400,
      raisedAt: t0 + 400_010,
      traceparent: ended.traceparent,
    });
    expect(await got()).toBe(ended.traceId);
    // a claim by a person, a job that lost its traceparent: the last detection trace stays
    await db.pool.query(`UPDATE alerts SET state = 'claimed', claimed_by = 'op' WHERE id = $1`, [c.alertId]);
    await worker.upsertCallAlert({
      ...job,
      severity: 'critical',
      score: 120,
      stepS: 600,
      traceparent: undefined,
    });
    const detail = (await consoleRepo.get(sup, c.alertId))!;
    expect(detail.score).toBe(120);
    expect(detail.traceId).toBe(ended.traceId);
    // and the history keeps every change's own
    expect(detail.history.map((h) => h.detail.traceId)).toEqual([
      first.traceId,
      upgrade.traceId,
      ended.traceId,
      undefined,
    ]);
  });

  it('is null for an alert raised without a trace, and set by a later traced change', async () => {
    const job: SuspectNumberJob = {
      kind: 'suspect_number',
      carrierId: 'carrier-b',
      suspect: tok(),
      severity: 'warning',
      score: 55,
      reasons: [],
      eventTimeMs: Date.now(),
      raisedAt: Date.now(),
    };
    const [c] = await worker.upsertSuspectAlert(job);
    expect((await consoleRepo.get(sup, c.alertId))!.traceId).toBeNull();
    const t = trace();
    await worker.upsertSuspectAlert({ ...job, severity: 'critical', score: 90, traceparent: t.traceparent });
    expect((await consoleRepo.get(sup, c.alertId))!.traceId).toBe(t.traceId);
  });

  it('migration 096 fills it in for older alerts from their history', async () => {
    const before = mkdtempSync(join(tmpdir(), 'ee-mig-'));
    for (const f of readdirSync(MIGRATIONS_DIR).filter(
      (f) => f.endsWith('.sql') && Number(f.slice(0, 3)) < 96,
    ))
      copyFileSync(join(MIGRATIONS_DIR, f), join(before, f));
    const schema = uniqueId('t_');
    const admin = createPool(testDatabaseUrl(), { schema, max: 1 });
    try {
      await migrate(admin, { schema, dir: before });
      await seedDemo(admin);
      const t = trace();
      const suspect = tok();
      // alerts as the worker of before 096 wrote them, one with a traced history entry
      await admin.query(
        `INSERT INTO alerts (kind, carrier_id, suspect, severity, score, event_time, raised_at, created_seq, seq)
         VALUES ('suspect_number', 'carrier-a', $1, 'warning', 55, now(), now(), 1, 1), ('suspect_number', 'carrier-a', $2, 'warning', 55, now(), now(), 2, 2)`,
        [suspect, tok()],
      );
      await admin.query(
        `INSERT INTO alert_history (seq, alert_id, actor, action, detail)
         SELECT 1, id, 'detector', 'created', $2 FROM alerts WHERE suspect = $1`,
        [suspect, JSON.stringify({ traceId: t.traceId })],
      );
      await migrate(admin, { schema });
      const { rows } = await admin.query<{ trace: string | null }>(
        `SELECT view->>'traceId' AS trace FROM alert_views ORDER BY id`,
      );
      expect(rows.map((r) => r.trace)).toEqual([t.traceId, null]);
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
