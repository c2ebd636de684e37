/**
 * Does a flood of sign-ins slow down the live alerts? Password checks are bcrypt (cost 10, ~50 ms
 * of CPU each); the console runs them asynchronously (bcryptjs, in slices) so the event loop that
 * pushes alerts to sockets keeps turning. This starts the built console and alert worker, connects
 * a supervisor's socket, puts victim alerts on the queue at a steady rate and measures queue ->
 * socket latency, first quiet, then while clients sign in as fast as the console lets them.
 *
 *   npm run bench:login-flood                         (builds first; its own Redis/PostgreSQL)
 *   BENCH_SECONDS=20 BENCH_LOGIN_CONCURRENCY=32 npm run bench:login-flood
 *
 * Environment: REDIS_URL and DATABASE_URL (both, or private services on BENCH_REDIS_PORT 6417 and
 * BENCH_PG_PORT 5467), BENCH_SECONDS per phase (15), BENCH_ALERTS_PER_S (20),
 * BENCH_LOGIN_CONCURRENCY (16 clients signing in back to back).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import {
  ALERT_JOB_OPTIONS,
  AlertJobName,
  alertJobId,
  QueueName,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { createPool, migrate, seedDemo } from '@eagle-eye/db';
import { RedisKeys } from '@eagle-eye/redis';
import { AlertListener, consoleLogin } from './src/alert-listener';
import { newHistogram, recordMs, summarise } from './src/histogram';
import { describeMachine, machineInfo } from './src/machine';
import { freePort, startApp, waitForHttp } from './src/processes';
import { ensureServices } from './src/stack';

const num = (name: string, def: number): number => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const SECONDS = num('BENCH_SECONDS', 15);
const ALERTS_PER_S = num('BENCH_ALERTS_PER_S', 20);
const CONCURRENCY = num('BENCH_LOGIN_CONCURRENCY', 16);
const log = (s: string): void => void process.stderr.write(`[login-flood] ${s}\n`);
const tok = (): string => `p1.k1.${randomBytes(16).toString('base64url').slice(0, 22)}`;

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function main(): Promise<void> {
  const services = await ensureServices({
    redisUrl: process.env.REDIS_URL,
    databaseUrl: process.env.DATABASE_URL,
    redisPort: num('BENCH_REDIS_PORT', 6417),
    pgPort: num('BENCH_PG_PORT', 5467),
    runDir: '.run/bench-login',
    log,
  });
  const prefix = `lf${randomBytes(4).toString('hex')}`;
  // a schema of its own with the demo users
  const admin = createPool(services.databaseUrl, { max: 1 });
  await migrate(admin, { schema: prefix });
  const seedPool = createPool(services.databaseUrl, { schema: prefix, max: 1 });
  await seedDemo(seedPool);
  await seedPool.end();
  const appDb = new URL(services.databaseUrl);
  appDb.searchParams.set('options', `-c search_path=${prefix}`);
  const consolePort = await freePort();
  const env = {
    REDIS_URL: services.redisUrl,
    DATABASE_URL: appDb.toString(),
    REDIS_KEY_PREFIX: prefix,
    NODE_ENV: 'production',
    EE_ALLOW_DEMO_IN_PRODUCTION: 'true',
    CONSOLE_JWT_SECRET: randomBytes(32).toString('hex'),
    // the flood signs in with a good password: throttling (for failures) must not be what saves it
    CONSOLE_LOGIN_MAX_FAILS_PER_IP: '100000',
  };
  const consoleApp = startApp('console', 'console', { ...env, CONSOLE_HTTP_PORT: String(consolePort) });
  const worker = startApp('alert-worker', 'alert-worker', {
    ...env,
    ALERT_WORKER_HTTP_PORT: String(await freePort()),
  });
  const url = `http://127.0.0.1:${consolePort}`;
  const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(QueueName.Alerts, {
    connection: redis,
    prefix: new RedisKeys(prefix).bullPrefix(),
  });
  const listener = new AlertListener(url, 'supervisor', 'demo-supervisor');
  try {
    await waitForHttp(`${url}/readyz`, consoleApp);
    await listener.connect();
    log(`machine: ${describeMachine(machineInfo())}`);

    const phase = async (name: string, flood: boolean) => {
      const alerts = newHistogram();
      const logins = newHistogram();
      let loginCount = 0;
      let stop = false;
      const cpu0 = cpuSeconds(consoleApp.proc.pid!);
      const t0 = Date.now();
      const flooders = flood
        ? Array.from({ length: CONCURRENCY }, async () => {
            while (!stop) {
              const s = performance.now();
              await consoleLogin(url, 'operator.a', 'demo-operator-a');
              recordMs(logins, performance.now() - s);
              loginCount++;
            }
          })
        : [];
      const pending: Promise<void>[] = [];
      for (let i = 0; Date.now() - t0 < SECONDS * 1000; i++) {
        const due = t0 + (i * 1000) / ALERTS_PER_S;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const now = Date.now();
        const job: VictimOnCallJob = {
          kind: 'victim_on_call',
          carrierId: 'carrier-a',
          callId: `lf-${name}-${i}`,
          victim: tok(),
          suspect: tok(),
          region: '510100',
          severity: 'critical',
          score: 95,
          reasons: [{ rule: 'fanout', points: 30, text: 'called 40 different people in the last hour' }],
          callAnsweredAt: now - 60_000,
          stepS: 60,
          eventTimeMs: now,
          raisedAt: now,
        };
        const sent = performance.now();
        pending.push(
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 30_000);
            listener.expect(job.callId, () => {
              clearTimeout(timer);
              recordMs(alerts, performance.now() - sent);
              resolve();
            });
          }),
        );
        await queue.add(AlertJobName.VictimOnCall, job, {
          ...ALERT_JOB_OPTIONS,
          jobId: alertJobId(AlertJobName.VictimOnCall, job),
        });
      }
      await Promise.all(pending);
      stop = true;
      await Promise.all(flooders);
      const wall = (Date.now() - t0) / 1000;
      const cpu = cpuSeconds(consoleApp.proc.pid!) - cpu0;
      return {
        name,
        alerts: summarise(alerts),
        logins: summarise(logins),
        loginsPerS: loginCount / wall,
        consoleCpu: cpu / wall,
      };
    };

    const quiet = await phase('quiet', false);
    const flood = await phase('flood', true);
    const row = (r: typeof quiet): string =>
      `| ${r.name.padEnd(6)} | ${String(r.alerts.count).padStart(6)} | ${r.alerts.p50Ms.toFixed(1).padStart(7)} | ${r.alerts.p99Ms
        .toFixed(1)
        .padStart(7)} | ${r.alerts.maxMs.toFixed(1).padStart(7)} | ${r.loginsPerS.toFixed(1).padStart(8)} | ${
        r.logins.count ? r.logins.p99Ms.toFixed(0).padStart(9) : '        -'
      } | ${(r.consoleCpu * 100).toFixed(0).padStart(10)} % |`;
    console.log(
      `login flood: ${ALERTS_PER_S} alerts/s to one supervisor socket, ${SECONDS} s per phase, ${CONCURRENCY} clients signing in back to back`,
    );
    console.log('| phase  | alerts | p50 ms  | p99 ms  | max ms  | logins/s | login p99 | console CPU  |');
    console.log('| ------ | ------ | ------- | ------- | ------- | -------- | --------- | ------------ |');
    console.log(row(quiet));
    console.log(row(flood));
    console.log(
      `alert p99 under the flood: ${(flood.alerts.p99Ms / Math.max(quiet.alerts.p99Ms, 0.001)).toFixed(1)}x the quiet p99 (same run, same machine)`,
    );
  } finally {
    listener.close();
    await queue.close();
    await worker.stop();
    await consoleApp.stop();
    await admin.query(`DROP SCHEMA IF EXISTS ${prefix} CASCADE`);
    await admin.end();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await services.stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`login-flood: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
