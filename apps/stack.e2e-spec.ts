import {
  createTestSchema,
  freePort,
  spawnApp,
  TestSchema,
  testRedisUrl,
  waitForHttp,
} from '@eagle-eye/testing';

/**
 * Every app boots from the build against the real Redis and PostgreSQL, answers /healthz, /readyz
 * and /metrics, and exits cleanly on SIGTERM; bad configuration is one clear line.
 */
const APPS = [
  { name: 'ingest', portVar: 'INGEST_HTTP_PORT', extra: { INGEST_GRPC_PORT: 'grpc' } },
  { name: 'detector', portVar: 'DETECTOR_HTTP_PORT', extra: {} },
  { name: 'alert-worker', portVar: 'ALERT_WORKER_HTTP_PORT', extra: {} },
  { name: 'console', portVar: 'CONSOLE_HTTP_PORT', extra: {} },
  { name: 'simulator', portVar: 'SIMULATOR_HTTP_PORT', extra: {} },
] as const;

describe('every app boots, reports health and metrics, and stops on SIGTERM', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema();
  });
  afterAll(async () => {
    await db.drop();
  });

  it.each(APPS)('$name', async ({ name, portVar, extra }) => {
    const port = await freePort();
    const env: Record<string, string> = {
      [portVar]: String(port),
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: db.url,
      CONSOLE_JWT_SECRET: 'test-secret-test-secret-test-secret-0000',
      REDIS_KEY_PREFIX: `t${port}`,
    };
    for (const [k, v] of Object.entries(extra)) env[k] = v === 'grpc' ? String(await freePort()) : v;
    const app = spawnApp(name, env);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, app);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string };
      expect(ready.status).toBe('ready');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain(`process_cpu_user_seconds_total{service="${name}"}`);
      expect(app.output()).not.toMatch(/\d{11}/);
    } finally {
      expect(await app.stop('SIGTERM')).toBe(0);
    }
  });
});

describe('start-up errors are one actionable line', () => {
  it('names a missing required variable', async () => {
    const app = spawnApp('console', { CONSOLE_JWT_SECRET: '', CONSOLE_HTTP_PORT: String(await freePort()) });
    expect(await app.exited).toBe(2);
    const lines = app.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[console\] configuration error: CONSOLE_JWT_SECRET/);
  });

  it('names a malformed variable', async () => {
    const app = spawnApp('detector', { DETECTOR_HTTP_PORT: 'eighty' });
    expect(await app.exited).toBe(2);
    expect(app.output()).toMatch(/DETECTOR_HTTP_PORT is "eighty"/);
  });

  it('says what to do when Redis is unreachable, without a retry loop', async () => {
    const app = spawnApp('detector', {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      DETECTOR_HTTP_PORT: String(await freePort()),
    });
    expect(await app.exited).toBe(3);
    const lines = app.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot reach Redis at .* \(REDIS_URL\).*npm run services -- up/);
  });
});
