import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { JobsOptions, Queue } from 'bullmq';
import { loadConfig } from '@eagle-eye/config';
import {
  ALERT_BATCH_JOB,
  ALERT_BATCH_MAX_ITEMS,
  ALERT_JOB_OPTIONS,
  AlertBatchJob,
  alertBatchItem,
  alertBatchJobId,
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
 * waits for N rows, prints alerts/s, Redis's CPU, requests and commands per alert (its INFO
 * counters: run it on a Redis nothing else uses), this process's CPU per alert, and the worker's
 * own latency histograms (queue wait and the PostgreSQL transaction per job, commit -> publish,
 * the writes per transaction).
 *
 *   node -r ./scripts/register-paths.js dist/apps/alert-worker/src/bench/alert-worker.bench.js [N] [--rate R] [--batch B]
 *
 * Without --rate the N jobs are queued at once (a burst: throughput); with --rate R they are added
 * one at a time at R a second (latency at a steady rate, e.g. 40: the whole-stack half-load rate).
 * With --batch B (2-200) the alerts go B to a queue job, as the detector sends a round's alerts
 * (alert-batch); at --rate R such a job is added every B/R seconds.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rateAt = args.indexOf('--rate');
  const rate = rateAt >= 0 ? Number(args.splice(rateAt, 2)[1]) : 0;
  if (rateAt >= 0 && !(rate > 0 && rate <= 10000)) throw new Error('--rate takes alerts per second, 1-10000');
  const batchAt = args.indexOf('--batch');
  const batch = batchAt >= 0 ? Number(args.splice(batchAt, 2)[1]) : 1;
  if (!(Number.isInteger(batch) && batch >= 1 && batch <= ALERT_BATCH_MAX_ITEMS))
    throw new Error(`--batch takes alerts per queue job, 1-${ALERT_BATCH_MAX_ITEMS}`);
  const n = Math.min(Number(args[0] ?? 2000), 50000);
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
    const makeJob = (
      i: number,
    ): { name: AlertJobName.VictimOnCall; data: VictimOnCallJob; opts: JobsOptions } => {
      const now = Date.now();
      const job: VictimOnCallJob = {
        kind: 'victim_on_call',
        carrierId: i % 2 ? 'carrier-a' : 'carrier-b',
        callId: `bench-${i}`,
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
        name: AlertJobName.VictimOnCall as const,
        data: job,
        opts: { ...ALERT_JOB_OPTIONS, jobId: alertJobId(AlertJobName.VictimOnCall, job) },
      };
    };
    // jobs of `batch` alerts from the i-th on (one job of its own when batch is 1)
    const makeJobs = (i: number, count: number): { name: string; data: unknown; opts: JobsOptions }[] => {
      const jobs = Array.from({ length: count }, (_, k) => makeJob(i + k));
      if (batch === 1) return jobs;
      const out: { name: string; data: unknown; opts: JobsOptions }[] = [];
      for (let k = 0; k < jobs.length; k += batch) {
        const items = jobs.slice(k, k + batch).map((j) => alertBatchItem(j.name, j.data));
        const data: AlertBatchJob = { items };
        out.push({
          name: ALERT_BATCH_JOB,
          data,
          opts: { ...ALERT_JOB_OPTIONS, jobId: alertBatchJobId(items) },
        });
      }
      return out;
    };
    const redisBefore = await redisCounters(redis);
    const cpuBefore = process.cpuUsage();
    const start = Date.now();
    if (rate) {
      // one job at a time, each when it is due (catching up if a tick came late)
      for (let i = 0; i < n;) {
        const due = (Math.floor(((Date.now() - start) * rate) / 1000 / batch) + 1) * batch;
        for (; i < Math.min(due, n); i += batch) {
          const [j] = makeJobs(i, Math.min(batch, n - i));
          await queue.add(j.name, j.data, j.opts);
        }
        await new Promise((r) => setTimeout(r, Math.max(1, (1000 * batch) / rate / 2)));
      }
    } else {
      for (let i = 0; i < n; i += 500) await queue.addBulk(makeJobs(i, Math.min(500, n - i)));
    }
    const deadline = Date.now() + 300000;
    let rows = 0;
    while (rows < n && Date.now() < deadline) {
      rows = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM alerts')).rows[0].n);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - start) / 1000;
    const redisAfter = await redisCounters(redis);
    const cpu = process.cpuUsage(cpuBefore);
    const metrics = await metricsRegistry.getMetricsAsJSON();
    const quantiles = (name: string, labels: Record<string, string> = {}, seconds = true) => {
      const m = metrics.find((x) => x.name === name);
      // summed over the labels not asked for (the queue wait and transaction are per job name too)
      const byLe = new Map<number, number>();
      for (const v of m?.values ?? []) {
        if ((v as { metricName?: string }).metricName !== `${name}_bucket`) continue;
        if (!Object.entries(labels).every(([k, x]) => v.labels[k] === x)) continue;
        const le = Number(v.labels.le);
        byLe.set(le, (byLe.get(le) ?? 0) + v.value);
      }
      const buckets = [...byLe].map(([le, n]) => ({ le, n })).sort((a, b) => a.le - b.le);
      const total = buckets.at(-1)?.n ?? 0;
      // as PromQL's histogram_quantile: linear within the bucket holding the rank
      const q = (p: number): string => {
        const i = buckets.findIndex((b) => b.n >= p * total);
        if (!total || i < 0) return 'n/a';
        const b = buckets[i];
        if (!Number.isFinite(b.le)) return `> ${buckets[i - 1]?.le ?? 0}`;
        const lo = i ? buckets[i - 1] : { le: 0, n: 0 };
        const x = lo.le + ((b.le - lo.le) * (p * total - lo.n)) / Math.max(1, b.n - lo.n);
        if (!seconds) return `<= ${b.le}`; // a count: the bucket's bound
        return x < 0.1 ? `${(x * 1000).toFixed(1)} ms` : `${x.toFixed(3)} s`;
      };
      return `p50 ${q(0.5)}, p99 ${q(0.99)} (${total} samples)`;
    };
    console.log(
      `alerts persisted: ${rows} of ${n} in ${seconds.toFixed(1)} s = ${(rows / seconds).toFixed(0)} alerts/s` +
        (rate ? ` (added at ${rate}/s)` : ' (queued at once)') +
        (batch > 1 ? `, ${batch} to a queue job` : ', one to a queue job'),
    );
    // Redis's own counters over the run: everything the server served meanwhile (the worker, the
    // job adds, this benchmark's few commands; any other client of a shared server too)
    const per = (k: keyof RedisCounters) => (redisAfter[k] - redisBefore[k]) / Math.max(1, rows);
    console.log(
      `Redis per alert: ${(per('cpuS') * 1e6).toFixed(0)} us of CPU, ${per('reads').toFixed(1)} requests read, ` +
        `${per('commands').toFixed(1)} commands (scripts' own included)`,
    );
    console.log(
      `this process per alert (the worker and the job adds): ${((cpu.user + cpu.system) / Math.max(1, rows)).toFixed(0)} us of CPU`,
    );
    const stage = 'eagleeye_alert_job_stage_seconds';
    console.log(`queue wait: ${quantiles(stage, { stage: 'queue_wait' })}`);
    console.log(`PostgreSQL transaction: ${quantiles(stage, { stage: 'postgres' })}`);
    console.log(`commit -> publish: ${quantiles('eagleeye_alert_publish_seconds')}`);
    console.log(`writes per transaction: ${quantiles('eagleeye_alert_write_batch_size', {}, false)}`);
    console.log(
      `event time -> publish (incl. queue wait): ${quantiles('eagleeye_alert_end_to_end_seconds', { from: 'event_time' })}`,
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

interface RedisCounters {
  cpuS: number;
  reads: number;
  commands: number;
}

/** The server's CPU seconds (user + system), requests read and commands processed, from INFO. */
async function redisCounters(redis: ReturnType<typeof createRedis>): Promise<RedisCounters> {
  const info = await redis.info();
  const field = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return {
    cpuS: field('used_cpu_user') + field('used_cpu_sys'),
    reads: field('total_reads_processed'),
    commands: field('total_commands_processed'),
  };
}

// exits when done: a connection the app's shutdown leaves open would keep the process alive
main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
  },
);
