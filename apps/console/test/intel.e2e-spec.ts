import { Stack, token, until } from './harness';

/** The intel API over HTTP: who may read what, input checks, and the audit of every number lookup. */
describe('intel API (console and worker as built)', () => {
  const stack = new Stack();
  beforeAll(async () => {
    await stack.start();
  }, 60000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  it('serves the overview to supervisors and police, not to carrier operators', async () => {
    const [sup, officer, op] = await Promise.all([
      stack.login('supervisor', 'demo-supervisor'),
      stack.login('officer.chengdu', 'demo-officer'),
      stack.login('operator.a', 'demo-operator-a'),
    ]);
    const job = await stack.enqueueVictim({ region: '510100' });
    await until(
      async () => (await stack.api(sup, 'GET', '/api/intel/overview')).body.alerts >= 1,
      'the alert counted',
    );
    const o = await stack.api(sup, 'GET', '/api/intel/overview');
    expect(o.status).toBe(200);
    expect(o.body).toMatchObject({ timeZone: 'Asia/Shanghai', byKind: { victim_on_call: 1 } });
    expect(o.body.byRegion).toEqual([expect.objectContaining({ region: '510100', alerts: 1 })]);
    expect((await stack.api(officer, 'GET', '/api/intel/overview')).status).toBe(200);
    expect((await stack.api(op, 'GET', '/api/intel/overview')).status).toBe(403);
    expect((await stack.api(null, 'GET', '/api/intel/overview')).status).toBe(401);
    const bad = await stack.api(
      sup,
      'GET',
      '/api/intel/overview?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z',
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('at most 31 days');

    // a number lookup: found in scope for the carrier's operator, audited with the result
    const found = await stack.api(op, 'GET', `/api/intel/numbers/${job.suspect}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ token: job.suspect, alerts: 1, victims: { h1: 1 } });
    const missing = token();
    expect((await stack.api(op, 'GET', `/api/intel/numbers/${missing}`)).status).toBe(404);
    const clear = await stack.api(op, 'GET', '/api/intel/numbers/13812345678');
    expect(clear.status).toBe(400);
    expect(JSON.stringify(clear.body)).not.toContain('13812345678');
    const audit = await stack.db.pool.query<{ actor: string; object_id: string; detail: { found: boolean } }>(
      `SELECT actor, object_id, detail FROM audit_log WHERE action = 'intel.number_lookup' ORDER BY id`,
    );
    expect(audit.rows).toEqual([
      { actor: 'operator.a', object_id: job.suspect, detail: { found: true } },
      { actor: 'operator.a', object_id: missing, detail: { found: false } },
    ]);
  });
});
