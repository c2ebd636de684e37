import {
  createTestSchema,
  freePort,
  REPO_ROOT,
  RunningApp,
  spawnApp,
  TestSchema,
  testRedisUrl,
  waitForHttp,
} from '@eagle-eye/testing';
import {
  DASHBOARD,
  dashboardExpressions,
  declaredMetrics,
  isServed,
  metricNamesIn,
  ruleExpressions,
  RULES,
} from './metric-names';

/**
 * Every metric that deploy/grafana/eagle-eye.json and deploy/prometheus/eagle-eye.rules.yml name
 * is served by the running stack (ingest, detector, alert-worker, console from the build, on the
 * real Redis and PostgreSQL), so a renamed metric cannot leave a dashboard panel or an alert blind.
 */
jest.setTimeout(120_000);

const APPS = [
  { name: 'ingest', portVar: 'INGEST_HTTP_PORT', grpc: true },
  { name: 'detector', portVar: 'DETECTOR_HTTP_PORT' },
  { name: 'alert-worker', portVar: 'ALERT_WORKER_HTTP_PORT' },
  { name: 'console', portVar: 'CONSOLE_HTTP_PORT' },
] as const;

describe('the dashboard and the alert rules name only metrics the apps serve', () => {
  let db: TestSchema;
  const running: RunningApp[] = [];
  const exposition = new Map<string, string>();

  beforeAll(async () => {
    db = await createTestSchema();
    const prefix = `t${await freePort()}`;
    const ports = new Map<string, number>();
    for (const a of APPS) {
      const port = await freePort();
      ports.set(a.name, port);
      const env: Record<string, string> = {
        [a.portVar]: String(port),
        REDIS_URL: testRedisUrl(),
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: prefix,
        CONSOLE_JWT_SECRET: 'test-secret-test-secret-test-secret-0000',
      };
      if ('grpc' in a) env.INGEST_GRPC_PORT = String(await freePort());
      running.push(spawnApp(a.name, env));
    }
    await Promise.all(
      running.map((app) => waitForHttp(`http://127.0.0.1:${ports.get(app.name)}/readyz`, app, 60_000)),
    );
    // a moment for the periodic gauges (backlog, queue sizes) to be set once
    await new Promise((r) => setTimeout(r, 1500));
    for (const a of APPS) {
      exposition.set(a.name, await (await fetch(`http://127.0.0.1:${ports.get(a.name)}/metrics`)).text());
    }
  });
  afterAll(async () => {
    for (const app of running) await app.stop('SIGTERM');
    await db?.drop();
  });

  const served = (): Map<string, string> =>
    new Map([...exposition.values()].flatMap((text) => [...declaredMetrics(text)]));

  it.each([
    ['deploy/grafana/eagle-eye.json', () => dashboardExpressions(DASHBOARD(REPO_ROOT))],
    ['deploy/prometheus/eagle-eye.rules.yml', () => ruleExpressions(RULES(REPO_ROOT))],
  ])('%s', (_file, expressions) => {
    const names = [...new Set(expressions().flatMap(metricNamesIn))];
    expect(names.length).toBeGreaterThan(10);
    const declared = served();
    expect(names.filter((n) => !isServed(n, declared))).toEqual([]);
    expect(isServed('eagleeye_no_such_metric_total', declared)).toBe(false);
  });

  it("Node's default metrics are unprefixed, and each app reports its build", () => {
    for (const a of APPS) {
      const text = exposition.get(a.name)!;
      expect(text).toMatch(new RegExp(`^process_cpu_seconds_total\\{service="${a.name}"\\} `, 'm'));
      expect(text).toMatch(/^nodejs_heap_size_used_bytes\{/m);
      expect(text).toMatch(/^eagleeye_heap_live_bytes\{/m);
      expect(text).not.toMatch(/^eagleeye_(process|nodejs)_/m);
      const build = new RegExp(
        `^eagleeye_build_info\\{(?=[^}]*app="${a.name}")(?=[^}]*version="\\d+\\.\\d+\\.\\d+")[^}]*\\} 1$`,
        'm',
      );
      expect(text).toMatch(build);
    }
    // one counter of ingest's events, by result (not one counter per result)
    expect(served().get('eagleeye_ingest_events_total')).toBe('counter');
    expect(served().has('eagleeye_ingest_events_accepted_total')).toBe(false);
  });
});
