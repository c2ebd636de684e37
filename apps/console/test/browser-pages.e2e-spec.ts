import { ALERT_JOB_OPTIONS, AlertJobName, alertJobId, CallEndedJob } from '@eagle-eye/contracts';
import { Page } from 'playwright-core';
import {
  ConsoleBrowser,
  CONSOLE_ZONE,
  expectNoSeriousAxeViolations,
  LAPTOP,
  Locale,
  shot,
  Viewport,
  WALL,
} from './browser-harness';
import { Stack, until } from './harness';

/**
 * Every page of the web console in real Chromium, in zh-CN and in en, on a 1366x768 desk laptop and
 * a 1920x1080 wall screen: sign-in, the queue (live now, ended calls), an alert's details, the
 * suspect-number tab, the shortcut help, number search and every page of the admin's navigation
 * (whatever pages it has). Each is screenshotted to test-artifacts/page-<name>-<locale>-<width>.png,
 * checked for content wider than the window and, on the laptop, for serious axe-core violations.
 * Chinese text must be drawn with a CJK font (Chromium reports the fonts it used per node), not as
 * empty boxes. Then a supervisor retries a dead letter from its page.
 */
describe('web console: every page, zh-CN and en, laptop and wall screen', () => {
  const stack = new Stack();
  const browser = new ConsoleBrowser(() => stack.url);
  let suspect = '';

  /** Elements reaching past the window's right edge, other than inside a scrolling box. */
  async function expectNoOverflow(page: Page, what: string): Promise<void> {
    const wide = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const out: string[] = [];
      if (document.documentElement.scrollWidth > vw)
        out.push(`page scrolls sideways (${document.documentElement.scrollWidth} > ${vw})`);
      Array.from(document.querySelectorAll<HTMLElement>('body *')).forEach((el) => {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= vw + 1 || el.closest('dialog:not([open])')) return;
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return;
        }
        out.push(
          `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} ends at ${Math.round(r.right)} > ${vw}`,
        );
      });
      return out.slice(0, 5);
    });
    expect({ what, wide }).toEqual({ what, wide: [] });
  }

  /** The fonts Chromium drew a node's text with (DevTools protocol), e.g. ["WenQuanYi Micro Hei"]. */
  async function fontsOf(page: Page, selector: string): Promise<string[]> {
    const cdp = await page.context().newCDPSession(page);
    try {
      await cdp.send('DOM.enable');
      await cdp.send('CSS.enable');
      const { root } = await cdp.send('DOM.getDocument');
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
      const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
      return fonts.map((f) => f.familyName);
    } finally {
      await cdp.detach();
    }
  }

  beforeAll(async () => {
    await stack.start({ consoleEnv: { CONSOLE_TIME_ZONE: CONSOLE_ZONE } });
    await browser.launch();
    // something on every page: victims on a call (one very long), one whose call ended, a suspect
    // number, a list entry, a rule change, a dead letter
    await stack.enqueueVictim({ severity: 'critical', score: 150, callAnsweredAt: Date.now() - 1_500_000 });
    await stack.enqueueVictim({ carrierId: 'carrier-b', region: '510700', score: 75 });
    const ended = await stack.enqueueVictim({ region: '510600', score: 68 });
    const end: CallEndedJob = {
      carrierId: ended.carrierId,
      callId: ended.callId,
      callEndedAt: Date.now() - 10_000,
      talkTimeS: 410,
      raisedAt: Date.now(),
    };
    await stack.queue.add(AlertJobName.CallEnded, end, {
      ...ALERT_JOB_OPTIONS,
      jobId: alertJobId(AlertJobName.CallEnded, end),
    });
    suspect = (await stack.enqueueSuspect({ severity: 'critical', score: 160 })).suspect;
    await stack.enqueueVictim({ carrierId: 'carrier-unknown' }); // refused by the database: a dead letter
    const sup = await stack.login('supervisor', 'demo-supervisor');
    const listed = await stack.api(sup, 'POST', '/api/lists', {
      list: 'gray',
      numberToken: suspect,
      reason: 'reported by five subscribers',
    });
    expect(listed.status).toBe(201);
    await until(
      async () => (await stack.db.pool.query(`SELECT count(*)::int AS n FROM alerts`)).rows[0].n === 4,
      'the alerts',
    );
    const admin = await stack.login('admin', 'demo-admin');
    await until(
      async () => (await stack.api(admin, 'GET', '/api/admin/dead-letters')).body.total === 1,
      'the dead letter',
    );
  }, 120000);
  afterAll(async () => {
    await browser.close();
    await stack.stop();
  }, 60000);

  const tour = async (locale: Locale, viewport: Viewport) => {
    const { page, errors } = await browser.open(viewport);
    const laptop = viewport.width === LAPTOP.width;
    const name = (what: string) => `page-${what}-${locale}-${viewport.width}`;
    const check = async (what: string) => {
      await expectNoOverflow(page, name(what));
      if (laptop) await expectNoSeriousAxeViolations(page, name(what));
      await shot(page, name(what));
    };

    await page.goto(stack.url);
    await page.selectOption('#lang', locale);
    await page.waitForSelector(`html[lang="${locale}"]`);
    if (locale === 'zh-CN') {
      // drawn with a font that has the glyphs (a fresh Debian has none: see scripts/lib.sh)
      expect(await page.locator('#login h1').textContent()).toBe('鹰眼反诈控制台');
      expect((await fontsOf(page, '#login h1')).join()).toMatch(/Hei|CJK|Han|Song|Kai|Ming|YaHei|PingFang/i);
    }
    await check('login');
    await browser.signIn(page, 'admin', 'demo-admin');

    await page.waitForFunction(() => document.querySelectorAll('#live-rows tr').length === 2);
    // the ended call, below the live ones, its region by name
    await page.waitForFunction(
      (deyang) => document.querySelector('#panel-victims')?.textContent?.includes(deyang),
      locale === 'en' ? 'Deyang' : '德阳市',
    );
    await check('queue');
    await page.click('#live-rows tr:first-child');
    await page.waitForSelector('#detail h2');
    // the detector's reasons in the page's language (its words are English)
    expect(await page.locator('#detail .reasons').textContent()).toContain(
      locale === 'zh-CN' ? '过去一小时拨打了 143 个不同的人' : 'called 143 different people in the last hour',
    );
    await check('alert-detail');
    await page.keyboard.press('Escape');
    await page.click('#tab-suspects');
    await page.waitForFunction(() => document.querySelectorAll('#suspect-rows tr').length === 1);
    await check('suspects');
    await page.click('#tab-victims');
    await page.locator('body').press('?');
    await page.waitForSelector('dialog[open]');
    await check('help');
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog[open]', { state: 'detached' });

    await page.fill('#search-form input[name=q]', suspect);
    await page.press('#search-form input[name=q]', 'Enter');
    await page.waitForSelector('#search-alert-rows tr');
    await page.waitForSelector('#search-list-rows tr');
    await check('search');

    // every page the admin's navigation offers, whatever it holds
    const pages = await page
      .locator('nav a[data-nav]')
      .evaluateAll((as) => as.map((a) => a.getAttribute('data-nav')!));
    expect(pages).toEqual(
      expect.arrayContaining(['queue', 'lists', 'rules', 'audit', 'users', 'dead-letters']),
    );
    for (const p of pages.filter((x) => x !== 'queue')) {
      await page.click(`nav a[data-nav="${p}"]`);
      await page.waitForSelector(`nav a[data-nav="${p}"][aria-current=page]`);
      await page.waitForLoadState('networkidle');
      const ready: Record<string, string> = {
        lists: '#list-rows tr',
        rules: '#rule-rows tr',
        audit: '#audit-rows tr',
        users: '#user-rows tr',
        'dead-letters': '#dead-letter-rows tr',
      };
      if (ready[p]) await page.waitForSelector(ready[p]);
      if (p === 'rules' && locale === 'zh-CN') {
        // what each rule looks at, in Chinese too (the catalog's own words are English)
        expect(await page.locator('#rule-rows tr', { hasText: 'fanout' }).textContent()).toContain(
          '主叫拨打大量不同号码',
        );
      }
      await check(p);
    }
    await page.click('#dead-letter-rows tr button.retry');
    await page.waitForSelector('dialog[open]');
    await check('dead-letter-retry');
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
  };

  for (const locale of ['zh-CN', 'en'] as const) {
    for (const viewport of [LAPTOP, WALL]) {
      it(`in ${locale} at ${viewport.width}x${viewport.height}`, () => tour(locale, viewport), 120000);
    }
  }

  it('lets a supervisor retry a dead letter from its page once the cause is fixed', async () => {
    const { page, errors } = await browser.open(LAPTOP);
    await browser.signIn(page, 'supervisor', 'demo-supervisor', 'en');
    await page.click('a[data-nav=dead-letters]');
    const row = page.locator('#dead-letter-rows tr').first();
    await row.waitFor();
    expect(await row.textContent()).toContain('rejected by the database');
    expect(await row.textContent()).toContain('carrier-unknown');
    const callId = (await row.locator('td').nth(1).textContent())!.split(' · ')[1];
    await stack.db.pool.query(`INSERT INTO carriers (id, name) VALUES ('carrier-unknown', 'Late carrier')`);
    await row.locator('button.retry').click();
    await page.waitForSelector('dialog[open]:has-text("Retry job")');
    expect(await page.locator('dialog[open]').textContent()).toContain('rejected by the database');
    // cancel leaves it as it is
    await page.click('dialog[open] button:has-text("Cancel")');
    await page.waitForSelector('dialog[open]', { state: 'detached' });
    expect(await page.locator('#dead-letter-rows tr').count()).toBe(1);
    await row.locator('button.retry').click();
    await page.click('dialog[open] button.primary');
    await page.waitForSelector('#dead-letters-status:has-text("is back on the alerts queue")');
    await page.waitForSelector('#dead-letters-empty');
    await shot(page, 'page-dead-letters-retried-en-1366');
    const alert = await until(
      async () =>
        (await stack.db.pool.query(`SELECT carrier_id FROM alerts WHERE call_id = $1`, [callId])).rows[0],
      'the retried alert',
    );
    expect(alert).toEqual({ carrier_id: 'carrier-unknown' });
    // the supervisor's queue shows it too (the worker published it)
    await page.click('a[data-nav=queue]');
    await page.waitForFunction(() => document.querySelectorAll('#live-rows tr').length === 3);
    expect(errors).toEqual([]);
  }, 60000);
  it("lets a supervisor change a rule's points and parameters, previewing the change, and shows it in the history", async () => {
    const { page, errors } = await browser.open(LAPTOP);
    await browser.signIn(page, 'supervisor', 'demo-supervisor', 'en');
    await page.click('a[data-nav=rules]');
    const row = page.locator('#rule-rows tr', { hasText: 'long_call' }).first();
    await row.locator('button.edit').click();
    const dialog = page.locator('dialog[open]');
    await dialog.locator('input[name=reason]').waitFor();
    // the current values, lists comma-separated
    expect(await dialog.locator('input[name=param-stepsS]').inputValue()).toBe('60, 180, 600');
    expect(await dialog.locator('input[name=param-recheckS]').inputValue()).toBe('300');
    await dialog.locator('input[name=points]').fill('40');
    await dialog.locator('input[name=param-recheckS]').fill('240');
    await dialog.locator('input[name=param-stepsS]').fill('60, x, 600');
    await dialog.locator('input[name=reason]').fill('victims hang up sooner since the warning SMS campaign');
    // a value that is not a number list is named and cannot be saved
    await dialog.locator('.error:has-text("Not a valid value: stepsS")').waitFor();
    expect(await dialog.locator('input[name=param-stepsS]').getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.locator('button[type=submit]').isDisabled()).toBe(true);
    await dialog.locator('input[name=param-stepsS]').fill('60, 120, 600');
    expect(await dialog.locator('.diff li').allTextContents()).toEqual([
      'Points: 35 → 40',
      'stepsS: 60, 180, 600 → 60, 120, 600',
      'recheckS: 300 → 240',
    ]);
    await expectNoSeriousAxeViolations(page, 'rule dialog with parameters');
    await shot(page, 'page-rule-params-en-1366');
    await dialog.locator('button[type=submit]').click();
    await page.waitForSelector('dialog[open]', { state: 'detached' });
    // saved as a new version with only what changed (stepPoints untouched)
    const sup = await stack.login('supervisor', 'demo-supervisor');
    const saved = await until(async () => {
      const r = (await stack.api(sup, 'GET', '/api/rules')).body.global.long_call;
      return r.points === 40 ? r : undefined;
    }, 'the new version');
    expect(saved.params).toEqual({ stepsS: [60, 120, 600], stepPoints: [10, 20, 35], recheckS: 240 });

    // the history says what each version changed
    await row.locator('button.history').click();
    const newest = page.locator('#rule-versions tr').first();
    await newest.locator('.diff li').first().waitFor();
    expect(await newest.locator('.diff li').allTextContents()).toEqual([
      'Points: 35 → 40',
      'stepsS: 60, 180, 600 → 60, 120, 600',
      'recheckS: 300 → 240',
    ]);
    expect(await newest.textContent()).toContain('victims hang up sooner');
    expect(await page.locator('#rule-versions tr').last().textContent()).toContain('first version');
    await shot(page, 'page-rule-history-en-1366');
    await page.keyboard.press('Escape');

    // the same dialog in Chinese
    await page.selectOption('#lang', 'zh-CN');
    await row.locator('button.edit').click();
    await page.locator('dialog[open] input[name=param-recheckS]').fill('200');
    await page.waitForSelector('dialog[open] .diff li:has-text("recheckS: 240 → 200")');
    await page.waitForSelector('dialog[open] legend:has-text("参数")');
    await shot(page, 'page-rule-params-zh-CN-1366');
    await page.click('dialog[open] button:has-text("取消")');
    expect(errors).toEqual([]);
  }, 60000);
});
