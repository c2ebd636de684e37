import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createPool, seedDemo } from '@eagle-eye/db';
import { createTestSchema, TestSchema } from '@eagle-eye/testing';
import { AlertRepository } from './alert.repository';
import { victimJob as job, markClaimed, tok, victimJobRaisedAgo } from './test/alert-fixtures';

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
    expect(up).toMatchObject({ alertId: first.alertId, created: false });
    const [pub] = await repo.loadForPublish([first.alertId]);
    expect(pub.created).toBe(false);
    // the write returns the alert as consoles receive it, read in its own statement (migration 099)
    expect(up.view).toEqual(pub.view);
    expect(first.view).toMatchObject({ id: first.alertId, severity: 'warning', score: 70, state: 'open' });
    expect(first.view.seq).toBeLessThan(pub.view.seq);
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

  it('escalates in a sweep the open alerts raised long enough ago, oldest first, each once', async () => {
    // raised 30 and 31 days ago, far beyond what any other test here writes, so only these are due
    const day = 86_400_000;
    const old = (d: number) => victimJobRaisedAgo(d * day);
    const [a] = await repo.upsertCallAlert(old(31));
    const [b] = await repo.upsertCallAlert(old(30));
    const [claimed] = await repo.upsertCallAlert(old(31));
    const [recent] = await repo.upsertCallAlert(old(1));
    await markClaimed(db.pool, claimed.alertId);
    const due = 29 * 86400;
    const first = await repo.escalateDue(due, 1);
    expect(first.map((c) => c.alertId)).toEqual([a.alertId]);
    expect(first[0]).toMatchObject({ created: false });
    expect(first[0].view).toMatchObject({
      id: a.alertId,
      state: 'escalated',
      routedToPolice: true,
      policeReason: 'unclaimed',
    });
    expect((await repo.escalateDue(due, 10)).map((c) => c.alertId)).toEqual([b.alertId]);
    expect(await repo.escalateDue(due, 10)).toEqual([]);
    const { rows } = await db.pool.query<{ id: string; state: string; n: number }>(
      `SELECT a.id, a.state, (SELECT count(*)::int FROM alert_history h
                                WHERE h.alert_id = a.id AND h.action = 'escalated' AND h.actor = 'system') AS n
         FROM alerts a WHERE a.id = ANY($1::bigint[]) ORDER BY a.id`,
      [[a.alertId, b.alertId, claimed.alertId, recent.alertId]],
    );
    expect(rows.map((r) => [r.state, r.n])).toEqual([
      ['escalated', 1],
      ['escalated', 1],
      ['claimed', 0],
      ['open', 0],
    ]);
    await expect(repo.escalateDue(-1, 10)).rejects.toMatchObject({ code: '22023' });
    await expect(repo.escalateDue(60, 0)).rejects.toMatchObject({ code: '22023' });
  });

  it('escalates each due alert once when two sweeps run at once', async () => {
    const day = 86_400_000;
    const ids = (
      await Promise.all(Array.from({ length: 12 }, () => repo.upsertCallAlert(victimJobRaisedAgo(40 * day))))
    ).map(([c]) => c.alertId);
    const other = createPool(db.url, { max: 2 });
    try {
      const second = new AlertRepository(other);
      const due = 39 * 86400;
      const [x, y] = await Promise.all([repo.escalateDue(due, 5), second.escalateDue(due, 5)]);
      const rest = await repo.escalateDue(due, 100);
      const all = [...x, ...y, ...rest].map((c) => c.alertId).sort();
      expect(all).toEqual([...ids].sort());
      expect(new Set(all).size).toBe(ids.length);
    } finally {
      await other.end();
    }
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

  /**
   * The pool, counting the statements sent to PostgreSQL (round trips: node-postgres sends one
   * statement at a time) through it and through the clients it lends.
   */
  function counting(pool: Pool): { pool: Pool; statements: () => number; texts: string[] } {
    const texts: string[] = [];
    const seen = (q: unknown) => texts.push(typeof q === 'string' ? q : (q as { text: string }).text);
    const wrapped = {
      query: (q: unknown, ...rest: unknown[]) => {
        seen(q);
        return (pool.query as (...a: unknown[]) => unknown)(q, ...rest);
      },
      connect: async () => {
        const c = await pool.connect();
        return new Proxy(c, {
          get(t, k) {
            if (k === 'query') {
              return (q: unknown, ...rest: unknown[]) => {
                seen(q);
                return (t.query as (...a: unknown[]) => unknown)(q, ...rest);
              };
            }
            const v = Reflect.get(t, k) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
          },
        });
      },
    };
    return { pool: wrapped as unknown as Pool, statements: () => texts.length, texts };
  }

  it('writes each job in one statement: the change seq, the alert, its history and evidence in one round trip', async () => {
    const db2 = counting(db.pool);
    const repo = new AlertRepository(db2.pool, 8);
    const traceId = randomBytes(16).toString('hex');
    const j = job({ traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    const [created] = await repo.upsertCallAlert(j);
    expect(created.created).toBe(true);
    await repo.upsertCallAlert({ ...j, severity: 'critical', score: 120, stepS: 600 });
    expect(await repo.upsertCallAlert(j)).toEqual([]); // stale: nothing changes
    await repo.recordCallEnded({
      carrierId: j.carrierId,
      callId: j.callId,
      callEndedAt: Date.now(),
      talkTimeS: 700,
      raisedAt: Date.now(),
    });
    await repo.escalateUnclaimed(created.alertId);
    await repo.upsertSuspectAlert({
      kind: 'suspect_number',
      carrierId: 'carrier-a',
      suspect: tok(),
      severity: 'warning',
      score: 80,
      reasons: [],
      eventTimeMs: Date.now(),
      raisedAt: Date.now(),
    });
    // six jobs, six statements (the statements one by one took 4 to 8 each: BEGIN, the seq, the
    // row, the change, its history, its evidence, COMMIT)
    expect(db2.statements()).toBe(6);
    const { rows } = await db.pool.query<{ action: string; detail: Record<string, unknown> }>(
      `SELECT action, detail FROM alert_history WHERE alert_id = $1 ORDER BY seq`,
      [created.alertId],
    );
    expect(rows.map((r) => r.action)).toEqual(['created', 'upgraded', 'call_ended', 'escalated']);
    // the job's trace in the history of the changes it caused and on the alert; none on the timer's
    expect(rows.map((r) => r.detail.traceId)).toEqual([traceId, traceId, undefined, undefined]);
    expect(rows[0].detail).toEqual({ severity: 'warning', score: 70, stepS: 60, traceId });
    expect(rows[3].detail).toEqual({ reason: 'unclaimed' });
    const [pub] = await repo.loadForPublish([created.alertId]);
    expect(pub.view).toMatchObject({ traceId, state: 'escalated', talkTimeS: 700, policeReason: 'critical' });
  });

  it('commits writes that arrive together in shared statements, each alert once, seqs in commit order', async () => {
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
    // each write's view, read in the shared statement, is its own alert as committed
    expect(changes.map(([c]) => [c.view.id, c.view.callId, String(c.view.seq)])).toEqual(
      changes.map(([c], i) => [
        c.alertId,
        jobs[i].callId,
        rows.find((r) => r.call_id === jobs[i].callId)?.seq,
      ]),
    );
    expect(new Set(rows.map((r) => r.seq)).size).toBe(40);
    // the 40 writes made in one turn (as a batch job's items are) share statements (transactions)
    // of at most 8, in the order they arrived
    expect(db2.statements()).toBe(Math.ceil(40 / 8));
    expect(rows.map((r) => r.call_id)).toEqual(jobs.map((j) => j.callId));
    // with one write per statement, as many statements as writes
    const single = counting(db.pool);
    const one = new AlertRepository(single.pool, 1);
    await Promise.all(Array.from({ length: 5 }, () => one.upsertCallAlert(job())));
    expect(single.statements()).toBe(5);
  });

  it('never puts more than 64 writes in one statement, whatever it is given (subtransaction cache)', async () => {
    const db2 = counting(db.pool);
    const repo = new AlertRepository(db2.pool, 256);
    const jobs = Array.from({ length: 130 }, () => job());
    const changes = await Promise.all(jobs.map((j) => repo.upsertCallAlert(j)));
    expect(changes.every((c) => c.length === 1)).toBe(true);
    // 64 + 64 + 2 (with 256 allowed it would have been one statement)
    expect(db2.statements()).toBe(Math.ceil(130 / 64));
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
    // with its SQLSTATE, as pg's own errors carry it: the processor dead-letters it at once (23...)
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: '23503' });
    // alone, the function's own error
    await expect(repo.upsertCallAlert(job({ carrierId: 'carrier-unknown' }))).rejects.toMatchObject({
      code: '23503',
    });
    const { rows } = await db.pool.query(`SELECT call_id FROM alerts WHERE call_id = ANY($1)`, [
      all.map((j) => j.callId),
    ]);
    expect(rows.map((r) => r.call_id).sort()).toEqual(good.map((j) => j.callId).sort());
    // a retry of the same job finds nothing new: the writes that committed are whole
    expect(await Promise.all(good.map((j) => repo.upsertCallAlert(j)))).toEqual(good.map(() => []));
  });
});

describe('merging a later step into an alert, in PostgreSQL (migration 098)', () => {
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

  it('never downgrades, and takes the reasons of a step that scores at least as high', async () => {
    const j = job({ severity: 'critical', score: 120, stepS: 600 });
    const [a] = await repo.upsertCallAlert(j);
    expect(
      await repo.upsertCallAlert({ ...j, severity: 'warning', score: 60, stepS: 60, reasons: [] }),
    ).toEqual([]);
    const later = [{ rule: 'long_call', points: 50, text: 'over 10 min', reportOnly: false }];
    expect(
      await repo.upsertCallAlert({ ...j, severity: 'warning', score: 120, reasons: later }),
    ).toMatchObject([{ alertId: a.alertId, created: false }]);
    const [pub] = await repo.loadForPublish([a.alertId]);
    expect(pub.view).toMatchObject({
      severity: 'critical',
      score: 120,
      reasons: later,
      routedToPolice: true,
    });
    const { rows } = await db.pool.query<{ action: string; detail: Record<string, unknown> }>(
      `SELECT action, detail FROM alert_history WHERE alert_id = $1 ORDER BY seq`,
      [a.alertId],
    );
    expect(rows.map((r) => r.action)).toEqual(['created', 'updated']);
    expect(rows[1].detail).toEqual({ severity: 'critical', score: 120, stepS: 600 });
  });

  it('compares reasons regardless of key order (jsonb reorders keys)', async () => {
    const j = job({ reasons: [{ text: 'x', rule: 'a', points: 1, reportOnly: false }] });
    await repo.upsertCallAlert(j);
    expect(
      await repo.upsertCallAlert({ ...j, reasons: [{ rule: 'a', points: 1, reportOnly: false, text: 'x' }] }),
    ).toEqual([]);
  });

  it('takes the end of the call once', async () => {
    const j = job();
    const [a] = await repo.upsertCallAlert(j);
    const ended = Date.now();
    expect(await repo.upsertCallAlert({ ...j, callEndedAt: ended, talkTimeS: 300 })).toHaveLength(1);
    expect(await repo.upsertCallAlert({ ...j, callEndedAt: ended + 5000, talkTimeS: 305 })).toEqual([]);
    const [pub] = await repo.loadForPublish([a.alertId]);
    expect(pub.view).toMatchObject({ callEndedAt: new Date(ended).toISOString(), talkTimeS: 300 });
  });
});

/**
 * The write functions run with their caller's privileges (SECURITY INVOKER): the app role writes
 * alerts through them and still cannot change or erase the history and evidence they append.
 */
describe('the write functions as the app role', () => {
  let db: TestSchema;
  let app: Pool;
  beforeAll(async () => {
    db = await createTestSchema({ appRole: true });
    await seedDemo(db.pool);
    app = createPool(db.appUrl!, { max: 2 });
  }, 60_000);
  afterAll(async () => {
    await app?.end();
    await db?.drop();
  });

  it('are SECURITY INVOKER, write through the app role, and leave the audit trail append-only', async () => {
    const { rows: fns } = await db.pool.query<{ proname: string; prosecdef: boolean }>(
      `SELECT proname, prosecdef FROM pg_proc
        WHERE pronamespace = $1::regnamespace AND proname LIKE 'alert_write_%' ORDER BY proname`,
      [db.schema],
    );
    expect(fns).toEqual(
      [
        'alert_write_batch',
        'alert_write_call',
        'alert_write_call_end',
        'alert_write_escalation',
        'alert_write_escalation_due',
        'alert_write_suspect',
      ].map((proname) => ({ proname, prosecdef: false })),
    );
    const repo = new AlertRepository(app, 8);
    const jobs = Array.from({ length: 5 }, () => job());
    const changes = await Promise.all(jobs.map((j) => repo.upsertCallAlert(j))); // one alone, a batch of 4
    expect(changes.map((c) => c.length)).toEqual([1, 1, 1, 1, 1]);
    const id = changes[0][0].alertId;
    expect(await repo.escalateUnclaimed(id)).toHaveLength(1);
    // the sweep too, as the app role: the partial index and the change-sequence lock are its to use
    const [late] = await repo.upsertCallAlert(victimJobRaisedAgo(3_600_000));
    expect((await repo.escalateDue(1800, 10)).map((c) => c.alertId)).toEqual([late.alertId]);
    for (const sql of [
      `UPDATE alert_history SET actor = 'someone else' WHERE alert_id = ${id}`,
      `DELETE FROM alert_history WHERE alert_id = ${id}`,
      `DELETE FROM alert_evidence WHERE alert_id = ${id}`,
      `UPDATE alert_evidence SET score = 0 WHERE alert_id = ${id}`,
      `CREATE OR REPLACE FUNCTION alert_traced(p_trace_id text) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$`,
    ])
      await expect(app.query(sql)).rejects.toThrow(/permission denied|must be owner/);
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM alert_history WHERE alert_id = $1`,
      [id],
    );
    expect(rows[0].n).toBe(2);
  });
});
