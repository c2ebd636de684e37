import { Stack, until } from './harness';

/** An alert's notes and history are bounded in its detail and paged by cursor beyond that. */
describe("paging an alert's notes and history", () => {
  const stack = new Stack();
  beforeAll(async () => {
    await stack.start();
  }, 60000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  it('returns pages oldest first with a cursor, in scope only, with bounded limits', async () => {
    const op = await stack.login('operator.a', 'demo-operator-a');
    const other = await stack.login('operator.b', 'demo-operator-b');
    const job = await stack.enqueueVictim();
    const [row] = await until(async () => {
      const r = await stack.alertRows('call_id = $1', [job.callId]);
      return r.length ? r : undefined;
    }, 'the alert stored');
    for (let i = 1; i <= 5; i++)
      expect((await stack.api(op, 'POST', `/api/alerts/${row.id}/notes`, { text: `note ${i}` })).status).toBe(
        201,
      );

    const detail = await stack.api(op, 'GET', `/api/alerts/${row.id}`);
    expect(detail.body).toMatchObject({ moreNotes: false, moreHistory: false });
    expect((detail.body.notes as { text: string }[]).map((n) => n.text)).toEqual([
      'note 1',
      'note 2',
      'note 3',
      'note 4',
      'note 5',
    ]);

    const page1 = await stack.api(op, 'GET', `/api/alerts/${row.id}/notes?limit=2`);
    expect(page1.status).toBe(200);
    expect({ texts: page1.body.items.map((n: { text: string }) => n.text), more: page1.body.more }).toEqual({
      texts: ['note 4', 'note 5'],
      more: true,
    });
    const page2 = await stack.api(
      op,
      'GET',
      `/api/alerts/${row.id}/notes?limit=2&beforeId=${page1.body.items[0].id}`,
    );
    expect(page2.body.items.map((n: { text: string }) => n.text)).toEqual(['note 2', 'note 3']);
    const page3 = await stack.api(
      op,
      'GET',
      `/api/alerts/${row.id}/notes?limit=2&beforeId=${page2.body.items[0].id}`,
    );
    expect({ texts: page3.body.items.map((n: { text: string }) => n.text), more: page3.body.more }).toEqual({
      texts: ['note 1'],
      more: false,
    });

    const history = await stack.api(op, 'GET', `/api/alerts/${row.id}/history?limit=1`);
    expect(history.status).toBe(200);
    expect(history.body.items).toHaveLength(1);
    // outside the reader's scope: not found; limits bounded
    expect((await stack.api(other, 'GET', `/api/alerts/${row.id}/notes`)).status).toBe(404);
    expect((await stack.api(other, 'GET', `/api/alerts/${row.id}/history`)).status).toBe(404);
    expect((await stack.api(op, 'GET', `/api/alerts/${row.id}/notes?limit=100000`)).status).toBe(400);
    expect((await stack.api(op, 'GET', `/api/alerts/${row.id}/notes?beforeId=x`)).status).toBe(400);
    const audit = await stack.db.pool.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE object_id = $1 AND action LIKE 'alert.view%' ORDER BY id`,
      [row.id],
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      'alert.view',
      'alert.view_notes',
      'alert.view_notes',
      'alert.view_notes',
      'alert.view_history',
      'alert.view_denied',
      'alert.view_denied',
    ]);
  });
});
