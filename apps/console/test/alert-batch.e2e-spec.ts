import { AlertJobName, alertBatchItem, alertJobId, CallEndedJob, DeadLetterJob } from '@eagle-eye/contracts';
import { Stack, suspectJob, until, victimJob } from './harness';

/**
 * A detector round's alerts in one `alert-batch` job, through the real alert worker, PostgreSQL and
 * the console's API: every item lands as it would from a job of its own; an item the worker cannot
 * apply is dead-lettered alone under its own id while the rest of the batch lands; an error a retry
 * may cure retries the batch, and on its last attempt dead-letters only the items it could not
 * apply, which a supervisor's retry then adds back one by one.
 */
describe('alert batches', () => {
  const stack = new Stack();
  let supervisor: string;

  beforeAll(async () => {
    await stack.start();
    supervisor = await stack.login('supervisor', 'demo-supervisor');
  }, 90000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  const alertOf = async (where: string, value: string) =>
    (
      await stack.db.pool.query<{ kind: string; carrier_id: string; call_ended_at: Date | null }>(
        `SELECT kind, carrier_id, call_ended_at FROM alerts WHERE ${where} = $1`,
        [value],
      )
    ).rows;
  const ended = (victim: { carrierId: string; callId: string }, at: number): CallEndedJob => ({
    carrierId: victim.carrierId,
    callId: victim.callId,
    callEndedAt: at,
    talkTimeS: 240,
    raisedAt: at,
  });
  const deadLetter = (id: string) =>
    until(
      async () => (await stack.deadQueue.getJob(id))?.data as DeadLetterJob | undefined,
      `dead letter ${id}`,
    );

  it('applies every item of a batch: a call alert and its end, and a suspect number of another carrier', async () => {
    const call = victimJob();
    const suspect = suspectJob();
    const end = ended(call, call.callAnsweredAt + 240_000);
    await stack.enqueueBatch([
      alertBatchItem(AlertJobName.VictimOnCall, call),
      alertBatchItem(AlertJobName.SuspectNumber, suspect),
      alertBatchItem(AlertJobName.CallEnded, end),
    ]);
    const [alert] = await until(async () => {
      const rows = await alertOf('call_id', call.callId);
      return rows[0]?.call_ended_at ? rows : undefined;
    }, 'the call alert with its end');
    expect(alert.kind).toBe('victim_on_call');
    expect(alert.call_ended_at?.getTime()).toBe(end.callEndedAt);
    expect(
      await until(async () => (await alertOf('suspect', suspect.suspect))[0], 'the suspect'),
    ).toMatchObject({ kind: 'suspect_number', carrier_id: 'carrier-b' });
    // the console sees both, each once
    const list = await stack.api(supervisor, 'GET', '/api/alerts?limit=200');
    const mine = (list.body.items as { callId: string | null; suspect: string }[]).filter(
      (a) => a.callId === call.callId || (a.callId === null && a.suspect === suspect.suspect),
    );
    expect(mine).toHaveLength(2);
  }, 60000);

  it('dead-letters a malformed item and a refused one alone, under their own ids; the rest lands', async () => {
    const good = victimJob();
    // a clear phone number where a pseudonym belongs: refused by the worker's schema
    const malformed = victimJob({ victim: '13800138000' });
    // a carrier the database does not know (23503)
    const refused = victimJob({ carrierId: 'carrier-batch-new' });
    await stack.enqueueBatch([
      alertBatchItem(AlertJobName.VictimOnCall, malformed),
      alertBatchItem(AlertJobName.VictimOnCall, refused),
      alertBatchItem(AlertJobName.VictimOnCall, good),
    ]);
    await until(async () => (await alertOf('call_id', good.callId))[0], 'the good item');
    const malformedId = alertJobId(AlertJobName.VictimOnCall, malformed);
    const refusedId = alertJobId(AlertJobName.VictimOnCall, refused);
    const dm = await deadLetter(malformedId);
    expect(dm).toMatchObject({ name: AlertJobName.VictimOnCall, originalJobId: malformedId });
    expect(dm.failedReason).toMatch(/invalid payload: victim: must be a pseudonym token/);
    const dr = await deadLetter(refusedId);
    expect(dr.failedReason).toMatch(/rejected by the database/);
    expect(await alertOf('call_id', malformed.callId)).toEqual([]);
    expect(await alertOf('call_id', refused.callId)).toEqual([]);

    // once the carrier exists, a supervisor's retry adds the refused item as a job of its own
    await stack.db.pool.query(`INSERT INTO carriers (id, name) VALUES ('carrier-batch-new', 'Carrier New')`);
    const r = await stack.api(
      supervisor,
      'POST',
      `/api/admin/dead-letters/${encodeURIComponent(refusedId)}/retry`,
    );
    expect(r).toEqual({
      status: 200,
      body: { id: refusedId, name: AlertJobName.VictimOnCall, jobId: refusedId, how: 'added' },
    });
    expect(
      await until(async () => (await alertOf('call_id', refused.callId))[0], 'the retried item'),
    ).toMatchObject({ carrier_id: 'carrier-batch-new' });
    expect(await stack.deadQueue.getJob(refusedId)).toBeUndefined();
  }, 60000);

  it('retries the batch on an error a retry may cure, then dead-letters only the items still failing, each with what follows it for its call', async () => {
    // a transient failure (serialization_failure, class 40) for one carrier, by a trigger the test owns
    await stack.db.pool.query(`INSERT INTO carriers (id, name) VALUES ('carrier-flaky', 'Carrier Flaky')`);
    await stack.db.pool.query(`
      CREATE FUNCTION test_flaky_carrier() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'flaky carrier' USING ERRCODE = '40001'; END $$;
      CREATE TRIGGER test_flaky_carrier BEFORE INSERT ON alerts
        FOR EACH ROW WHEN (NEW.carrier_id = 'carrier-flaky') EXECUTE FUNCTION test_flaky_carrier();`);
    try {
      const before = victimJob();
      const flaky = victimJob({ carrierId: 'carrier-flaky' });
      const flakyEnd = ended(flaky, flaky.callAnsweredAt + 60_000);
      const after = suspectJob();
      await stack.enqueueBatch(
        [
          alertBatchItem(AlertJobName.VictimOnCall, before),
          alertBatchItem(AlertJobName.VictimOnCall, flaky),
          alertBatchItem(AlertJobName.CallEnded, flakyEnd),
          alertBatchItem(AlertJobName.SuspectNumber, after),
        ],
        { attempts: 2 },
      );
      const flakyId = alertJobId(AlertJobName.VictimOnCall, flaky);
      const endId = alertJobId(AlertJobName.CallEnded, flakyEnd);
      const dead = await deadLetter(flakyId);
      expect(dead).toMatchObject({ name: AlertJobName.VictimOnCall, attemptsMade: 2 });
      expect(dead.failedReason).toContain('flaky carrier');
      // the call's end came after its alert in the batch: it waits with it, dead-lettered too
      expect(await deadLetter(endId)).toMatchObject({ name: AlertJobName.CallEnded, data: flakyEnd });
      // the others landed once, although the batch ran twice
      expect(await alertOf('call_id', before.callId)).toHaveLength(1);
      expect(await alertOf('suspect', after.suspect)).toHaveLength(1);
      const history = await stack.db.pool.query(
        `SELECT count(*)::int AS n FROM alert_history h JOIN alerts a ON a.id = h.alert_id WHERE a.call_id = $1`,
        [before.callId],
      );
      expect(history.rows[0].n).toBe(1);
      const dl = await stack.api(supervisor, 'GET', '/api/admin/dead-letters');
      const ids = (dl.body.items as { id: string }[]).map((d) => d.id);
      expect(ids).toEqual(expect.arrayContaining([flakyId, endId]));
      expect(ids.filter((i) => i.startsWith('batch|'))).toEqual([]);
    } finally {
      await stack.db.pool.query(
        `DROP TRIGGER test_flaky_carrier ON alerts; DROP FUNCTION test_flaky_carrier();`,
      );
    }
  }, 60000);
});
