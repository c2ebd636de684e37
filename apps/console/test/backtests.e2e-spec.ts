import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { callEventToHandoff, HandoffEvent, handoffPartition, packEvents } from '@eagle-eye/contracts';
import { createPool } from '@eagle-eye/db';
import { RedisKeys } from '@eagle-eye/redis';
import { dropRedisPrefix, REPO_ROOT, testRedisUrl, uniqueId } from '@eagle-eye/testing';
import { Pool } from 'pg';
import { BacktestRunner } from '../../detector/src/backtest/backtest-runner';
import { Generator } from '../../simulator/src/sim/generator';
import { scenarioByName } from '../../simulator/src/sim/scenarios';
import { ConsoleBrowser, expectNoSeriousAxeViolations, shot } from './browser-harness';
import { Stack, token } from './harness';

const START = Date.UTC(2026, 10, 24, 2, 0, 0);
const MINUTES = 8;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Backtests from the console (README "Backtest"): a supervisor asks for one over REST (the console
 * built from dist, the app role, real PostgreSQL and Redis), the detector's backtest runner claims
 * it, replays the retained hand-off streams in a keyspace of its own and stores the report; the
 * supervisor reads it over REST and on the console page in real Chromium (zh-CN, screenshot).
 * Two live alerts the run never raised, one confirmed as fraud, must come out missed, with the
 * warning that the change would have dropped a confirmed fraud alert.
 */
describe('backtests: REST, the detector runner and the console page', () => {
  const stack = new Stack();
  const browser = new ConsoleBrowser(() => stack.url);
  let pool: Pool;
  let sup = '';
  let events = 0;
  const confirmedCall = `c-${randomBytes(4).toString('hex')}`;
  const runner = (prefix: string, maxRunMs?: number) =>
    new BacktestRunner(
      pool,
      {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: stack.db.appUrl!,
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: prefix,
        HANDOFF_PARTITIONS: '4',
      },
      // the built command, as the detector runs it (npm run backtest)
      {
        pollMs: 0,
        maxRunMs,
        command: [
          process.execPath,
          '-r',
          join(REPO_ROOT, 'scripts/register-paths.js'),
          join(REPO_ROOT, 'dist/apps/detector/src/backtest/backtest.cli.js'),
        ],
      },
    );

  beforeAll(async () => {
    await stack.start({ worker: false });
    pool = createPool(stack.db.appUrl!, { max: 2 });
    sup = await stack.login('supervisor', 'demo-supervisor');

    // the retained hand-off of a simulator run, as ingest writes it (packed, per carrier and partition)
    const gen = new Generator({
      seed: 24,
      runId: 'bt24',
      subscribers: 5000,
      scenario: scenarioByName('demo'),
      startMs: START,
      durationMs: MINUTES * 60_000,
    });
    const keys = new RedisKeys(stack.prefix);
    const chunks = new Map<string, HandoffEvent[]>();
    for (let e = gen.next(); e; e = gen.next()) {
      const ev = callEventToHandoff(e.event);
      if (typeof ev === 'string') throw new Error(ev);
      const k = `${e.carrierId} ${handoffPartition(ev.caller, 4)}`;
      chunks.set(k, [...(chunks.get(k) ?? []), ev]);
      events++;
    }
    for (const [k, evs] of chunks) {
      const [carrierId, p] = k.split(' ');
      for (let i = 0; i < evs.length; i += 50)
        await stack.redis.xadd(
          keys.handoffStream(Number(p)),
          '*',
          'c',
          carrierId,
          'p',
          packEvents(evs.slice(i, i + 50)),
        );
    }

    // two live alerts of the period the run does not raise: one confirmed fraud, one false positive
    for (const [call, outcome] of [
      [confirmedCall, 'confirmed_fraud'],
      [`c-${randomBytes(4).toString('hex')}`, 'false_positive'],
    ]) {
      await stack.db.pool.query(
        `INSERT INTO alerts (kind, carrier_id, call_id, victim, suspect, region, severity, score, reasons,
                             call_answered_at, event_time, raised_at, state, outcome, created_seq, seq)
         VALUES ('victim_on_call', 'carrier-a', $1, $2, $3, '510100', 'warning', 70, '[]', $4, $4, $4,
                 'closed', $5, nextval('alert_change_seq'), nextval('alert_change_seq'))`,
        [call, token(), token(), new Date(START + 60_000), outcome],
      );
    }
    await browser.launch();
  }, 120_000);

  afterAll(async () => {
    await browser.close();
    await pool?.end();
    await stack.stop();
  });

  let id = '';

  it('a supervisor asks; bad changes, other roles and other carriers are refused', async () => {
    const body = {
      from: iso(START),
      to: iso(START + (MINUTES + 15) * 60_000),
      changes: [{ ruleId: 'alert_policy', scope: '*', params: { victimWarning: 900, victimCritical: 990 } }],
      note: 'raise the victim thresholds',
    };
    const bad = await stack.api(sup, 'POST', '/api/admin/backtests', {
      ...body,
      changes: [{ ruleId: 'fanout', params: { distinct1h: 'many' } }],
    });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('change 1: rule fanout parameter distinct1h');
    expect(
      (await stack.api(sup, 'POST', '/api/admin/backtests', { ...body, to: iso(START - 1) })).status,
    ).toBe(400);
    const clear = await stack.api(sup, 'POST', '/api/admin/backtests', { ...body, note: 'call 13812345678' });
    expect(clear.status).toBe(400);
    expect(JSON.stringify(clear.body)).not.toContain('13812345678');
    const operator = await stack.login('operator.a', 'demo-operator-a');
    expect((await stack.api(operator, 'POST', '/api/admin/backtests', body)).status).toBe(403);
    expect((await stack.api(operator, 'GET', '/api/admin/backtests')).status).toBe(403);
    const admin = await stack.login('admin', 'demo-admin');
    expect((await stack.api(admin, 'GET', '/api/admin/backtests')).status).toBe(403);

    const ok = await stack.api(sup, 'POST', '/api/admin/backtests', body);
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      status: 'queued',
      requestedBy: 'supervisor',
      carriers: [],
      note: body.note,
    });
    id = ok.body.id as string;
    const list = await stack.api(sup, 'GET', '/api/admin/backtests');
    expect(list.body[0]).toMatchObject({ id, status: 'queued', counts: null });
    const audit = await stack.db.pool.query<{ action: string; actor: string }>(
      `SELECT action, actor FROM audit_log WHERE object_id = $1 AND action = 'backtest.request'`,
      [id],
    );
    expect(audit.rows).toEqual([{ action: 'backtest.request', actor: 'supervisor' }]);
  });

  it('the runner replays the hand-off and stores the report: the confirmed fraud alert dropped', async () => {
    const keys = new RedisKeys(stack.prefix);
    const lengths = () => Promise.all([0, 1, 2, 3].map((p) => stack.redis.xlen(keys.handoffStream(p))));
    const before = await lengths();
    const r = runner(stack.prefix);
    expect(await r.tick()).toBe(true);
    expect(await r.tick()).toBe(false); // nothing queued any more

    const got = await stack.api(sup, 'GET', `/api/admin/backtests/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, status: 'done', error: null });
    const report = got.body.report;
    expect(report.text).toContain(`Backtest of the hand-off streams of ${stack.prefix} (4 partitions)`);
    expect(report.text).toContain(
      'WARNING: this change would have dropped 1 alert(s) that desks confirmed as fraud',
    );
    expect(report.counts).toMatchObject({ live: 2, matched: 0, missed: 2 });
    expect(report.counts.byOutcome.confirmed_fraud).toEqual({ live: 1, kept: 0, dropped: 1 });
    expect(report.counts.byOutcome.false_positive).toEqual({ live: 1, kept: 0, dropped: 1 });
    expect(report.counts.new).toBe(report.counts.backtest);
    expect(report.missed.map((a: { callId: string }) => a.callId)).toContain(confirmedCall);
    expect(got.body.counts).toEqual(report.counts);
    expect(new Date(got.body.finishedAt).getTime()).toBeGreaterThanOrEqual(
      new Date(got.body.startedAt).getTime(),
    );
    // read only: the hand-off streams are as they were
    expect(await lengths()).toEqual(before);
    expect(before.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    const audit = await stack.db.pool.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE action IN ('backtest.run', 'backtest.read') ORDER BY id`,
    );
    expect(audit.rows.map((x) => x.action)).toEqual(['backtest.run', 'backtest.read']);
    expect(events).toBeGreaterThan(200);
  }, 300_000);

  it('a run that fails says why; one runs at a time; a dead runner’s backtest fails', async () => {
    const body = { from: iso(START), to: iso(START + 3600_000) };
    const a = await stack.api(sup, 'POST', '/api/admin/backtests', body);
    expect(await runner(uniqueId('empty')).tick()).toBe(true);
    const failed = await stack.api(sup, 'GET', `/api/admin/backtests/${a.body.id}`);
    expect(failed.body).toMatchObject({ status: 'failed', report: null });
    expect(failed.body.error).toMatch(/^no event to replay in the hand-off streams of empty/);

    // another runner holds the one running slot: this one leaves the queued backtest alone
    const b = await stack.api(sup, 'POST', '/api/admin/backtests', body);
    const c = await stack.api(sup, 'POST', '/api/admin/backtests', body);
    await stack.db.pool.query(
      `UPDATE backtests SET status = 'running', heartbeat_at = now(), runner = 'elsewhere' WHERE id = $1`,
      [b.body.id],
    );
    expect(await runner(stack.prefix).tick()).toBe(false);
    expect((await stack.api(sup, 'GET', `/api/admin/backtests/${c.body.id}`)).body.status).toBe('queued');
    // that runner died: after STALE_AFTER_S without progress its backtest fails
    await stack.db.pool.query(
      `UPDATE backtests SET heartbeat_at = now() - interval '11 minutes' WHERE id = $1`,
      [b.body.id],
    );
    await stack.db.pool.query(`UPDATE backtests SET status = 'failed' WHERE id = $1`, [c.body.id]);
    expect(await runner(stack.prefix).tick()).toBe(false);
    const dead = await stack.api(sup, 'GET', `/api/admin/backtests/${b.body.id}`);
    expect(dead.body).toMatchObject({ status: 'failed' });
    expect(dead.body.error).toContain('the runner stopped');
    // one that runs too long (or while the detector stops) is stopped, and says so
    const d = await stack.api(sup, 'POST', '/api/admin/backtests', body);
    expect(await runner(stack.prefix, 1).tick()).toBe(true);
    const stopped = await stack.api(sup, 'GET', `/api/admin/backtests/${d.body.id}`);
    expect(stopped.body).toMatchObject({ status: 'failed', report: null });
    expect(stopped.body.error).toMatch(/^stopped by SIGTERM/);
    expect((await stack.api(sup, 'GET', '/api/admin/backtests/999999')).status).toBe(404);
    await dropRedisPrefix(stack.redis, 'nothing-here');
  }, 120_000);

  it('the console page shows the report in zh-CN with the warning (screenshot)', async () => {
    const { page, errors } = await browser.open();
    await browser.signIn(page, 'supervisor', 'demo-supervisor', 'zh-CN');
    await page.click('[data-nav=backtests]');
    await page.waitForSelector(`#backtest-rows tr[data-id="${id}"][data-status=done]`);
    const row = await page.textContent(`#backtest-rows tr[data-id="${id}"]`);
    expect(row).toContain('已完成');
    await page.click(`#backtest-rows tr[data-id="${id}"] .open-report`);
    await page.waitForSelector('#backtest-warning');
    expect(await page.textContent('#backtest-warning')).toContain('此改动将漏掉 1 条已被确认为诈骗的告警');
    expect(await page.textContent('#backtest-spared')).toContain('此改动将减少 1 条被标记为误报的告警');
    expect(await page.textContent('[data-count=missed]')).toBe('2');
    const fraud = await page.$$eval('#backtest-outcomes tr[data-outcome=confirmed_fraud] td', (tds) =>
      tds.map((td) => td.textContent?.trim()),
    );
    expect(fraud).toEqual(['确认诈骗', '1', '0', '1']);
    expect(await page.textContent('#backtest-missed')).toContain(confirmedCall);
    await shot(page, 'backtest-report-zh-CN');
    await expectNoSeriousAxeViolations(page, 'backtest report');

    // the same in English
    await page.selectOption('#lang', 'en');
    await page.waitForSelector('text=would have dropped 1 alert(s) that desks confirmed as fraud');

    // asking from the page: times are the console's zone (Shanghai), whatever the browser's
    await page.fill('#backtest-form [name=from]', '2026-11-24T10:00');
    await page.fill('#backtest-form [name=to]', '2026-11-24T10:30');
    await page.fill('#backtest-form [name=carriers]', 'carrier-b');
    await page.fill('#backtest-form [name=changes]', '[{"ruleId": "fanout", "enabled": false}]');
    await page.click('#backtest-form button[type=submit]');
    await page.waitForSelector('#backtest-status:has-text("queued")');
    const { rows } = await stack.db.pool.query<{ f: Date; t: Date; carriers: string[]; changes: unknown }>(
      `SELECT period_from AS f, period_to AS t, carriers, changes FROM backtests ORDER BY id DESC LIMIT 1`,
    );
    expect(rows[0]).toEqual({
      f: new Date(START),
      t: new Date(START + 30 * 60_000),
      carriers: ['carrier-b'],
      changes: [{ ruleId: 'fanout', scope: '*', enabled: false }],
    });
    await page.fill('#backtest-form [name=changes]', '[{"ruleId": "nope"}]');
    await page.click('#backtest-form button[type=submit]');
    await page.waitForSelector('[role=alert]:has-text("unknown rule")');
    expect(errors).toEqual([]);
  }, 120_000);
});
