import { freePort, spawnApp, waitForHttp } from '@eagle-eye/testing';
import { Stack } from './harness';

/** NODE_ENV=production refuses demo secrets, demo data and clear-text API keys; tests and demos are unaffected. */
describe('production guard', () => {
  const stack = new Stack();
  beforeAll(async () => {
    await stack.start({ worker: false }); // NODE_ENV=test on a seeded database: starts
  }, 60000);
  afterAll(async () => {
    await stack.stop();
  }, 60000);

  async function exitOf(
    app: string,
    env: Record<string, string>,
  ): Promise<{ code: number | null; out: string }> {
    const a = spawnApp(app, env);
    const timer = setTimeout(() => void a.stop('SIGKILL'), 30000);
    const code = await a.exited;
    clearTimeout(timer);
    return { code, out: a.output() };
  }

  it('the console refuses to start on demo users, a demo JWT secret or the development database password', async () => {
    const dbUrl = new URL(stack.db.url);
    const r = await exitOf('console', {
      ...stack.env(),
      NODE_ENV: 'production',
      CONSOLE_HTTP_PORT: String(await freePort()),
      CONSOLE_JWT_SECRET: 'e2e-console-secret-e2e-console-secret-000',
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/CONSOLE_JWT_SECRET holds a known demo value/);
    expect(r.out).toMatch(/DATABASE_URL holds a known demo value/);
    expect(r.out).not.toContain('e2e-console-secret');
    expect(r.out).not.toContain(`:${dbUrl.password}@`);
  }, 60000);

  it('keeps /metrics and the readiness details behind CONSOLE_OPS_TOKEN; production refuses to run without one', async () => {
    // production without the token: refused (here only warned, as the test database is a demo one)
    const port = await freePort();
    const open = spawnApp('console', {
      ...stack.env(),
      NODE_ENV: 'production',
      EE_ALLOW_DEMO_IN_PRODUCTION: 'true',
      CONSOLE_HTTP_PORT: String(port),
      CONSOLE_JWT_SECRET: 'a-secret-of-this-test-only-0123456789abcdef',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, open, 30000);
      expect(open.output()).toMatch(/CONSOLE_OPS_TOKEN is not set/);
    } finally {
      await open.stop('SIGKILL');
    }
    const token = 'ops-token-of-this-test-0123456789abcdef';
    const guardedPort = await freePort();
    const guarded = spawnApp('console', {
      ...stack.env(),
      CONSOLE_HTTP_PORT: String(guardedPort),
      CONSOLE_JWT_SECRET: 'a-secret-of-this-test-only-0123456789abcdef',
      CONSOLE_OPS_TOKEN: token,
    });
    try {
      const base = `http://127.0.0.1:${guardedPort}`;
      await waitForHttp(`${base}/healthz`, guarded, 30000);
      const anon = await fetch(`${base}/metrics`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await anon.text()).not.toContain('eagleeye_');
      expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
        401,
      );
      const scraped = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^eagleeye_console_ops_refused_total{[^}]*} 2$/m);
      // probes get the status only; operators with the token get every check
      const probe = await fetch(`${base}/readyz`);
      expect(probe.status).toBe(200);
      expect(await probe.json()).toEqual({ status: 'ready' });
      const detail = await fetch(`${base}/readyz`, { headers: { authorization: `Bearer ${token}` } });
      expect(await detail.json()).toMatchObject({ status: 'ready', checks: expect.anything() });
    } finally {
      await guarded.stop();
    }
  }, 90000);

  it('ingest refuses to start on the development database password in production', async () => {
    const r = await exitOf('ingest', {
      ...stack.env(),
      NODE_ENV: 'production',
      INGEST_HTTP_PORT: String(await freePort()),
      INGEST_GRPC_PORT: String(await freePort()),
    });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/DATABASE_URL holds a known demo value/);
  }, 60000);
});
