import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { REPO_ROOT } from '@eagle-eye/testing';
import { Stack, token } from './harness';

/**
 * The web console in headless Chromium: sign in as a carrier operator, watch an alert arrive live
 * (no reload), claim it and record an outcome. Screenshots go to test-artifacts/ (git-ignored).
 */
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

describe('web console in a browser', () => {
  const stack = new Stack();
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await stack.start();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  }, 90000);
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  }, 60000);

  it('signs in, sees a live alert, claims it and records an outcome', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(stack.url);
    await page.fill('input[name=username]', 'operator.a');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('#login-form button');
    await page.waitForSelector('#login-error:has-text("wrong username or password")');
    await page.fill('input[name=password]', 'demo-operator-a');
    await page.click('#login-form button');
    await page.waitForSelector('#live.on');
    await page.waitForSelector('#empty:not([hidden])');

    // an earlier alert of another carrier must never show up here
    await stack.enqueueVictim({ carrierId: 'carrier-b', region: '510700' });
    await stack.enqueueVictim({ severity: 'warning', score: 65 });
    const job = await stack.enqueueVictim({ severity: 'critical', score: 140 });
    const row = page.locator('#alert-rows tr').first();
    await page.waitForFunction(() => document.querySelectorAll('#alert-rows tr').length === 2);
    // most severe first; the call's running time ticks
    await expectLocator(row.locator('.badge.critical')).toHaveCount(1);
    const t1 = await row.locator('.timer').textContent();
    await page.waitForFunction(
      (before) => document.querySelector('#alert-rows tr .timer')?.textContent !== before,
      t1,
      { timeout: 5000 },
    );
    expect(await page.locator('#alert-rows').textContent()).not.toContain('510700');
    await page.screenshot({ path: join(ARTIFACTS, 'console-queue.png') });

    await row.click();
    await page.waitForSelector('#detail h2');
    const detail = await page.locator('#detail').textContent();
    expect(detail).toContain('called 143 different people in the last hour');
    expect(detail).not.toContain(job.victim); // only a shortened pseudonym is on screen
    expect(detail).not.toContain('null');
    await page.click('#detail button:has-text("Claim")');
    await page.waitForSelector('#detail .badge.state:has-text("Claimed")');
    await page.screenshot({ path: join(ARTIFACTS, 'console-claimed.png') });
    await page.click('#detail button:has-text("Dissuaded")');
    await page.waitForSelector('#detail .badge.state:has-text("Dissuaded")');
    await page.screenshot({ path: join(ARTIFACTS, 'console-outcome.png') });

    const { rows } = await stack.db.pool.query(
      `SELECT state, outcome, claimed_by FROM alerts WHERE call_id = $1`,
      [job.callId],
    );
    expect(rows).toEqual([{ state: 'closed', outcome: 'dissuaded', claimed_by: 'operator.a' }]);
    expect(pageErrors).toEqual([]);
  }, 60000);

  it('shows police their region only', async () => {
    const police = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await police.goto(stack.url);
    await police.fill('input[name=username]', 'officer.mianyang');
    await police.fill('input[name=password]', 'demo-officer');
    await police.click('#login-form button');
    await police.waitForSelector('#live.on');
    await stack.enqueueVictim({ carrierId: 'carrier-b', region: '510700', severity: 'critical', score: 150 });
    await police.waitForFunction(() => document.querySelectorAll('#alert-rows tr').length === 1);
    expect(await police.locator('#queue-title').textContent()).toBe('Alerts for your jurisdiction');
    await police.screenshot({ path: join(ARTIFACTS, 'console-police.png') });
    await police.close();
  }, 60000);

  it('lets a supervisor manage lists and see the rules with their precision', async () => {
    const sup = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const pageErrors: string[] = [];
    sup.on('pageerror', (e) => pageErrors.push(e.message));
    await sup.goto(stack.url);
    await sup.fill('input[name=username]', 'supervisor');
    await sup.fill('input[name=password]', 'demo-supervisor');
    await sup.click('#login-form button');
    await sup.waitForSelector('#live.on');
    await sup.click('a[data-nav=lists]');
    await sup.waitForSelector('#lists:not([hidden])');
    const number = token();
    await sup.selectOption('#list-form select[name=list]', 'gray');
    await sup.fill('#list-form input[name=numberToken]', number);
    await sup.fill('#list-form input[name=reason]', 'reported by three subscribers');
    await sup.click('#list-form button');
    await sup.waitForSelector('#list-rows tr:has-text("reported by three subscribers")');
    await sup.fill('#list-form input[name=numberToken]', '13812345678');
    await sup.fill('#list-form input[name=reason]', 'typed a clear number');
    const posts: string[] = [];
    sup.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.postData() ?? '');
    });
    await sup.click('#list-form button');
    await sup.waitForSelector('#list-error:has-text("never a clear number")');
    expect(posts.join()).not.toContain('13812345678'); // refused before it leaves the browser
    await sup.screenshot({ path: join(ARTIFACTS, 'console-lists.png') });
    await sup.click('a[data-nav=rules]');
    await sup.waitForSelector('#rule-rows tr:has-text("fanout")');
    await sup.screenshot({ path: join(ARTIFACTS, 'console-rules.png') });
    expect(pageErrors).toEqual([]);
    await sup.close();
  }, 60000);
});

// jest's expect with a playwright count, without pulling in @playwright/test
async function expectCount(locator: { count(): Promise<number> }, n: number): Promise<void> {
  expect(await locator.count()).toBe(n);
}
function expectLocator(locator: { count(): Promise<number> }) {
  return { toHaveCount: (n: number) => expectCount(locator, n) };
}
