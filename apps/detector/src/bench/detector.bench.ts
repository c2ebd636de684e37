/**
 * Detector throughput and memory on a real Redis:
 *   npm run build && REDIS_URL=redis://127.0.0.1:6402 \
 *     node -r ./scripts/register-paths.js dist/apps/detector/src/bench/detector.bench.js [events]
 * Drives synthetic traffic (ordinary subscribers plus fan-out numbers) through the detection
 * service in hand-off sized batches, with the default rules and an alert sink that only counts
 * (the queue is measured in the benchmark issue), then prints events/s and Redis memory per
 * active number. Everything it writes lives under a random key prefix and is deleted at the end.
 * DETECTOR_BENCH_PROFILE=<file>.cpuprofile: a CPU profile of the detection alone (not the traffic's
 * generation nor the start-up), for Chrome DevTools or any .cpuprofile reader.
 * DETECTOR_BENCH_REDIS=1: also where Redis's time went, per script and per command (RedisBreakdown:
 * it logs every command in Redis's slow log for the run, and puts the settings back).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { HandoffEntry, handoffPartition, packEvents, unpackEvents } from '@eagle-eye/contracts';
import { baseSchema, loadConfig } from '@eagle-eye/config';
import { applyV8Settings } from '@eagle-eye/observability';
import { createRedis, DEFAULT_KEY_GROUPS, RedisKeys } from '@eagle-eye/redis';
import { defaultRule, ResolvedRules, RULE_IDS } from '@eagle-eye/rules';
import { AlertJob } from '../detection/alert.publisher';
import { createDetection } from '../detection/detection.service';
import { DetectorScripts } from '../lua/detector-scripts';
import { formatBreakdown, RedisBreakdown, scriptNames } from './redis-breakdown';
import { BENCH_DETECTION_OPTIONS, syntheticTraffic } from './synthetic-traffic';

async function main(): Promise<void> {
  // the V8 settings the detector runs with (V8_ALLOCATION_SITE_PRETENURING)
  applyV8Settings(loadConfig(baseSchema.pick({ V8_ALLOCATION_SITE_PRETENURING: true })));
  const target = Number(process.argv[2] ?? 200_000);
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6390');
  // REDIS_KEY_GROUPS: key groups (one script call per group and stage in a round), 16 by default
  const keys = new RedisKeys(
    `bench${randomBytes(3).toString('hex')}`,
    Number(process.env.REDIS_KEY_GROUPS ?? DEFAULT_KEY_GROUPS),
  );
  // DETECTOR_BENCH_GROUPED=0: one script call per key group and stage, as under Redis Cluster
  const scripts = new DetectorScripts(
    redis,
    process.env.DETECTOR_BENCH_GROUPED === '0'
      ? 0
      : Number(process.env.DETECTOR_SCRIPT_REQUEST_ARGS ?? Infinity),
  );
  await scripts.load();
  const rules = Object.fromEntries(RULE_IDS.map((id) => [id, defaultRule(id)])) as ResolvedRules;
  let alerts = 0;
  const kinds = new Map<string, number>();
  const detection = createDetection({
    redis,
    keys,
    scripts,
    rules: { forCarrier: () => rules },
    alerts: {
      publish: async (jobs: AlertJob[]) => {
        alerts += jobs.length;
        for (const j of jobs) {
          const k = `${j.name}/${(j.data as { severity?: string }).severity ?? ''}`;
          kinds.set(k, (kinds.get(k) ?? 0) + 1);
        }
      },
    },
    // the caller windows applied in the detector (one caller stage at a time); DETECTOR_CALLER_WINDOWS=script: in caller-batch-1.lua
    options: {
      ...BENCH_DETECTION_OPTIONS,
      callerWindows: process.env.DETECTOR_CALLER_WINDOWS === 'script' ? 'script' : 'node',
      // numbers held between rounds in node mode (DETECTOR_CALLER_STATES_HELD, 50,000 by default)
      callerStatesHeld: Number(process.env.DETECTOR_CALLER_STATES_HELD ?? 50_000),
    },
  });
  // about 2.6 events per call; 3 calls per subscriber
  // (DETECTOR_BENCH_SUBSCRIBERS: more subscribers, fewer calls each, as a carrier's many quiet numbers)
  const subscribers = Number(
    process.env.DETECTOR_BENCH_SUBSCRIBERS ?? Math.max(1000, Math.floor(target / 8)),
  );
  const events = syntheticTraffic({
    subscribers,
    callsPerSubscriber: 3,
    scammers: Math.max(1, Math.floor(subscribers / 2000)),
    callsPerScammer: 300,
    start: Date.UTC(2026, 10, 24, 8),
    spanMs: 3600_000,
  });
  const numbers = new Set(events.flatMap((e) => [e.caller, e.callee])).size;
  // events per hand-off entry (a round): DETECTOR_BENCH_BATCH, 2,000 by default
  const batch = Number(process.env.DETECTOR_BENCH_BATCH ?? 2000);
  const concurrency = 4;
  const before = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
  const redisCpu = async (): Promise<number> => {
    const info = await redis.info('cpu');
    const f = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return f('used_cpu_sys') + f('used_cpu_user');
  };
  // like the consumer: each calling number's events stay in one lane (partition), in order; lanes in parallel.
  // Each batch is one hand-off entry in the packed encoding ingest writes (packed before the clock
  // starts: that is ingest's work); the detector unpacks it as its consumer does, so it scores the
  // event objects the hand-off gives it, fresh and of one shape, not the generator's.
  const lanes = Array.from({ length: concurrency }, () => [] as typeof events);
  for (const e of events) lanes[handoffPartition(e.caller, concurrency)].push(e);
  const packed = lanes.map((lane) => {
    const out: string[] = [];
    for (let i = 0; i < lane.length; i += batch) out.push(packEvents(lane.slice(i, i + batch)));
    return out;
  });
  const profileFile = process.env.DETECTOR_BENCH_PROFILE;
  const profiler = profileFile ? new Session() : null;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const breakdown =
    process.env.DETECTOR_BENCH_REDIS === '1'
      ? await RedisBreakdown.start(redis, scriptNames(scripts.scripts.values()), 1_000_000)
      : null;
  const redisCpu0 = await redisCpu();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const worker = async (entries: string[]) => {
    for (const p of entries) {
      const entry: HandoffEntry = { carrierId: 'carrier-a', events: unpackEvents(p) };
      await detection.process([entry]);
    }
  };
  await Promise.all(packed.map(worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const nodeCpuS = (cpu.user + cpu.system) / 1e6;
  const redisCpuS = (await redisCpu()) - redisCpu0;
  const breakdownTable = breakdown ? formatBreakdown(await breakdown.finish(events.length), 40) : '';
  if (profiler && profileFile) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
    profiler.disconnect();
    console.log(`CPU profile of the detection: ${profileFile}`);
  }
  const after = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);

  let cursor = '0';
  let bytes = 0;
  let nkeys = 0;
  const byKind = new Map<string, { keys: number; bytes: number }>();
  do {
    const [c, ks] = await redis.scan(cursor, 'MATCH', `${keys.prefix}:*`, 'COUNT', 2000);
    cursor = c;
    const p = redis.pipeline();
    for (const k of ks) p.memory('USAGE', k, 'SAMPLES', '0');
    const res = (await p.exec()) ?? [];
    res.forEach(([, v], i) => {
      bytes += Number(v ?? 0);
      // per kind of key: its last part without digits (`s` windows string, `x` a day's HyperLogLog, ...)
      const kind = ks[i].slice(ks[i].lastIndexOf(':') + 1).replace(/\d+/g, '');
      const e = byKind.get(kind) ?? { keys: 0, bytes: 0 };
      e.keys++;
      e.bytes += Number(v ?? 0);
      byKind.set(kind, e);
    });
    nkeys += ks.length;
    if (ks.length) await redis.del(...ks);
  } while (cursor !== '0');
  console.log(
    [
      `events: ${events.length} in ${secs.toFixed(2)} s = ${Math.round(events.length / secs)} events/s ` +
        `(packed entries of ${batch}, ${concurrency} partitions in flight, one Node process, caller windows: ${process.env.DETECTOR_CALLER_WINDOWS === 'script' ? 'script' : 'node'}, alerts counted: ${alerts}: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')})`,
      `CPU: detector (Node) ${nodeCpuS.toFixed(2)} s = ${((nodeCpuS / events.length) * 1e6).toFixed(1)} µs per event, ` +
        `Redis ${redisCpuS.toFixed(2)} s = ${((redisCpuS / events.length) * 1e6).toFixed(1)} µs per event`,
      `active numbers: ${numbers}, keys: ${nkeys}, MEMORY USAGE sum: ${bytes} B = ${Math.round(bytes / numbers)} B per active number`,
      `  by kind of key: ${[...byKind]
        .sort((a, b) => b[1].bytes - a[1].bytes)
        .map(([k, e]) => `${k} ${e.keys} keys ${Math.round(e.bytes / numbers)} B`)
        .join(', ')} (per active number)`,
      `used_memory grew by ${after - before} B = ${Math.round((after - before) / numbers)} B per active number`,
      ...(breakdownTable ? [breakdownTable] : []),
    ].join('\n'),
  );
  redis.disconnect();
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
