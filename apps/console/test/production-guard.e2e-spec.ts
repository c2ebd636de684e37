import { freePort, spawnApp } from '@eagle-eye/testing';
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
