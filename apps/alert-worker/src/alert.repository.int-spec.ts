import { randomBytes } from 'node:crypto';
import { VictimOnCallJob } from '@eagle-eye/contracts';
import { Pool } from 'pg';
import { seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema, uniqueId } from '@eagle-eye/testing';
import { AlertRepository, mergeFacts } from './alert.repository';

const tok = () => `p1.k1.${randomBytes(16).toString('base64url').slice(0, 22)}`;

function job(over: Partial<VictimOnCallJob> = {}): VictimOnCallJob {
  const now = Date.now();
  return {
    kind: 'victim_on_call',
    carrierId: 'carrier-a',
    callId: uniqueId('c'),
    victim: tok(),
    suspect: tok(),
    region: '510100',
    severity: 'warning',
    score: 70,
    reasons: [{ rule: 'fanout', points: 30, text: 'called 90 different people', reportOnly: false }],
    callAnsweredAt: now - 60000,
    stepS: 60,
    eventTimeMs: now,
    raisedAt: now,
    ...over,
  };
}

describe('AlertRepository on real PostgreSQL', () => {
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

  it('writes a fact once, upgrades the same row and keeps its history', async () => {
    const j = job();
    const [first] = await repo.upsertCallAlert(j);
    expect(first.created).toBe(true);
    expect(await repo.upsertCallAlert(j)).toEqual([]); // the same fact again
    expect(await repo.upsertCallAlert({ ...j, severity: 'warning', score: 50, stepS: 30 })).toEqual([]); // stale
    const [up] = await repo.upsertCallAlert({ ...j, severity: 'critical', score: 120, stepS: 600 });
    expect(up).toEqual({ alertId: first.alertId, created: false });
    const [pub] = await repo.loadForPublish([first.alertId]);
    expect(pub.created).toBe(false);
    expect(pub.view).toMatchObject({
      severity: 'critical',
      score: 120,
      routedToPolice: true,
      policeReason: 'critical',
    });
    const { rows } = await db.pool.query(
      `SELECT action, seq FROM alert_history WHERE alert_id = $1 ORDER BY seq`,
      [first.alertId],
    );
    expect(rows.map((r) => r.action)).toEqual(['created', 'upgraded']);
    expect(Number(rows[1].seq)).toBe(pub.view.seq);
    expect(
      (await db.pool.query(`SELECT count(*)::int AS n FROM alerts WHERE call_id = $1`, [j.callId])).rows[0].n,
    ).toBe(1);
  });

  it('applies a call end that arrived before its alert', async () => {
    const j = job();
    expect(
      await repo.recordCallEnded({
        carrierId: j.carrierId,
        callId: j.callId,
        callEndedAt: j.raisedAt,
        talkTimeS: 400,
        raisedAt: j.raisedAt,
      }),
    ).toEqual([]);
    const [c] = await repo.upsertCallAlert(j);
    const [pub] = await repo.loadForPublish([c.alertId]);
    expect(pub.view.talkTimeS).toBe(400);
    expect(pub.view.callEndedAt).toBe(new Date(j.raisedAt).toISOString());
  });

  it('keeps one suspect-number alert per carrier and number, routed to police', async () => {
    const s = {
      kind: 'suspect_number' as const,
      carrierId: 'carrier-b',
      suspect: tok(),
      severity: 'warning' as const,
      score: 80,
      reasons: [],
      eventTimeMs: Date.now(),
      raisedAt: Date.now(),
    };
    const [a] = await repo.upsertSuspectAlert(s);
    expect(await repo.upsertSuspectAlert(s)).toEqual([]);
    const [b] = await repo.upsertSuspectAlert({ ...s, carrierId: 'carrier-a' });
    expect(b.alertId).not.toBe(a.alertId);
    const [pub] = await repo.loadForPublish([a.alertId]);
    expect(pub.view).toMatchObject({
      kind: 'suspect_number',
      routedToPolice: true,
      callId: null,
      victim: null,
    });
  });

  it('escalates only an alert still open', async () => {
    const [c] = await repo.upsertCallAlert(job());
    expect(await repo.escalateUnclaimed(c.alertId)).toHaveLength(1);
    expect(await repo.escalateUnclaimed(c.alertId)).toEqual([]);
  });

  it('hands out change numbers in commit order under concurrency', async () => {
    const jobs = Array.from({ length: 20 }, () => job());
    await Promise.all(jobs.map((j) => repo.upsertCallAlert(j)));
    const { rows } = await db.pool.query<{ seq: string; xmin: string }>(
      `SELECT seq FROM alerts WHERE call_id = ANY($1) ORDER BY seq`,
      [jobs.map((j) => j.callId)],
    );
    expect(new Set(rows.map((r) => r.seq)).size).toBe(20);
  });
});

describe('AlertRepository group commit on real PostgreSQL', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema();
    await seedDemo(db.pool);
  });
  afterAll(async () => {
    await db.drop();
  });

  /** the pool, counting the transactions its clients begin (other suites share the database's counters) */
  function counting(pool: Pool): { pool: Pool; begins: () => number } {
    let begins = 0;
    const wrapped = {
      query: pool.query.bind(pool),
      connect: async () => {
        const c = await pool.connect();
        return new Proxy(c, {
          get(t, k) {
            if (k === 'query') {
              return (text: unknown, ...rest: unknown[]) => {
                if (text === 'BEGIN') begins++;
                return (t.query as (...a: unknown[]) => unknown)(text, ...rest);
              };
            }
            const v = Reflect.get(t, k) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
          },
        });
      },
    };
    return { pool: wrapped as unknown as Pool, begins: () => begins };
  }

  it('commits writes that arrive together in shared transactions, each alert once, seqs in commit order', async () => {
    const db2 = counting(db.pool);
    const repo = new AlertRepository(db2.pool, 8);
    const jobs = Array.from({ length: 40 }, () => job());
    const changes = await Promise.all(jobs.map((j) => repo.upsertCallAlert(j)));
    expect(changes.map((c) => c.length)).toEqual(jobs.map(() => 1));
    const { rows } = await db.pool.query<{ call_id: string; seq: string }>(
      `SELECT call_id, seq FROM alerts WHERE call_id = ANY($1) ORDER BY seq`,
      [jobs.map((j) => j.callId)],
    );
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.seq)).size).toBe(40);
    // one write started alone, the other 39 waited and shared transactions of at most 8
    expect(db2.begins()).toBe(1 + Math.ceil(39 / 8));
    // with one write per transaction, as many transactions as writes
    const single = counting(db.pool);
    const one = new AlertRepository(single.pool, 1);
    await Promise.all(Array.from({ length: 5 }, () => one.upsertCallAlert(job())));
    expect(single.begins()).toBe(5);
  });

  it('rolls back a failing write alone: the others of its transaction commit, the failure reaches its job', async () => {
    const repo = new AlertRepository(db.pool, 8);
    const good = Array.from({ length: 6 }, () => job());
    // a carrier the database does not know: the foreign key refuses the row
    const bad = job({ carrierId: 'carrier-unknown' });
    const all = [good[0], ...good.slice(1, 3), bad, ...good.slice(3)];
    const results = await Promise.allSettled(all.map((j) => repo.upsertCallAlert(j)));
    expect(results.map((r) => r.status)).toEqual(all.map((j) => (j === bad ? 'rejected' : 'fulfilled')));
    expect(String((results[3] as PromiseRejectedResult).reason)).toMatch(/foreign key|violates/);
    const { rows } = await db.pool.query(`SELECT call_id FROM alerts WHERE call_id = ANY($1)`, [
      all.map((j) => j.callId),
    ]);
    expect(rows.map((r) => r.call_id).sort()).toEqual(good.map((j) => j.callId).sort());
    // a retry of the same job finds nothing new: the writes that committed are whole
    expect(await Promise.all(good.map((j) => repo.upsertCallAlert(j)))).toEqual(good.map(() => []));
  });
});

describe('mergeFacts', () => {
  const row = {
    severity: 'critical' as const,
    score: 120,
    reasons: [],
    step_s: 600,
    call_ended_at: null,
    police: true,
    police_reason: 'critical',
  };
  it('never downgrades', () => {
    expect(mergeFacts(row, { severity: 'warning', score: 60, reasons: [], stepS: 60 })).toBeNull();
  });
  it('compares reasons regardless of key order (jsonb reorders keys)', () => {
    const r = { ...row, reasons: [{ text: 'x', rule: 'a', points: 1 }] };
    expect(
      mergeFacts(r, {
        severity: 'critical',
        score: 120,
        reasons: [{ rule: 'a', points: 1, text: 'x' }],
        stepS: 600,
      }),
    ).toBeNull();
  });
  it('takes the end of the call once', () => {
    expect(
      mergeFacts(row, { severity: 'critical', score: 120, reasons: [], stepS: 600, callEndedAt: 1 }),
    ).not.toBeNull();
  });
});
