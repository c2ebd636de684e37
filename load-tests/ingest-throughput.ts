/**
 * First ingest throughput figure: starts the built ingest app against a local Redis and PostgreSQL,
 * streams pre-encoded batches of call events from this process over loopback gRPC for a fixed
 * count, and prints events/s into the hand-off and the ack latency. Cleans up its keys and schema.
 *
 *   npm run bench:ingest                       (builds first)
 *   BENCH_EVENTS=1000000 BENCH_STREAMS=2 REDIS_URL=redis://127.0.0.1:6390 npm run bench:ingest
 *
 * Environment: REDIS_URL, DATABASE_URL (defaults: the local dev services), BENCH_EVENTS (300000),
 * BENCH_BATCH (500), BENCH_STREAMS (2, concurrent StreamCallEvents calls), BENCH_WINDOW (8 unacked
 * batches per stream), BENCH_GRPC_PORT (50061), BENCH_HTTP_PORT (9111), BENCH_PARTITIONS (16),
 * BENCH_NODE_ARGS (extra node arguments for the ingest process).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, Metadata, ServiceError } from '@grpc/grpc-js';
import * as hdr from 'hdr-histogram-js';
import Redis from 'ioredis';
import { handoffEntryEventCount, ingestV1 } from '@eagle-eye/contracts';
import { apiKeyFor, createPool, DEMO_CARRIERS, migrate, seedDemo } from '@eagle-eye/db';
import { callEvents } from '../apps/ingest/src/testing/call-events';

const REPO = join(__dirname, '..', '..');
const num = (name: string, def: number): number => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6390';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://eagleeye:eagleeye-dev@127.0.0.1:5440/eagleeye';
const EVENTS = num('BENCH_EVENTS', 300000);
const BATCH = num('BENCH_BATCH', 500);
const STREAMS = num('BENCH_STREAMS', 2);
const WINDOW = num('BENCH_WINDOW', 8);
const GRPC_PORT = num('BENCH_GRPC_PORT', 50061);
const HTTP_PORT = num('BENCH_HTTP_PORT', 9111);
const PARTITIONS = num('BENCH_PARTITIONS', 16);

// The client sends pre-encoded bytes, so this process spends its CPU on the wire, not on encoding.
const RawClient = makeGenericClientConstructor(
  {
    streamCallEvents: {
      ...ingestV1.CallRecordIngestService.streamCallEvents,
      requestSerialize: (b: Buffer) => b,
    },
  },
  'eagleeye.v1.CallRecordIngest',
);
interface RawDuplex extends NodeJS.EventEmitter {
  write(b: Buffer): boolean;
  end(): void;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (k: string): number => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return get('used_cpu_user') + get('used_cpu_sys');
}

async function waitReady(url: string, proc: ReturnType<typeof spawn>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`ingest exited with ${proc.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready`);
}

function runStream(
  client: InstanceType<typeof RawClient>,
  md: Metadata,
  batches: Buffer[],
  latency: hdr.Histogram,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = (client as unknown as { streamCallEvents(md: Metadata): RawDuplex }).streamCallEvents(md);
    const sentAt: number[] = [];
    let next = 0;
    let acked = 0;
    let accepted = 0;
    const pump = (): void => {
      while (next < batches.length && next - acked < WINDOW) {
        sentAt.push(performance.now());
        call.write(batches[next++]);
      }
      if (next === batches.length && acked === batches.length) call.end();
    };
    call.on('data', (ack: ingestV1.BatchAck) => {
      latency.recordValue(Math.round((performance.now() - sentAt[acked]) * 1000));
      acked++;
      accepted += ack.accepted;
      pump();
    });
    call.on('error', (e: ServiceError) => reject(new Error(`stream failed: ${e.code} ${e.details}`)));
    call.on('end', () => resolve(accepted));
    pump();
  });
}

async function main(): Promise<void> {
  const tag = `bench${randomBytes(3).toString('hex')}`;
  const admin = createPool(DATABASE_URL, { max: 1 });
  await migrate(admin, { schema: tag });
  await admin.end();
  const pool = createPool(DATABASE_URL, { schema: tag, max: 1 });
  await seedDemo(pool);
  await pool.end();
  const dbUrl = new URL(DATABASE_URL);
  dbUrl.searchParams.set('options', `-c search_path=${tag}`);

  process.stdout.write(`encoding ${EVENTS} events in batches of ${BATCH} ...\n`);
  const perStream = Math.ceil(EVENTS / BATCH / STREAMS);
  const now = Date.now();
  const streams: Buffer[][] = [];
  let total = 0;
  for (let s = 0; s < STREAMS; s++) {
    const list: Buffer[] = [];
    for (let b = 0; b < perStream && total < EVENTS; b++) {
      const n = Math.min(BATCH, EVENTS - total);
      const events = callEvents(`s${s}`, b * BATCH, n, now);
      list.push(Buffer.from(ingestV1.CallEventBatch.encode({ sequence: b + 1, events }).finish()));
      total += n;
    }
    streams.push(list);
  }

  const app = spawn(
    process.execPath,
    [
      // for example BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '-r',
      join(REPO, 'scripts/register-paths.js'),
      join(REPO, 'dist/apps/ingest/src/main.js'),
    ],
    {
      cwd: REPO,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        REDIS_URL,
        DATABASE_URL: dbUrl.toString(),
        REDIS_KEY_PREFIX: tag,
        HANDOFF_PARTITIONS: String(PARTITIONS),
        INGEST_GRPC_PORT: String(GRPC_PORT),
        INGEST_HTTP_PORT: String(HTTP_PORT),
        INGEST_RATE_LIMIT_EVENTS_PER_S: '0',
        // no detector runs here: let the streams grow
        INGEST_MAX_BACKLOG_ENTRIES: '100000000',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const redis = new Redis(REDIS_URL);
  try {
    await waitReady(`http://127.0.0.1:${HTTP_PORT}/readyz`, app);
    const client = new RawClient(`127.0.0.1:${GRPC_PORT}`, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${apiKeyFor(DEMO_CARRIERS[0].keyId, DEMO_CARRIERS[0].secret)}`);
    const latency = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
    const cpu0 = { ingest: processCpuSeconds(app.pid ?? 0), redis: await redisCpuSeconds(redis) };
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const accepted = (await Promise.all(streams.map((b) => runStream(client, md, b, latency)))).reduce(
      (a, b) => a + b,
      0,
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = {
      ingest: processCpuSeconds(app.pid ?? 0) - cpu0.ingest,
      redis: (await redisCpuSeconds(redis)) - cpu0.redis,
    };
    const clientUsage = process.cpuUsage(client0);
    const clientCpu = (clientUsage.user + clientUsage.system) / 1e6;
    client.close();

    let entries = 0;
    let handed = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const key = `${tag}:{h${p}}:events`;
      entries += await redis.xlen(key);
      for (const [, fields] of await redis.xrange(key, '-', '+')) {
        handed += handoffEntryEventCount(fields);
      }
    }
    const ms = (us: number): string => (us / 1000).toFixed(1);
    process.stdout.write(
      [
        `ingest throughput: ${total} events, batches of ${BATCH}, ${STREAMS} streams, window ${WINDOW}, ${PARTITIONS} partitions`,
        `  acked accepted: ${accepted}; in the hand-off streams: ${handed} events in ${entries} entries`,
        `  elapsed: ${seconds.toFixed(2)} s  ->  ${Math.round(handed / seconds)} events/s into the hand-off`,
        `  CPU used: ingest ${cpu.ingest.toFixed(2)} s, redis ${cpu.redis.toFixed(2)} s, this client ${clientCpu.toFixed(2)} s  ->  capacity with a core each: ` +
          `ingest ${Math.round(handed / cpu.ingest)} events/s, redis ${Math.round(handed / cpu.redis)} events/s`,
        `  machine load average (1 min) at the end: ${loadavg()[0].toFixed(2)} on this many cores: ${cpus().length}`,
        `  ack latency ms: p50 ${ms(latency.getValueAtPercentile(50))}  p90 ${ms(latency.getValueAtPercentile(90))}  p99 ${ms(latency.getValueAtPercentile(99))}  max ${ms(latency.maxValue)}`,
        '',
      ].join('\n'),
    );
    if (handed !== total || accepted !== total) process.exitCode = 1;
  } finally {
    app.kill('SIGTERM');
    await new Promise((r) => app.once('exit', r));
    let cursor = '0';
    do {
      const [c, keys] = await redis.scan(cursor, 'MATCH', `${tag}:*`, 'COUNT', 5000);
      cursor = c;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
    const drop = createPool(DATABASE_URL, { max: 1 });
    await drop.query(`DROP SCHEMA IF EXISTS ${tag} CASCADE`);
    await drop.end();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`benchmark failed: ${e.message}\n`);
  process.exit(1);
});
