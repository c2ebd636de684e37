import { AlertJobName, alertJobId, DeadLetterJob } from '@eagle-eye/contracts';
import { Stack, until } from './harness';

/**
 * Dead letters with retry, over HTTP against the console and the alert worker on real Redis and
 * PostgreSQL: a job the database refused (its carrier not onboarded yet) is dead-lettered; once the
 * carrier exists, a supervisor's retry puts it back on the alerts queue and the alert lands in
 * PostgreSQL; the dead letter is gone and the retry is in the audit log. Operators and police may not.
 */
describe('dead letters: retry', () => {
  const stack = new Stack();
  let supervisor: string;

  beforeAll(async () => {
    await stack.start();
    supervisor = await stack.login('supervisor', 'demo-supervisor');
  }, 90000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  /** A victim-on-call job for a carrier the database does not know: refused (23503) and dead-lettered. */
  async function deadLettered(carrierId: string) {
    const job = await stack.enqueueVictim({ carrierId });
    const id = alertJobId(AlertJobName.VictimOnCall, job);
    const dead = await until(async () => {
      const r = await stack.api(supervisor, 'GET', '/api/admin/dead-letters');
      return (r.body.items as (DeadLetterJob & { id: string })[]).find((d) => d.id === id);
    }, 'the dead letter');
    expect(dead.failedReason).toMatch(/rejected by the database/);
    return { job, id };
  }
  const alertOf = async (callId: string) =>
    (await stack.db.pool.query(`SELECT carrier_id, state FROM alerts WHERE call_id = $1`, [callId])).rows;
  const retry = (token: string, id: string) =>
    stack.api(token, 'POST', `/api/admin/dead-letters/${encodeURIComponent(id)}/retry`);

  it('puts a refused job back once its cause is fixed: the alert lands in PostgreSQL', async () => {
    const { job, id } = await deadLettered('carrier-new');
    expect(await alertOf(job.callId)).toEqual([]);

    // only supervisors and admins (the rest: 403, and nothing moves)
    const operator = await stack.login('operator.a', 'demo-operator-a');
    const officer = await stack.login('officer.chengdu', 'demo-officer');
    expect((await retry(operator, id)).status).toBe(403);
    expect((await retry(officer, id)).status).toBe(403);
    expect((await stack.api(operator, 'GET', '/api/admin/dead-letters')).status).toBe(403);
    expect(await stack.deadQueue.getJob(id)).toBeDefined();

    await stack.db.pool.query(`INSERT INTO carriers (id, name) VALUES ('carrier-new', 'Carrier New')`);
    const r = await retry(supervisor, id);
    expect(r).toEqual({
      status: 200,
      body: { id, name: AlertJobName.VictimOnCall, jobId: id, how: 'retried' },
    });
    // the original job (kept as failed) ran again, attempts reset: the alert exists
    expect(await until(async () => (await alertOf(job.callId))[0], 'the alert')).toEqual({
      carrier_id: 'carrier-new',
      state: 'open',
    });
    expect(await stack.deadQueue.getJob(id)).toBeUndefined();
    const list = await stack.api(supervisor, 'GET', '/api/admin/dead-letters');
    expect((list.body.items as { id: string }[]).map((d) => d.id)).not.toContain(id);
    const audit = await stack.db.pool.query(
      `SELECT actor, actor_role, object_type, detail FROM audit_log WHERE action = 'dead_letter.retry' AND object_id = $1`,
      [id],
    );
    expect(audit.rows).toEqual([
      {
        actor: 'supervisor',
        actor_role: 'supervisor',
        object_type: 'alert_job',
        detail: { name: AlertJobName.VictimOnCall, jobId: id, how: 'retried' },
      },
    ]);
    // a second retry of the same dead letter finds nothing
    expect((await retry(supervisor, id)).status).toBe(404);
  }, 60000);

  it('adds the job again when its failed original has expired from the alerts queue', async () => {
    const { job, id } = await deadLettered('carrier-late');
    // failed jobs are kept 7 days (removeOnFail); here it is gone already
    expect(await stack.queue.remove(id)).toBe(1);
    await stack.db.pool.query(`INSERT INTO carriers (id, name) VALUES ('carrier-late', 'Carrier Late')`);
    const admin = await stack.login('admin', 'demo-admin');
    const r = await retry(admin, id);
    expect(r.status).toBe(200);
    expect(r.body.how).toBe('added');
    expect(await until(async () => (await alertOf(job.callId))[0], 'the alert')).toEqual({
      carrier_id: 'carrier-late',
      state: 'open',
    });
    expect(await stack.deadQueue.getJob(id)).toBeUndefined();
  }, 60000);

  it('refuses a job no worker handles, an unknown id and a malformed one', async () => {
    const stray: DeadLetterJob = {
      name: 'no-such-job',
      data: {},
      originalJobId: 'stray-1',
      failedReason: 'no handler for alert job "no-such-job"',
      attemptsMade: 1,
      failedAt: Date.now(),
    };
    await stack.deadQueue.add('no-such-job', stray, { jobId: 'stray-1' });
    const r = await retry(supervisor, 'stray-1');
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('no worker handles job "no-such-job"');
    expect(await stack.deadQueue.getJob('stray-1')).toBeDefined(); // left for an SRE to look at
    expect((await retry(supervisor, 'no-such-dead-letter')).status).toBe(404);
    expect((await retry(supervisor, 'bad:id')).status).toBe(400);
  }, 30000);
});
