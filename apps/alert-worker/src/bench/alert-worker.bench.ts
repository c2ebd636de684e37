import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Queue } from 'bullmq';
import { loadConfig } from '@eagle-eye/config';
import {
  ALERT_JOB_OPTIONS,
  AlertJobName,
  alertJobId,
  QueueName,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { createPool, migrate, seedDemo } from '@eagle-eye/db';
import { metricsRegistry } from '@eagle-eye/observability';
import { createRedis, RedisKeys } from '@eagle-eye/redis';
import { AlertWorkerModule } from '../alert-worker.module';
import { AlertWorkerConfigSchema } from '../config';

/**
 * Alert worker throughput and latency on the real Redis and PostgreSQL of REDIS_URL/DATABASE_URL,
 * in a throw-away schema and key prefix: enqueues N victim-on-call jobs (as the detector does),
 * waits for N rows, prints alerts/s and the worker's own latency histograms.
 *
 *   node -r ./scripts/register-paths.js dist/apps/alert-worker/src/bench/alert-worker.bench.js [N]
 */
async function main(): Promise<void> {
  const n = Math.min(Number(process.argv[2] ?? 2000), 50000);
  const id = randomBytes(4).toString('hex');
  const schema = `bench_${id}`;
  const prefix = `bench${id}`;
  const config = loadConfig(AlertWorkerConfigSchema, {
    ...process.env,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: 'warn',
  });
  const admin = createPool(config.DATABASE_URL, { max: 1 });
  await migrate(admin, { schema });
  const pool = createPool(config.DATABASE_URL, { schema, max: 2 });
  await seedDemo(pool);
  const app = await NestFactory.createApplicationContext(
    AlertWorkerModule.forRoot(config, { dbSchema: schema }),
    {
      logger: ['error', 'warn'],
    },
  );
  await app.init();
  const redis = createRedis(config.REDIS_URL, { maxRetriesPerRequest: null, enableAutoPipelining: false });
  const queue = new Queue(QueueName.Alerts, {
    connection: redis,
    prefix: new RedisKeys(prefix).bullPrefix(),
  });
  try {
    const tok = () => `p1.bench.${randomBytes(16).toString('base64url').slice(0, 22)}`;
    const start = Date.now();
    for (let i = 0; i < n; i += 500) {
      await queue.addBulk(
        Array.from({ length: Math.min(500, n - i) }, (_, k) => {
          const now = Date.now();
          const job: VictimOnCallJob = {
            kind: 'victim_on_call',
            carrierId: (i + k) % 2 ? 'carrier-a' : 'carrier-b',
            callId: `bench-${i + k}`,
            victim: tok(),
            suspect: tok(),
            region: '510100',
            severity: 'warning',
            score: 70,
            reasons: [{ rule: 'fanout', points: 30, text: 'called 90 different people' }],
            callAnsweredAt: now - 200000,
            stepS: 180,
            eventTimeMs: now,
            raisedAt: now,
          };
          return {
            name: AlertJobName.VictimOnCall,
            data: job,
            opts: { ...ALERT_JOB_OPTIONS, jobId: alertJobId(AlertJobName.VictimOnCall, job) },
          };
        }),
      );
    }
    const deadline = Date.now() + 300000;
    let rows = 0;
    while (rows < n && Date.now() < deadline) {
      rows = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM alerts')).rows[0].n);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - start) / 1000;
    const metrics = await metricsRegistry.getMetricsAsJSON();
    const quantiles = (name: string) => {
      const m = metrics.find((x) => x.name === name);
      const buckets = (m?.values ?? []).filter(
        (v) => (v as { metricName?: string }).metricName === `${name}_bucket`,
      );
      const total = buckets.find((b) => b.labels.le === '+Inf')?.value ?? 0;
      const q = (p: number) => buckets.find((b) => b.value >= p * total)?.labels.le ?? 'n/a';
      return `p50 <= ${q(0.5)} s, p99 <= ${q(0.99)} s (${total} samples)`;
    };
    console.log(
      `alerts persisted: ${rows} of ${n} in ${seconds.toFixed(1)} s = ${(rows / seconds).toFixed(0)} alerts/s`,
    );
    console.log(`commit -> publish: ${quantiles('eagleeye_alert_publish_seconds')}`);
    console.log(
      `event time -> publish (incl. queue wait): ${quantiles('eagleeye_alert_end_to_end_seconds')}`,
    );
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    redis.disconnect();
    await app.close();
    await pool.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
