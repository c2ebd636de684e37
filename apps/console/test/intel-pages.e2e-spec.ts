import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Page } from 'playwright-core';
import { VictimOnCallJob } from '@eagle-eye/contracts';
import { ARTIFACTS, ConsoleBrowser, expectNoSeriousAxeViolations, Locale } from './browser-harness';
import { Stack, token, until } from './harness';

/**
 * The intelligence pages in headless Chromium against the console and alert worker as built: the
 * situation map (supervisor in English, a Chengdu officer in Chinese: only their jurisdiction), a
 * number lookup, a case timeline (printed to PDF as a case file) and the report review queue with
 * its confirmation dialog; the case-timeline API's scoping and audit. Screenshots and the PDF go
 * to test-artifacts/ (git-ignored).
 */

describe('intelligence pages in a browser', () => {
  const stack = new Stack();
  let sup = '';
  let admin = '';
  const S1 = token();
  const S2 = token();
  const V1 = token();
  let caseJob: VictimOnCallJob;
  let caseId = '';
  const reported = token();

  const cb = new ConsoleBrowser(() => stack.url);
  const open = () => cb.open({ width: 1440, height: 1000 });
  const signIn = (page: Page, username: string, password: string, locale: Locale) =>
    cb.signIn(page, username, password, locale);

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  /** The share of the map canvas's pixels that are not background: the prefectures were drawn. */
  const mapInk = (page: Page) =>
    page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('#overview-map canvas');
      if (!c || !c.width) return 0;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
      return ink / (c.width * c.height);
    });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await stack.start({
      consoleEnv: { CONSOLE_TIME_ZONE: 'Asia/Shanghai', REPORTS_GRAYLIST_REPORTERS: '2' },
    });
    [sup, admin] = await Promise.all([
      stack.login('supervisor', 'demo-supervisor'),
      stack.login('admin', 'demo-admin'),
    ]);
    const now = Date.now();
    const fan = (n: number) => ({
      rule: 'fanout',
      points: 30,
      text: `called ${n} different people in the last hour`,
    });
    // the case: S1 on the line with V1 in Chengdu, raised at 3 min, upgraded to critical at 10 min
    caseJob = await stack.enqueueVictim({
      suspect: S1,
      victim: V1,
      callAnsweredAt: now - 11 * 60_000,
      stepS: 180,
      eventTimeMs: now - 8 * 60_000,
      raisedAt: now - 8 * 60_000,
      score: 60,
      reasons: [fan(41)],
    });
    await until(
      async () => (await stack.alertRows('call_id = $1', [caseJob.callId])).length === 1,
      'the case',
    );
    await stack.enqueueVictim({
      ...caseJob,
      severity: 'critical',
      score: 110,
      stepS: 600,
      eventTimeMs: now - 60_000,
      raisedAt: now - 60_000,
      reasons: [
        fan(55),
        { rule: 'long_call', points: 50, text: 'on the phone with a suspect stranger for over 10 min' },
      ],
    });
    // S1 earlier on another victim; S2 of the same ring on V1 just before; elsewhere in the province
    await stack.enqueueVictim({
      suspect: S1,
      callAnsweredAt: now - 40 * 60_000,
      severity: 'critical',
      score: 100,
    });
    await stack.enqueueVictim({
      suspect: S2,
      victim: V1,
      callAnsweredAt: now - 14 * 60_000,
      severity: 'critical',
    });
    await stack.enqueueVictim({ region: '511300' });
    await stack.enqueueVictim({ region: '511300', severity: 'critical' });
    await stack.enqueueVictim({ region: '513400', severity: 'critical' });
    await stack.enqueueVictim({ region: '510104' });
    await stack.enqueueVictim({ region: '510700', carrierId: 'carrier-b' });
    await until(
      async () =>
        (await stack.alertRows()).length === 8 &&
        (
          await stack.db.pool.query(`SELECT 1 FROM alerts WHERE call_id = $1 AND severity = 'critical'`, [
            caseJob.callId,
          ])
        ).rowCount === 1,
      'every alert written',
    ).catch(async (e: Error) => {
      const rows = await stack.db.pool.query(
        `SELECT call_id, region, severity, step_s FROM alerts ORDER BY id`,
      );
      throw new Error(`${e.message}: ${JSON.stringify(rows.rows)} ${stack.worker?.output().slice(-1500)}`);
    });
    caseId = (await stack.alertRows('call_id = $1', [caseJob.callId]))[0].id;
    await stack.db.pool.query(
      `UPDATE alerts SET outcome = 'confirmed_fraud', state = 'closed' WHERE suspect = $1 AND call_id <> $2`,
      [S1, caseJob.callId],
    );
    await stack.db.pool.query(
      `UPDATE alerts SET outcome = 'false_positive', state = 'closed' WHERE region = '511300' AND severity = 'warning'`,
    );
    // two people report a number through a partner app: graylisted, waiting for review
    const partner = await stack.api(admin, 'POST', '/api/report-partners', {
      id: 'safe-app',
      name: 'Safe app',
    });
    for (const reporter of ['u-1', 'u-2'])
      expect(
        (
          await fetch(`${stack.url}/api/reports`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${partner.body.apiKey}` },
            body: JSON.stringify({
              reporter,
              number: reported,
              category: 'impersonation_police',
              evidence: `caller said my bank card was used in a crime (${reporter})`,
              region: '510100',
            }),
          })
        ).status,
      ).toBe(201);

    await cb.launch();
  }, 120000);
  afterAll(async () => {
    await cb.close();
    await stack.stop();
  }, 60000);

  it('serves the case timeline to those who may read the alert, audited, 404 to others', async () => {
    const [opA, opB, chengdu, mianyang] = await Promise.all([
      stack.login('operator.a', 'demo-operator-a'),
      stack.login('operator.b', 'demo-operator-b'),
      stack.login('officer.chengdu', 'demo-officer'),
      stack.login('officer.mianyang', 'demo-officer'),
    ]);
    const t = await stack.api(opA, 'GET', `/api/alerts/${caseId}/timeline`);
    expect(t.status).toBe(200);
    // the worker kept both detection steps with their own reasons
    expect(
      t.body.steps
        .filter((s: { evidence: unknown }) => s.evidence) // the detection steps, not the routing to police
        .map((s: { action: string; evidence: { stepS: number; reasons: unknown[] } }) => [
          s.action,
          s.evidence.stepS,
          s.evidence.reasons.length,
        ]),
    ).toEqual([
      ['created', 180, 1],
      ['upgraded', 600, 2],
    ]);
    expect(t.body.suspectCalls).toHaveLength(1);
    expect(t.body.suspectCalls[0]).toMatchObject({
      suspect: S1,
      relation: 'before',
      outcome: 'confirmed_fraud',
    });
    expect(t.body.victimCalls.map((c: { suspect: string }) => c.suspect)).toEqual([S2]);
    expect((await stack.api(chengdu, 'GET', `/api/alerts/${caseId}/timeline`)).status).toBe(200);
    expect((await stack.api(opB, 'GET', `/api/alerts/${caseId}/timeline`)).status).toBe(404);
    expect((await stack.api(mianyang, 'GET', `/api/alerts/${caseId}/timeline`)).status).toBe(404);
    expect((await stack.api(null, 'GET', `/api/alerts/${caseId}/timeline`)).status).toBe(401);
    expect((await stack.api(opA, 'GET', `/api/alerts/${caseId}/timeline?hours=500`)).status).toBe(400);
    expect((await stack.api(opA, 'GET', `/api/alerts/x1/timeline`)).status).toBe(400);
    const audit = await stack.db.pool.query<{ actor: string; action: string }>(
      `SELECT actor, action FROM audit_log WHERE object_id = $1 AND action LIKE 'alert.timeline%' ORDER BY id`,
      [caseId],
    );
    expect(audit.rows).toEqual([
      { actor: 'operator.a', action: 'alert.timeline' },
      { actor: 'officer.chengdu', action: 'alert.timeline' },
      { actor: 'operator.b', action: 'alert.timeline_denied' },
      { actor: 'officer.mianyang', action: 'alert.timeline_denied' },
    ]);
  });

  it('draws the situation on the map of Sichuan for a supervisor (en)', async () => {
    const { page, errors } = await open();
    await signIn(page, 'supervisor', 'demo-supervisor', 'en');
    await page.click('[data-nav=overview]');
    await page.waitForSelector('#overview-totals [data-total=alerts]:has-text("8")');
    expect(await page.textContent('#overview-totals [data-total=critical]')).toBe('5');
    expect(await page.textContent('#overview-totals [data-total=confirmed]')).toBe('1');
    // the table beside the map: Chengdu 3 (+1 of a Chengdu county), Nanchong 2, Liangshan 1, Mianyang 1
    const regions = await page.$$eval('#overview-regions tr', (rows) =>
      rows.map((r) => [r.getAttribute('data-region'), r.children[1].textContent]),
    );
    expect(regions).toEqual(
      expect.arrayContaining([
        ['510100', '3'],
        ['511300', '2'],
        ['513400', '1'],
        ['510700', '1'],
        ['510104', '1'],
      ]),
    );
    expect(await page.textContent('#overview-regions')).toContain('Chengdu');
    // per-rule precision: fanout confirmed once, false positive once
    const fanout = await page.$$eval('#overview-rules tr[data-rule=fanout] td', (c) =>
      c.map((x) => x.textContent),
    );
    expect(fanout).toEqual(['fanout', '8', '1', '1', '50 %']);
    // and per day (one day here, two if the run straddles midnight in Shanghai): the counts add up
    const perDay = await page.$$eval('#overview-rule-days td[data-rule=fanout]', (c) =>
      c.map((x) => x.textContent),
    );
    expect(perDay.reduce((n, x) => n + Number(/\((\d+)\)/.exec(x ?? '')?.[1] ?? 0), 0)).toBe(8);
    await until(async () => (await mapInk(page)) > 0.2, 'the map drawn');
    await page.waitForTimeout(800); // the charts' entry animation
    await shot(page, 'intel-overview-en');
    await expectNoSeriousAxeViolations(page, 'situation page');
    // a day at a glance becomes days: the trend turns daily
    await page.selectOption('#overview-window', 'w7d');
    await page.waitForSelector('h2:has-text("Alerts per day")');
    expect(errors).toEqual([]);
  });

  it('shows a Chengdu officer only their jurisdiction, in Chinese', async () => {
    const { page, errors } = await open();
    await signIn(page, 'officer.chengdu', 'demo-officer', 'zh-CN');
    await page.click('[data-nav=overview]');
    await page.waitForSelector('#overview-map canvas');
    await until(async () => (await mapInk(page)) > 0.2, 'the map drawn');
    // police see alerts routed to police in 510100 only: the case, S1's earlier call, S2's
    await page.waitForSelector('#overview-totals [data-total=alerts]:has-text("3")');
    const regions = await page.$$eval('#overview-regions tr', (rows) =>
      rows.map((r) => r.getAttribute('data-region')),
    );
    expect(regions).toEqual(['510100']);
    expect(await page.textContent('#overview-regions')).toContain('成都市');
    expect(await page.textContent('#intel-overview')).toContain('只显示您的辖区');
    await page.waitForTimeout(800);
    await shot(page, 'intel-overview-police-zh');
    expect(errors).toEqual([]);
  });

  it('looks a number up: reach, regions, hours, a ring, the reasons', async () => {
    const { page, errors } = await open();
    await signIn(page, 'supervisor', 'demo-supervisor', 'en');
    await page.click('[data-nav=number]');
    await page.fill('#number-token', '13812345678');
    await page.click('#number-form button');
    await page.waitForSelector('text=never a clear number');
    await page.fill('#number-token', S1);
    await page.click('#number-form button');
    await page.waitForSelector('#number-reach');
    expect(await page.textContent('[data-reach=h1]')).toBe('2');
    expect(await page.textContent('[data-reach=d7]')).toBe('2');
    expect(
      await page.$$eval('#number-regions tr', (r) => r.map((x) => x.getAttribute('data-region'))),
    ).toEqual(['510100']);
    expect(await page.textContent('#number-outcomes [data-outcome=confirmed_fraud] td.num')).toBe('1');
    expect(await page.textContent('#number-linked')).toContain(S2.slice(0, 9));
    // the reasons of the newest alert on it: S1's other call, raised last
    const reasons = await page.$$eval('#number-reasons li', (l) => l.map((x) => x.getAttribute('data-rule')));
    expect(reasons).toEqual(['fanout', 'long_answered']);
    await shot(page, 'intel-number-en');
    await expectNoSeriousAxeViolations(page, 'number page');
    // the ring member is one click away
    await page.click('#number-linked a');
    await page.waitForFunction((s2) => location.hash === `#/number/${s2}`, S2);
    await page.waitForSelector('#number-reach');
    const lookups = await stack.db.pool.query(
      `SELECT object_id FROM audit_log WHERE action = 'intel.number_lookup' AND actor = 'supervisor' ORDER BY id`,
    );
    expect(lookups.rows.map((r) => r.object_id)).toEqual([S1, S2]);
    expect(errors).toEqual([]);
  });

  it('shows a case timeline with the evidence of each step, printable as a case file', async () => {
    const { page, errors } = await open();
    await signIn(page, 'operator.a', 'demo-operator-a', 'zh-CN');
    await page.goto(`${stack.url}/#/case/${caseId}`);
    await page.waitForSelector('#case-steps');
    const kinds = await page.$$eval('#case-steps > li', (l) => l.map((x) => x.getAttribute('data-kind')));
    // S1's earlier call, S2 on the victim, the answer, raised, upgraded, routed to police (by time)
    expect(kinds).toEqual(['other', 'victim', 'this', 'step', 'step', 'step']);
    // the detector's reasons in the page's language (these are stored as sentences: by pattern)
    expect(await page.textContent('#case-steps')).toContain('过去一小时拨打了 41 个不同的人');
    expect(await page.$$eval('#case-evidence tr', (r) => r.length)).toBe(2);
    await shot(page, 'intel-case-timeline-zh');
    await expectNoSeriousAxeViolations(page, 'case timeline');
    await page.emulateMedia({ media: 'print' });
    expect(await page.isVisible('.topbar')).toBe(false);
    expect(await page.isVisible('#case-print')).toBe(false);
    expect(await page.isVisible('#case-alert button.copy')).toBe(false);
    await shot(page, 'intel-case-timeline-print');
    const pdf = await page.pdf({ path: join(ARTIFACTS, 'intel-case-timeline.pdf'), format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(errors).toEqual([]);
  });

  it('lets a supervisor confirm reports through a dialog; an admin only reads', async () => {
    const adminPage = await open();
    await signIn(adminPage.page, 'admin', 'demo-admin', 'en');
    await adminPage.page.click('[data-nav=reports]');
    await adminPage.page.waitForSelector(`#reports-rows tr[data-token="${reported}"]`);
    expect(await adminPage.page.$$('#reports-rows [data-action]')).toHaveLength(0);

    const { page, errors } = await open();
    await signIn(page, 'supervisor', 'demo-supervisor', 'en');
    await page.click('[data-nav=reports]');
    const row = `#reports-rows tr[data-token="${reported}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent(`${row} td:nth-child(2)`)).toBe('2');
    expect(await page.textContent(row)).toContain('gray');
    await page.click(`${row} button[aria-expanded]`);
    await page.waitForSelector('.report-evidence tr:nth-child(2)');
    expect(await page.textContent('.report-evidence')).toContain('bank card was used in a crime');
    await page.click(`${row} [data-action=confirm]`);
    await page.waitForSelector('#review-dialog[open]');
    expect(await page.isDisabled('#review-submit')).toBe(true); // a note is required
    await page.fill('#review-note', 'two matching reports, police impersonation script');
    await shot(page, 'intel-reports-confirm-dialog');
    await expectNoSeriousAxeViolations(page, 'review dialog');
    await page.click('#review-submit');
    await page.waitForSelector('#reports-done:has-text("2 reports reviewed")');
    await page.waitForSelector('#reports-empty');
    await shot(page, 'intel-reports-after');
    const lists = await stack.api(sup, 'GET', `/api/lists?numberToken=${reported}`);
    expect(lists.body.map((e: { list: string }) => e.list)).toEqual(['black']);
    expect(errors).toEqual([]);
    expect(adminPage.errors).toEqual([]);
  });
});
