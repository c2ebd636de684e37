import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Page } from 'playwright-core';
import {
  BROWSER_ZONE,
  BUNDLE,
  ConsoleBrowser,
  CONSOLE_ZONE,
  expectNoSeriousAxeViolations,
  shot,
} from './browser-harness';
import { Stack, token, until } from './harness';

/**
 * The web console (apps/console/web, Vue) in headless Chromium, in zh-CN (the default) and en:
 * sign in, watch alerts arrive live, work them with the mouse and with the keyboard only, lists and
 * rules, an axe-core check. The browser runs in Los Angeles time while the console is configured for
 * Asia/Shanghai: every time on screen must be Shanghai's. Screenshots go to test-artifacts/
 * (git-ignored); the bundle's size and the time to the first alert on screen are printed.
 */
describe('web console in a browser', () => {
  const stack = new Stack();
  const browser = new ConsoleBrowser(() => stack.url);
  const open = (viewport?: { width: number; height: number }) => browser.open(viewport);
  const signIn = (page: Page, username: string, password: string, locale?: 'en' | 'zh-CN') =>
    browser.signIn(page, username, password, locale);

  beforeAll(async () => {
    await stack.start({ consoleEnv: { CONSOLE_TIME_ZONE: CONSOLE_ZONE } });
    await browser.launch();
  }, 90000);
  afterAll(async () => {
    await browser.close();
    await stack.stop();
  }, 60000);

  it('prints the size of the built bundle', () => {
    const assets = readdirSync(join(BUNDLE, 'assets')).filter((f) => /\.(js|css)$/.test(f));
    const sizes = assets.map((f) => {
      const body = readFileSync(join(BUNDLE, 'assets', f));
      return { file: f, bytes: statSync(join(BUNDLE, 'assets', f)).size, gzip: gzipSync(body).length };
    });
    // what every page load fetches (index-*) and the chunks loaded on first use of a page (the
    // situation page's ECharts and map)
    const sum = (xs: typeof sizes) =>
      xs.reduce((s, x) => ({ bytes: s.bytes + x.bytes, gzip: s.gzip + x.gzip }), { bytes: 0, gzip: 0 });
    const entry = sum(sizes.filter((s) => s.file.startsWith('index-')));
    const lazy = sizes.filter((s) => !s.file.startsWith('index-'));
    console.log(
      `console bundle: ${sizes.map((s) => `${s.file} ${(s.bytes / 1024).toFixed(1)} kB (gzip ${(s.gzip / 1024).toFixed(1)} kB)`).join(', ')}; ` +
        `loaded at start ${(entry.bytes / 1024).toFixed(1)} kB, gzip ${(entry.gzip / 1024).toFixed(1)} kB; ` +
        `on first use ${(sum(lazy).bytes / 1024).toFixed(1)} kB, gzip ${(sum(lazy).gzip / 1024).toFixed(1)} kB`,
    );
    expect(sizes.some((s) => s.file.endsWith('.js'))).toBe(true);
    expect(entry.gzip).toBeLessThan(200 * 1024); // a desk on a slow link still opens it in seconds
    for (const chunk of lazy)
      expect({ chunk: chunk.file, small: chunk.gzip < 300 * 1024 }).toEqual({
        chunk: chunk.file,
        small: true,
      });
  });

  it('in en: signs in, shows the victims on the line first, in the configured zone, and works an alert', async () => {
    const { page, errors } = await open();
    await page.goto(stack.url);
    // zh-CN is the default language; the choice of English is remembered across a reload
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await page.locator('#login h1').textContent()).toBe('鹰眼反诈控制台');
    await shot(page, 'console-login-zh');
    await page.selectOption('#lang', 'en');
    await page.waitForSelector('#login h1:has-text("Eagle Eye console")');
    await page.reload();
    await page.waitForSelector('#login h1:has-text("Eagle Eye console")');
    expect(await page.getAttribute('html', 'lang')).toBe('en');

    await page.fill('input[name=username]', 'operator.a');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('#login-form button');
    await page.waitForSelector('#login-error:has-text("wrong username or password")');
    await page.fill('input[name=password]', 'demo-operator-a');
    await page.click('#login-form button');
    await page.waitForSelector('#live.on');
    await page.waitForSelector('#live-empty');

    // an earlier alert of another carrier must never show up here
    await stack.enqueueVictim({ carrierId: 'carrier-b', region: '510700' });
    const t0 = Date.now();
    const longer = await stack.enqueueVictim({
      severity: 'warning',
      score: 65,
      callAnsweredAt: Date.now() - 400_000,
    });
    const critical = await stack.enqueueVictim({ severity: 'critical', score: 140 });
    await page.waitForFunction(() => document.querySelectorAll('#live-rows tr').length === 2);
    console.log(`time to the alerts on screen (enqueue to row): ${Date.now() - t0} ms`);
    // the longest call first (it was answered 400 s ago), then the critical one (200 s)
    const ids = await page
      .locator('#live-rows tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    const alertId = async (callId: string) =>
      (await stack.db.pool.query(`SELECT id::text FROM alerts WHERE call_id = $1`, [callId])).rows[0]
        .id as string;
    expect(ids).toEqual([await alertId(longer.callId), await alertId(critical.callId)]);
    const criticalRow = page.locator('#live-rows tr').nth(1);
    expect(await criticalRow.locator('.badge.critical').count()).toBe(1);
    // region by name, the top reason in the row, the call's running time ticking
    expect(await criticalRow.textContent()).toContain('Chengdu');
    expect(await criticalRow.locator('td.reason').textContent()).toBe(
      'the call has lasted more than 3 minutes',
    );
    const t1 = await criticalRow.locator('.timer').textContent();
    await page.waitForFunction(
      (before) => document.querySelectorAll('#live-rows tr .timer')[1]?.textContent !== before,
      t1,
      { timeout: 5000 },
    );
    const rowsText = await page.locator('#panel-victims').textContent();
    expect(rowsText).not.toContain('510700');
    expect(rowsText).not.toContain('Mianyang');
    await shot(page, 'console-queue-en');

    // the critical alert: already routed to police, so no escalation is offered
    await criticalRow.click();
    await page.waitForSelector('#detail h2');
    const detail = await page.locator('#detail').textContent();
    expect(detail).toContain('called 143 different people in the last hour');
    expect(detail).not.toContain('null');
    expect(await page.locator('#detail button:has-text("Escalate to police")').count()).toBe(0);
    // the full token is on screen and copies exactly (the carrier reverses it in its own system)
    expect(detail).toContain(critical.victim);
    await page.click('#detail dd:has(code:text-is("' + critical.victim + '")) button.copy');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(critical.victim);
    // raised at, in Shanghai time although the browser is in Los Angeles
    const raisedAt = (
      await stack.db.pool.query(`SELECT raised_at FROM alerts WHERE call_id = $1`, [critical.callId])
    ).rows[0].raised_at as Date;
    // Swedish date style is ISO's: 2026-03-02 00:30:05
    const inZone = (zone: string) => raisedAt.toLocaleString('sv-SE', { timeZone: zone });
    expect(await page.locator('#detail .raised-at').textContent()).toBe(inZone(CONSOLE_ZONE));
    expect(inZone(CONSOLE_ZONE)).not.toBe(inZone(BROWSER_ZONE));
    expect(await page.locator('.topbar .zone').textContent()).toContain(CONSOLE_ZONE);

    await page.click('#detail button:has-text("Claim")');
    await page.waitForSelector('#detail .badge.state:has-text("Claimed")');
    await shot(page, 'console-claimed-en');
    await page.click('#detail .actions button:has-text("Dissuaded")');
    await page.waitForSelector('#detail .badge.state:has-text("Dissuaded")');
    await page.waitForSelector('#detail .history li:has-text("outcome: Dissuaded")');
    await shot(page, 'console-outcome-en');
    expect(
      (
        await stack.db.pool.query(`SELECT state, outcome, claimed_by FROM alerts WHERE call_id = $1`, [
          critical.callId,
        ])
      ).rows,
    ).toEqual([{ state: 'closed', outcome: 'dissuaded', claimed_by: 'operator.a' }]);

    // the warning alert is not with police yet: escalation is offered; confirmed fraud asks first
    await page.click(`#live-rows tr[data-id="${ids[0]}"]`);
    await page.waitForSelector('#detail button:has-text("Escalate to police")');
    await page.click('#detail button:has-text("Claim")');
    await page.waitForSelector('#detail .badge.state:has-text("Claimed")');
    await page.click('#detail .actions button:has-text("Confirmed fraud")');
    await page.waitForSelector('dialog[open]:has-text("Confirm fraud?")');
    expect(await page.locator('dialog[open]').textContent()).toContain('90 days');
    await shot(page, 'console-confirm-fraud-en');
    await page.click('dialog[open] button:has-text("Cancel")');
    await page.waitForSelector('dialog[open]', { state: 'detached' });
    const state = async () =>
      (await stack.db.pool.query(`SELECT state, outcome FROM alerts WHERE call_id = $1`, [longer.callId]))
        .rows[0];
    expect(await state()).toEqual({ state: 'claimed', outcome: null });
    await page.click('#detail .actions button:has-text("Confirmed fraud")');
    await page.click('dialog[open] button:has-text("Confirm fraud and blacklist")');
    await page.waitForSelector('#detail .badge.state:has-text("Confirmed fraud")');
    expect(await state()).toEqual({ state: 'closed', outcome: 'confirmed_fraud' });
    const listed = await stack.db.pool.query(`SELECT list FROM number_lists WHERE number_token = $1`, [
      longer.suspect,
    ]);
    expect(listed.rows).toEqual([{ list: 'black' }]);

    // the suspect's token, searched across alerts (server side, in scope) and lists
    await page.fill('#search-form input[name=q]', longer.suspect);
    await page.press('#search-form input[name=q]', 'Enter');
    await page.waitForSelector(`#search-alert-rows tr[data-id="${ids[0]}"]`);
    await page.waitForSelector('#search-list-rows tr:has-text("black")');
    await shot(page, 'console-search-en');
    // a clear number never becomes a query, in the page or at the API
    await page.fill('#search-form input[name=q]', '13812345678');
    await page.press('#search-form input[name=q]', 'Enter');
    await page.waitForSelector('#search .error:has-text("never a clear number")');
    const tok = await stack.login('operator.a', 'demo-operator-a');
    expect((await stack.api(tok, 'GET', '/api/alerts?number=13812345678')).status).toBe(400);
    expect((await stack.api(tok, 'GET', '/api/lists?numberToken=13812345678')).status).toBe(400);
    expect(errors).toEqual([]);
  }, 90000);

  it('in zh-CN: shows police their region by name, suspect numbers in their own tab', async () => {
    const { page, errors } = await open();
    await signIn(page, 'officer.mianyang', 'demo-officer');
    expect(await page.locator('#queue-title').textContent()).toBe('本辖区告警');
    await stack.enqueueVictim({ carrierId: 'carrier-b', region: '510700', severity: 'critical', score: 150 });
    await stack.enqueueSuspect({
      carrierId: 'carrier-b',
      region: '510700',
      severity: 'critical',
      score: 160,
    });
    await page.waitForFunction(() => document.querySelectorAll('#live-rows tr').length === 1);
    const row = page.locator('#live-rows tr').first();
    expect(await row.textContent()).toContain('绵阳市');
    expect(await row.textContent()).toContain('紧急');
    await shot(page, 'console-police-zh');
    await row.click();
    await page.waitForSelector('#detail h2:has-text("受害人正在与可疑号码通话")');
    // police work the alert but never escalate (it is with them already)
    expect(await page.locator('#detail button:has-text("移交公安")').count()).toBe(0);
    await shot(page, 'console-police-detail-zh');
    await page.click('#tab-suspects');
    await page.waitForFunction(() => document.querySelectorAll('#suspect-rows tr').length === 1);
    await shot(page, 'console-suspects-zh');
    // the same page in English: the title the officer's colleagues know
    await page.selectOption('#lang', 'en');
    await page.waitForSelector('#queue-title:has-text("Alerts for your jurisdiction")');
    expect(errors).toEqual([]);
  }, 60000);

  it('lets a supervisor manage lists and change a rule through a dialog', async () => {
    const { page, errors } = await open();
    await signIn(page, 'supervisor', 'demo-supervisor', 'en');
    await page.click('a[data-nav=lists]');
    await page.waitForSelector('#lists');
    const number = token();
    await page.selectOption('#list-form select[name=list]', 'gray');
    await page.fill('#list-form input[name=numberToken]', number);
    await page.fill('#list-form input[name=reason]', 'reported by three subscribers');
    await page.click('#list-form button');
    await page.waitForSelector('#list-rows tr:has-text("reported by three subscribers")');
    await page.fill('#list-form input[name=numberToken]', '13812345678');
    await page.fill('#list-form input[name=reason]', 'typed a clear number');
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.postData() ?? '');
    });
    await page.click('#list-form button');
    await page.waitForSelector('#list-error:has-text("never a clear number")');
    expect(posts.join()).not.toContain('13812345678'); // refused before it leaves the browser
    await shot(page, 'console-lists-en');

    // a false positive makes its suspect a whitelist candidate; approving asks, then lists it for
    // that carrier only
    const fp = await stack.enqueueVictim({ severity: 'warning', score: 66 });
    const sup = await stack.login('supervisor', 'demo-supervisor');
    const fpId = await until(
      async () =>
        (await stack.db.pool.query(`SELECT id::text FROM alerts WHERE call_id = $1`, [fp.callId])).rows[0]
          ?.id as string | undefined,
      'the false-positive alert',
    );
    expect((await stack.api(sup, 'POST', `/api/alerts/${fpId}/claim`)).status).toBe(200);
    expect(
      (await stack.api(sup, 'POST', `/api/alerts/${fpId}/outcome`, { outcome: 'false_positive' })).status,
    ).toBe(200);
    await page.reload();
    const candidate = page.locator('#candidate-rows tr', { hasText: fp.suspect });
    await candidate.locator('button.approve').click();
    await page.waitForSelector('dialog[open]:has-text("Whitelist this number for carrier-a?")');
    await shot(page, 'console-whitelist-approve-en');
    await page.click('dialog[open] button.primary');
    await candidate.locator('.badge:has-text("on the whitelist")').waitFor();
    const white = await stack.db.pool.query(
      `SELECT list, scope FROM number_lists WHERE number_token = $1 AND removed_at IS NULL`,
      [fp.suspect],
    );
    expect(white.rows).toEqual([{ list: 'white', scope: 'carrier-a' }]);

    await page.click('a[data-nav=rules]');
    await page.waitForSelector('#rule-rows tr:has-text("fanout")');
    const fanout = page.locator('#rule-rows tr', { hasText: 'fanout' }).first();
    const points = Number(await fanout.locator('td').nth(4).textContent());
    await fanout.locator('button.edit').click();
    await page.waitForSelector('dialog[open] input[name=reason]');
    // nothing changed yet: nothing to save
    expect(await page.isDisabled('dialog[open] button[type=submit]')).toBe(true);
    await page.fill('dialog[open] input[name=points]', String(points + 5));
    await page.fill('dialog[open] input[name=reason]', 'tuning after a week of false positives');
    // the preview says exactly what changes
    expect(await page.locator('dialog[open] .diff li').allTextContents()).toEqual([
      `Points: ${points} → ${points + 5}`,
    ]);
    await shot(page, 'console-rule-dialog-en');
    await page.click('dialog[open] button[type=submit]');
    await page.waitForFunction(
      (p) =>
        Array.from(document.querySelectorAll('#rule-rows tr')).find((r) => r.textContent?.includes('fanout'))
          ?.children[4]?.textContent === String(p),
      points + 5,
    );
    await fanout.locator('button.history').click();
    await page.waitForSelector('#rule-versions tr:has-text("tuning after a week of false positives")');
    await shot(page, 'console-rule-history-en');
    await page.keyboard.press('Escape');
    await shot(page, 'console-rules-en');
    expect(errors).toEqual([]);
  }, 60000);

  it('tells an operator who opens #/rules that the page is not theirs, without errors', async () => {
    const { page, errors } = await open();
    await signIn(page, 'operator.b', 'demo-operator-b');
    expect(await page.locator('a[data-nav=rules]').count()).toBe(0);
    await page.goto(`${stack.url}/#/rules`);
    await page.waitForSelector('#rules-forbidden:has-text("此页面仅对主管和管理员开放")');
    await page.goto(`${stack.url}/#/users`);
    await page.waitForSelector('#users .forbidden');
    expect(errors).toEqual([]);
  }, 60000);

  it('works from the keyboard only: sign in, find the alert, claim it, record the outcome', async () => {
    const { page, errors } = await open({ width: 1366, height: 768 });
    await page.goto(stack.url);
    await page.waitForSelector('input[name=username]:focus');
    await page.keyboard.type('operator.b');
    await page.keyboard.press('Tab');
    await page.keyboard.type('demo-operator-b');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#live.on');
    // an hour on the call: first in "live now" (other tests left carrier-b alerts open)
    const job = await stack.enqueueVictim({
      carrierId: 'carrier-b',
      region: '510100',
      severity: 'critical',
      score: 130,
      callAnsweredAt: Date.now() - 3_600_000,
    });
    const id = await until(
      async () =>
        (await stack.db.pool.query(`SELECT id::text FROM alerts WHERE call_id = $1`, [job.callId])).rows[0]
          ?.id as string | undefined,
      'the alert',
    );
    await page.waitForSelector(`#live-rows tr:first-child[data-id="${id}"]`);
    await page.keyboard.press('?');
    await page.waitForSelector('dialog[open]:has-text("键盘快捷键")');
    await shot(page, 'console-help-zh');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog', { state: 'detached' });
    await page.keyboard.press('j');
    await page.waitForSelector(`#live-rows tr[data-id="${id}"]:focus`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail h2:focus');
    await page.keyboard.press('c');
    await page.waitForSelector('#detail .badge.state:has-text("已认领")');
    await page.keyboard.press('o');
    await page.waitForSelector('dialog[open]:has-text("记录处理结果")');
    await shot(page, 'console-outcome-dialog-zh-1366');
    await page.keyboard.press('Enter'); // the first choice has the focus: dissuaded
    await page.waitForSelector('#detail .badge.state:has-text("劝阻成功")');
    await shot(page, 'console-keyboard-done-zh-1366');
    const rows = await until(async () => {
      const r = await stack.db.pool.query(
        `SELECT state, outcome, claimed_by FROM alerts WHERE call_id = $1`,
        [job.callId],
      );
      return r.rows[0]?.state === 'closed' ? r.rows : null;
    }, 'the outcome in the database');
    expect(rows).toEqual([{ state: 'closed', outcome: 'dissuaded', claimed_by: 'operator.b' }]);
    expect(errors).toEqual([]);
  }, 60000);

  it('lets an admin manage users (disabling asks first), read the audit log and the dead letters', async () => {
    const { page, errors } = await open();
    await signIn(page, 'admin', 'demo-admin', 'en');
    await page.click('a[data-nav=users]');
    await page.waitForSelector('#user-rows tr:has-text("officer.chengdu")');
    await page.fill('#user-form input[name=username]', 'officer.deyang');
    await page.fill('#user-form input[name=displayName]', 'Deyang duty officer');
    await page.fill('#user-form input[name=password]', 'a-long-enough-password');
    await page.selectOption('#user-form select[name=role]', 'police_officer');
    await page.fill('#user-form input[name=regions]', '510600, 510100');
    await page.click('#user-form button[type=submit]');
    const row = page.locator('#user-rows tr', { hasText: 'officer.deyang' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Deyang、Chengdu');
    await row.locator('button:has-text("Disable")').click();
    await page.waitForSelector('dialog[open]:has-text("Disable officer.deyang?")');
    await shot(page, 'console-users-disable-en');
    await page.click('dialog[open] button.danger');
    await row.locator('.badge:has-text("disabled")').waitFor();
    expect(
      (await stack.db.pool.query(`SELECT disabled FROM console_users WHERE username = 'officer.deyang'`))
        .rows,
    ).toEqual([{ disabled: true }]);
    await expectNoSeriousAxeViolations(page, 'users (en)');

    await page.click('a[data-nav=audit]');
    await page.waitForSelector('#audit-rows tr:has-text("user.create")');
    await page.fill('#audit-filter input[name=action]', 'user.update');
    await page.click('#audit-filter button');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('#audit-rows tr')).every((r) =>
        r.textContent?.includes('user.update'),
      ),
    );
    await expectNoSeriousAxeViolations(page, 'audit (en)');
    await page.click('a[data-nav=dead-letters]');
    await page.waitForSelector('#dead-letters-empty, #dead-letter-rows');

    await page.selectOption('#lang', 'zh-CN');
    await page.click('a[data-nav=users]');
    await page.waitForSelector('#users h1:has-text("用户管理")');
    await shot(page, 'console-users-zh');
    await page.click('a[data-nav=audit]');
    await page.waitForSelector('#audit-rows tr');
    await shot(page, 'console-audit-zh');
    await expectNoSeriousAxeViolations(page, 'audit (zh-CN)');
    expect(errors).toEqual([]);
  }, 90000);

  it('has no serious accessibility violations (axe-core) on the sign-in page, the queue and its dialogs', async () => {
    const { page, errors } = await open({ width: 1920, height: 1080 });
    const check = (what: string) => expectNoSeriousAxeViolations(page, what);
    await page.goto(stack.url);
    await page.waitForSelector('#login-form');
    await check('sign-in');
    await signIn(page, 'supervisor', 'demo-supervisor');
    await stack.enqueueVictim({ severity: 'critical', score: 150 });
    await page.waitForSelector('#live-rows tr');
    await page.click('#live-rows tr');
    await page.waitForSelector('#detail h2');
    await check('queue with details (zh-CN)');
    await shot(page, 'console-queue-zh-1920');
    await page.keyboard.press('?');
    await page.waitForSelector('dialog[open]');
    await check('help dialog');
    await page.keyboard.press('Escape');
    await page.selectOption('#lang', 'en');
    await page.click('a[data-nav=lists]');
    await page.waitForSelector('#list-rows');
    await check('lists (en)');
    await page.click('a[data-nav=rules]');
    await page.waitForSelector('#rule-rows tr');
    await check('rules (en)');
    expect(errors).toEqual([]);
  }, 90000);
  it("keeps the carrier desk's and police's claims apart: an officer claims an alert a desk holds, both see both", async () => {
    // a critical victim alert in Chengdu: with the desk of carrier-a and with Chengdu's police
    const job = await stack.enqueueVictim({
      severity: 'critical',
      score: 145,
      callAnsweredAt: Date.now() - 900_000,
    });
    const id = await until(
      async () =>
        (await stack.db.pool.query(`SELECT id::text FROM alerts WHERE call_id = $1`, [job.callId])).rows[0]
          ?.id as string | undefined,
      'the alert',
    );
    const desk = await open();
    await signIn(desk.page, 'operator.a', 'demo-operator-a', 'en');
    const deskRow = desk.page.locator(`#live-rows tr[data-id="${id}"]`);
    await deskRow.click();
    await desk.page.click('#detail button:has-text("Claim")');
    await desk.page.waitForSelector('#detail .claim-desk:has-text("operator.a")');

    // the officer sees who at the carrier holds it, and claims it for police all the same
    const officer = await open();
    await signIn(officer.page, 'officer.chengdu', 'demo-officer');
    const row = officer.page.locator(`#live-rows tr[data-id="${id}"]`);
    await row.locator('.claim-desk:has-text("专席：operator.a")').waitFor();
    await row.click();
    await officer.page.waitForSelector('#detail .claim-desk:has-text("operator.a")');
    expect(await officer.page.locator('#detail .claim-police').textContent()).toContain('未认领');
    // no outcome before the police claim; then the officer may record one
    expect(await officer.page.locator('#detail .actions button:has-text("劝阻成功")').count()).toBe(0);
    await officer.page.click('#detail button:has-text("公安认领")');
    await officer.page.waitForSelector('#detail .claim-police:has-text("officer.chengdu")');
    await row.locator('.claim-police:has-text("公安：officer.chengdu")').waitFor();
    await officer.page.waitForSelector('#detail .actions button:has-text("劝阻成功")');
    expect(await officer.page.locator('#detail button:has-text("公安认领")').count()).toBe(0);
    await officer.page.waitForSelector('#detail .history li:has-text("公安已认领")');
    await shot(officer.page, 'console-claims-police-zh');
    const claims = await stack.db.pool.query(
      `SELECT state, claimed_by, police_claimed_by FROM alerts WHERE id = $1`,
      [id],
    );
    expect(claims.rows).toEqual([
      { state: 'claimed', claimed_by: 'operator.a', police_claimed_by: 'officer.chengdu' },
    ]);

    // the desk keeps its claim and sees police on it too, live
    await deskRow.locator('.claim-police:has-text("police: officer.chengdu")').waitFor();
    await desk.page.waitForSelector('#detail .claim-police:has-text("officer.chengdu")');
    expect(await desk.page.locator('#detail .claim-desk').textContent()).toContain('operator.a');
    await desk.page.waitForSelector('#detail .actions button:has-text("Dissuaded")');
    await shot(desk.page, 'console-claims-desk-en');
    expect([...desk.errors, ...officer.errors]).toEqual([]);
  }, 60000);
});
