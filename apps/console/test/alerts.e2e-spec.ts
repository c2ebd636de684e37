import { VictimOnCallJob } from '@eagle-eye/contracts';
import { freePort, spawnApp, waitForHttp } from '@eagle-eye/testing';
import { Client, JWT_SECRET, sleep, Stack, until } from './harness';

/**
 * The built alert worker and console against real Redis and PostgreSQL: a job enqueued as the
 * detector does becomes one row and one `alert.created` in the right rooms only; a client that was
 * away gets what it missed; a worker killed between commit and acknowledgement leaves one alert.
 */
describe('alerts end to end (alert-worker + console)', () => {
  const stack = new Stack();
  const users = {
    opA: ['operator.a', 'demo-operator-a'],
    opB: ['operator.b', 'demo-operator-b'],
    chengdu: ['officer.chengdu', 'demo-officer'],
    mianyang: ['officer.mianyang', 'demo-officer'],
    supervisor: ['supervisor', 'demo-supervisor'],
  } as const;
  const tokens: Record<keyof typeof users, string> = {} as never;
  const clients: Client[] = [];

  beforeAll(async () => {
    await stack.start({ workerEnv: { ALERT_ESCALATE_AFTER_S: '3' } });
    for (const [k, [u, pw]] of Object.entries(users))
      tokens[k as keyof typeof users] = await stack.login(u, pw);
  }, 60000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await stack.stop();
  }, 60000);

  function connect(who: keyof typeof users, lastSeq?: number): Client {
    const c = new Client(stack.url, tokens[who], lastSeq);
    clients.push(c);
    return c;
  }

  it('routes a warning to its carrier and supervisors, a critical one also to its region police', async () => {
    const c = Object.fromEntries(
      (Object.keys(users) as (keyof typeof users)[]).map((k) => [k, connect(k)]),
    ) as Record<keyof typeof users, Client>;
    await Promise.all(Object.values(c).map((x) => x.connected()));

    const warn = await stack.enqueueVictim({ carrierId: 'carrier-a', region: '510100', severity: 'warning' });
    await until(
      () => c.opA.created().length === 1 && c.supervisor.created().length === 1,
      'warning delivered',
    );
    const rows = await stack.alertRows('call_id = $1', [warn.callId]);
    expect(rows).toHaveLength(1);
    expect(c.opA.created()[0]).toMatchObject({
      id: rows[0].id,
      kind: 'victim_on_call',
      carrierId: 'carrier-a',
      callId: warn.callId,
      victim: warn.victim,
      suspect: warn.suspect,
      severity: 'warning',
      state: 'open',
      claimedBy: null,
      outcome: null,
    });

    const crit = await stack.enqueueVictim({
      carrierId: 'carrier-b',
      region: '510700',
      severity: 'critical',
      score: 130,
    });
    await until(
      () =>
        c.opB.created().length === 1 &&
        c.mianyang.created().length === 1 &&
        c.supervisor.created().length === 2,
      'critical delivered',
    );
    expect(await stack.alertRows('call_id = $1', [crit.callId])).toHaveLength(1);
    expect(c.mianyang.created()[0]).toMatchObject({
      callId: crit.callId,
      routedToPolice: true,
      policeReason: 'critical',
    });
    await sleep(500); // anything misrouted would have arrived by now
    expect(c.opA.events.map((e) => e.alert.callId)).toEqual([warn.callId]);
    expect(c.opB.events.map((e) => e.alert.callId)).toEqual([crit.callId]);
    expect(c.chengdu.events).toEqual([]);
    expect(c.mianyang.events.map((e) => e.alert.callId)).toEqual([crit.callId]);

    // the same job again (a detector retry) changes nothing; an upgrade updates the same row
    await stack.enqueueVictim(warn);
    await stack.enqueueVictim({ ...warn, severity: 'critical', score: 110, stepS: 600 });
    await until(() => c.opA.events.some((e) => e.event === 'alert.updated'), 'upgrade delivered');
    expect(await stack.alertRows('call_id = $1', [warn.callId])).toHaveLength(1);
    const upgraded = c.opA.events.find((e) => e.event === 'alert.updated')!.alert;
    expect(upgraded).toMatchObject({
      id: rows[0].id,
      severity: 'critical',
      score: 110,
      routedToPolice: true,
    });
    await until(() => c.chengdu.events.length === 1, 'upgrade reaches Chengdu police');
    const history = await stack.db.pool.query(
      `SELECT action FROM alert_history WHERE alert_id = $1 ORDER BY seq`,
      [rows[0].id],
    );
    expect(history.rows.map((r) => r.action)).toContain('upgraded');
  });

  it('escalates an alert nobody claimed to the police of its region', async () => {
    const chengdu = connect('chengdu');
    await chengdu.connected();
    const job = await stack.enqueueVictim({ carrierId: 'carrier-a', region: '510100', severity: 'warning' });
    const ev = await until(
      () => chengdu.events.find((e) => e.alert.callId === job.callId),
      'escalation to Chengdu',
      20000,
    );
    expect(ev!.alert).toMatchObject({ state: 'escalated', routedToPolice: true, policeReason: 'unclaimed' });
    const metrics = await (await fetch(`http://127.0.0.1:${stack.workerPort}/metrics`)).text();
    expect(metrics).toMatch(/eagleeye_alert_escalations_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/eagleeye_alert_end_to_end_seconds_count\{[^}]*from="event_time"[^}]*\} [1-9]/);
  });

  it('gives a client that was away every alert it missed, in order, on reconnect', async () => {
    const first = connect('opA');
    await first.connected();
    await stack.enqueueVictim();
    await until(() => first.created().length === 1, 'first alert');
    const resumeFrom = first.lastSeq;
    first.close();

    const missed: VictimOnCallJob[] = [];
    for (let i = 0; i < 5; i++) missed.push(await stack.enqueueVictim());
    await stack.enqueueVictim({ carrierId: 'carrier-b', region: '510700' }); // another carrier's: not replayed
    await until(
      async () => (await stack.alertRows('call_id = ANY($1)', [missed.map((m) => m.callId)])).length === 5,
      'rows',
    );

    const again = connect('opA', resumeFrom);
    await again.connected();
    await until(() => missed.every((m) => again.created().some((a) => a.callId === m.callId)), 'replay');
    const seqs = again.events.map((e) => e.alert.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(again.events.every((e) => e.alert.carrierId === 'carrier-a')).toBe(true);
    expect(again.events.every((e) => e.alert.seq > resumeFrom)).toBe(true);
  });

  it('sends a job it can never process to the dead-letter queue, storing and logging no clear number', async () => {
    const bad = { ...(await stack.enqueueVictim({ callId: 'never-stored' })), victim: '+8613812345678' };
    await stack.queue.add('victim-on-call', bad, {
      jobId: 'bad-job-1',
      attempts: 3,
      backoff: { type: 'fixed', delay: 10 },
    });
    const admin = await stack.login('admin', 'demo-admin');
    const dead = await until(async () => {
      const r = await stack.api(admin, 'GET', '/api/admin/dead-letters');
      return (r.body.items as { id: string; failedReason: string }[]).find((d) => d.id === 'bad-job-1');
    }, 'dead letter');
    expect(dead!.failedReason).toMatch(/invalid payload: victim: must be a pseudonym token/);
    expect(dead!.failedReason).not.toContain('13812345678');
    expect(await stack.alertRows(`victim LIKE '+%'`)).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${stack.workerPort}/metrics`)).text();
    expect(metrics).toMatch(/eagleeye_alert_dead_letters_total\{[^}]*name="victim-on-call"[^}]*\} 1/);
    expect(stack.worker!.output()).not.toContain('13812345678');
  });

  it('shares the fan-out between console replicas: an action on one reaches sockets on another', async () => {
    const port = await freePort();
    const replica = spawnApp('console', {
      ...stack.env(),
      CONSOLE_HTTP_PORT: String(port),
      CONSOLE_JWT_SECRET: JWT_SECRET,
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, replica);
      const onReplica = new Client(`http://127.0.0.1:${port}`, tokens.supervisor);
      clients.push(onReplica);
      await onReplica.connected();
      const job = await stack.enqueueVictim();
      const created = await until(
        () => onReplica.created().find((a) => a.callId === job.callId),
        'worker event on replica',
      );
      const claim = await stack.api(tokens.opA, 'POST', `/api/alerts/${created.id}/claim`); // on the first console
      expect(claim.status).toBe(200);
      const updated = await until(
        () => onReplica.events.find((e) => e.event === 'alert.updated' && e.alert.id === created.id),
        'claim seen on the replica',
      );
      expect(updated.alert).toMatchObject({ state: 'claimed', claimedBy: 'operator.a' });
      expect(updated.alert.seq).toBeGreaterThan(created.seq);
    } finally {
      await replica.stop();
    }
  });

  it('refuses a socket without a valid token with a clear connect_error', async () => {
    const bad = new Client(stack.url, 'not-a-token');
    clients.push(bad);
    await expect(bad.connected()).rejects.toThrow(/unauthorized: invalid token/);
  });

  it('keeps one alert when the worker is killed between commit and acknowledgement', async () => {
    await stack.worker!.stop();
    const worker = await stack.startWorker({
      ALERT_WORKER_TEST_PAUSE_AFTER_COMMIT_MS: '4000',
      ALERT_WORKER_LOCK_MS: '2000',
      ALERT_WORKER_STALLED_INTERVAL_MS: '1000',
    });
    const sup = connect('supervisor');
    await sup.connected();
    const job = await stack.enqueueVictim();
    await until(
      async () => (await stack.alertRows('call_id = $1', [job.callId])).length === 1,
      'committed row',
      10000,
    );
    worker.proc.kill('SIGKILL');
    await worker.exited;
    expect(sup.events.filter((e) => e.alert.callId === job.callId)).toEqual([]); // died before publishing

    await stack.startWorker({ ALERT_WORKER_LOCK_MS: '2000', ALERT_WORKER_STALLED_INTERVAL_MS: '1000' });
    await until(
      () => sup.events.some((e) => e.alert.callId === job.callId),
      'publication after restart',
      20000,
    );
    expect(await stack.alertRows('call_id = $1', [job.callId])).toHaveLength(1);
    const created = await stack.db.pool.query(
      `SELECT count(*)::int AS n FROM alert_history h JOIN alerts a ON a.id = h.alert_id
        WHERE a.call_id = $1 AND h.action = 'created'`,
      [job.callId],
    );
    expect(created.rows[0].n).toBe(1);
  }, 60000);
});
