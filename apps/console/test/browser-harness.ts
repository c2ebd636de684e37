import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { REPO_ROOT } from '@eagle-eye/testing';

/**
 * The console's browser tests share this: Debian's Chromium through playwright-core, a fresh profile
 * per test that records page errors, CSP refusals and native dialogs, sign-in, axe-core and
 * screenshots into test-artifacts/ (git-ignored).
 */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
export const BUNDLE = join(REPO_ROOT, 'dist', 'apps', 'console', 'web');
/** The browser runs in Los Angeles time; the console is configured for Shanghai's. */
export const BROWSER_ZONE = 'America/Los_Angeles';
export const CONSOLE_ZONE = 'Asia/Shanghai';
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export type Locale = 'en' | 'zh-CN';
export interface Viewport {
  width: number;
  height: number;
}
/** A desk laptop and a wall screen: every page must work on both. */
export const LAPTOP: Viewport = { width: 1366, height: 768 };
export const WALL: Viewport = { width: 1920, height: 1080 };

export class ConsoleBrowser {
  private browser?: Browser;
  private readonly contexts: BrowserContext[] = [];

  constructor(private readonly url: () => string) {}

  async launch(): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    this.browser = await chromium.launch({
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
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close();
    await this.browser?.close();
  }

  /** A fresh browser profile (own storage) whose page fails the test on any page error or CSP refusal. */
  async open(viewport: Viewport = { width: 1440, height: 900 }): Promise<{ page: Page; errors: string[] }> {
    if (!this.browser) throw new Error('launch() first');
    const context = await this.browser.newContext({ viewport, timezoneId: BROWSER_ZONE, locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.url() });
    this.contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // errors the app catches (Vue logs a failed component) and CSP refusals show only on the
    // console; an HTTP error status (a wrong password's 401) is part of the flow
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text());
    });
    // a prompt(), alert() or confirm() is a failure: the console has its own dialogs
    page.on('dialog', (d) => {
      errors.push(`native dialog: ${d.message()}`);
      void d.dismiss();
    });
    return { page, errors };
  }

  async signIn(page: Page, username: string, password: string, locale?: Locale): Promise<void> {
    await page.goto(this.url());
    if (locale) await page.selectOption('#lang', locale);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('#login-form button');
    await page.waitForSelector('#live.on');
  }
}

/** axe-core on the page as it is: no violation of impact serious or critical. */
export async function expectNoSeriousAxeViolations(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE); // through the DevTools protocol: the page's CSP stays as it is
  const violations = await page.evaluate(async () => {
    const w = window as unknown as {
      axe: {
        run: (ctx: Document) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }>;
      };
    };
    const r = await w.axe.run(document);
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => (n as { target: string[] }).target.join(' ')),
    }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect({ what, serious }).toEqual({ what, serious: [] });
}

export const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
