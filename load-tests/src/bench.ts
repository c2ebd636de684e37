import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig } from '@eagle-eye/config';
import { RedisKeys } from '@eagle-eye/redis';
import { RULE_CATALOG } from '@eagle-eye/rules';
import { IngestConfigSchema } from '../../apps/ingest/src/config';
import { HANDOFF_SCRIPT_FILE, loadLua } from '../../apps/ingest/src/lua/scripts';
import {
  Breakdown,
  formatBreakdown,
  RedisBreakdown,
  scriptNames,
} from '../../apps/detector/src/bench/redis-breakdown';
import { loadScripts } from '../../apps/detector/src/lua/detector-scripts';
import { AlertListener } from './alert-listener';
import { BenchConfig, parseBenchArgs, USAGE } from './bench-config';
import { ClusterScalingRow, runClusterScaling } from './cluster-scaling';
import { LatencySummary, newHistogram, recordMs, summarise } from './histogram';
import { dropPrefix, LuaBenchResult, numberKeys, redisBenchmarkGet, runLuaBench } from './lua-bench';
import { machineInfo, MachineInfo } from './machine';
import {
  CommandPerEvent,
  CommandStat,
  commandsPerEvent,
  cpuSecondsOf,
  detectorCounter,
  detectorEvents,
  detectorsOwning,
  heapOf,
  RedisObserver,
  RedisStalls,
  scrape,
  STALL_THRESHOLD_MS,
  stallsLine,
  sum,
  unappliedOf,
} from './observe';
import { LoadgenOptions, LoadgenResult, nowMs } from './open-loop';
import { freeClusterPorts, freePort, REPO_ROOT, runLoadgenChild, startTool, waitForLine } from './processes';
import { HeapTrend, heapTrend } from './heap-trend';
import { formatReport } from './report';
import { BenchStack, ensureServices } from './stack';
import { snapshotMetrics, StageBreakdown, stageBreakdown } from './stages';
import { benchToken, ProbeSend, randomTag, TrafficOptions } from './traffic';

export interface StepOutcome {
  targetEventsPerS: number;
  achievedEventsPerS: number;
  detectorEventsPerS: number;
  ackP99Ms: number;
  droppedBatches: number;
  lateBatches: number;
  failedBatches: number;
  rejectedEvents: number;
  /** events still unread in the hand-off when sending stopped */
  backlogEventsAtEnd: number;
  /**
   * events ingest had accepted and the detectors had not applied (both stages) when sending stopped:
   * the unread ones and those in rounds in flight (the step's verdict)
   */
  unappliedEventsAtEnd: number;
  /** share of one core each process used during the step (redis, ingest, detector-1, ...) */
  cpuPct: Record<string, number>;
  /**
   * µs of CPU per event from each process's own counters: ingest per event it acknowledged, every
   * other process per event the detector applied (a machine shared with other work inflates the
   * wall-clock rates, much less these)
   */
  cpuUsPerEvent?: Record<string, number>;
  /** Lua calls and Redis time (inside the scripts) per event applied by the detector */
  luaCallsPerEvent: number;
  luaUsPerEvent: number;
  /**
   * Redis's costliest commands during the step, µs and calls per event applied (INFO commandstats;
   * EVALSHA includes the commands its scripts ran, which are listed too)
   */
  redisCommands?: CommandPerEvent[];
  /** ingest's dedupe sets: what they grew by during the step */
  dedupe?: DedupeStep;
  passed: boolean;
  why: string;
}

export interface LatencyLevel {
  fraction: number;
  eventsPerS: number;
  achievedEventsPerS: number;
  probesSent: number;
  alertsReceived: number;
  missed: number;
  /** event (answer) send time to `alert.created` at the socket.io client */
  latency: LatencySummary;
  ackLatency: LatencySummary;
  /**
   * the same alerts split at the times they carry: send -> the detector's raisedAt -> updatedAt (the
   * worker's PostgreSQL transaction start, now()) -> arrival at the console client
   */
  split?: { toRaised: LatencySummary; raisedToStored: LatencySummary; storedToConsole: LatencySummary };
  /** each app's stage histograms over the level (scraped before and after) */
  stages?: StageBreakdown;
  /** the machine's 1-minute load average as the level started */
  loadAverage?: number;
  /** a `--latency-at` run with `--alt-env`: A (the stack as started) or B (those settings) */
  variant?: 'A' | 'B';
  /**
   * caller windows strings written per event applied over the level (each a `SET` and the string's
   * bytes in the append-only file; DETECTOR_WINDOWS_WRITE_DELAY_MS saves some)
   */
  windowsWritesPerEvent?: number;
  /** CPU per event over the level, from the processes' own counters (optional: older results lack it) */
  cpuUsPerEvent?: Record<string, number>;
  /** events the detectors applied over the level and its tail (their processed counters) */
  detectorEvents?: number;
  /**
   * where the benchmark's own Redis held every client up during the level (its latency monitor at
   * STALL_THRESHOLD_MS, and AOF rewrites started): absent on a Redis the run did not start
   */
  redisStalls?: RedisStalls;
}

export interface BenchResult {
  kind: 'full' | 'smoke';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** where the detector applied caller windows (DETECTOR_CALLER_WINDOWS of the stack it started) */
  callerWindows: string;
  /** detector replicas of the stack (optional: older results had one) */
  detectors?: number;
  config: BenchConfig;
  limits: {
    transport: { eventsPerS: number; batchSize: number; streams: number; ackP99Ms: number } | null;
    lua: LuaBenchResult | null;
    redisGetOpsPerS: number | null;
  };
  throughput: {
    ceilingProbe: { ingestEventsPerS: number; detectorEventsPerS: number } | null;
    steps: StepOutcome[];
    sustainedEventsPerS: number | null;
    ratioToTransport: number | null;
  };
  latency: LatencyLevel[];
  /**
   * Where Redis's time went at half the sustained rate, per script and command (the slow log at
   * threshold 0, a few seconds of load and its drain; optional: older results have none)
   */
  redisBreakdown?: { eventsPerS: number; seconds: number; events: number; breakdown: Breakdown } | null;
  durationStep: {
    firstStepS: number;
    probesSent: number;
    alerts: number;
    /** alerted before the first step: the probe profile alerted at answer */
    early: number;
    /** alerts per duration step (seconds) that raised them */
    byStep: Record<string, number>;
    lateness: LatencySummary;
    /** the detector's share: its raisedAt minus (answer + step), both in its clock */
    raisedLateness: LatencySummary;
    note: string;
  } | null;
  memory: {
    numbers: number;
    drained: boolean;
    usedMemoryDeltaBytes: number;
    bytesPerNumber: number;
    /** MEMORY USAGE of a sample of numbers' own keys (windows, calls, HLL, familiarity, callee state) */
    sampledKeyBytesPerNumber: number;
    dbKeysAfter: number;
    luaWithNumbers: LuaBenchResult | null;
    /** ingest's dedupe sets after the run (optional: results written before it have none) */
    dedupe?: DedupeBytes;
  } | null;
  heap: { soakS: number; eventsPerS: number; achievedEventsPerS: number; apps: HeapTrend[] } | null;
  scaling: {
    detectorReplicas: { replicas: number; backlogEvents: number; eventsPerS: number }[];
    /** Redis Cluster masters x detector replicas, each on a stack of its own (optional: older results) */
    cluster?: { events: number; firstPort: number; rows: ClusterScalingRow[]; skipped?: string };
    luaByHistorySpan: LuaBenchResult[];
    luaByPool: LuaBenchResult[];
  };
  alertsReceivedTotal: number;
  errors: string[];
}

type Log = (line: string) => void;

const round = (n: number, to = 100): number => Math.max(to, Math.round(n / to) * to);
const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

export async function runBench(cfg: BenchConfig, log: Log): Promise<BenchResult> {
  const r: BenchResult = {
    kind: cfg.smoke ? 'smoke' : 'full',
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: machineInfo(),
    callerWindows: process.env.DETECTOR_CALLER_WINDOWS || 'node',
    detectors: cfg.detectors,
    config: cfg,
    limits: { transport: null, lua: null, redisGetOpsPerS: null },
    throughput: { ceilingProbe: null, steps: [], sustainedEventsPerS: null, ratioToTransport: null },
    latency: [],
    durationStep: null,
    memory: null,
    heap: null,
    scaling: { detectorReplicas: [], luaByHistorySpan: [], luaByPool: [] },
    alertsReceivedTotal: 0,
    errors: [],
  };
  const full = cfg.latencyAt === undefined;
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T | null> => {
    log(`-- ${name}`);
    try {
      return await fn();
    } catch (e) {
      const msg = `${name}: ${(e as Error).message}`;
      r.errors.push(msg);
      log(`!! ${msg}`);
      return null;
    }
  };

  const services = await ensureServices({
    ...cfg,
    queueRedisUrl: cfg.queueRedis ? cfg.queueRedisUrl : undefined,
    queueRedisPort: cfg.queueRedis && !cfg.redisUrl ? cfg.queueRedisPort : undefined,
    log,
  });
  if (services.private) {
    // The private Redis under .run/bench belongs to the benchmark: start from an empty one, so
    // memory and key counts are this run's alone.
    await obs0(services.redisUrl, (r0) => r0.flushall());
    if (services.queueRedisUrl) await obs0(services.queueRedisUrl, (r0) => r0.flushall());
  }
  // --queue-redis: the alerts queue on the second Redis for the whole run (on) or the B levels (alt)
  const queueEnv: Record<string, string> = services.queueRedisUrl
    ? { QUEUE_REDIS_URL: services.queueRedisUrl }
    : {};
  const altEnv = cfg.queueRedis === 'alt' ? { ...cfg.altEnv, ...queueEnv } : cfg.altEnv;
  if (cfg.queueRedis)
    log(
      `alerts queue: ${services.queueRedisUrl} (QUEUE_REDIS_URL)` +
        (cfg.queueRedis === 'alt' ? ' in the B levels, the state Redis in the A levels' : ''),
    );
  const runStartedMs = Date.now();
  const runId = runStartedMs.toString(36).slice(-5) + randomTag(3).toLowerCase();
  const prefix = `eeb${runId}`.replace(/[^a-z0-9]/g, 'x');
  const luaPrefix = `${prefix}lua`;
  const tag = randomTag(4);
  const stack = new BenchStack({
    redisUrl: services.redisUrl,
    databaseUrl: services.databaseUrl,
    prefix,
    detectors: cfg.detectors,
    ...(cfg.queueRedis === 'on' ? { env: queueEnv } : {}),
    log,
  });
  const obs = new RedisObserver(services.redisUrl, prefix, stack.partitions);
  // the benchmark's own Redis: an empty append-only file and the latency monitor (Redis stalls per level)
  const watchStalls = services.private;
  if (watchStalls) await obs.startStallWatch(STALL_THRESHOLD_MS);
  // Ctrl-C (or a test's timeout) must not leave apps or services behind.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping what this run started`);
    void stack
      .stop()
      .then(() => (services.owned ? services.stop() : undefined))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let listener: AlertListener | undefined;
  try {
    // ---- limits, measured in this run (not in a --latency-at run) ----------------------------
    if (full) {
      r.limits.redisGetOpsPerS = await phase('limit: redis-benchmark GET', () =>
        redisBenchmarkGet(services.redisUrl, cfg.smoke ? 20000 : 300000),
      );
      r.limits.transport = await phase('limit: gRPC transport (decode-only server)', async () => {
        const sink = startTool('transport-sink', [String(await freePort())]);
        try {
          const port = Number((await waitForLine(sink, /listening (\d+)/))[1]);
          const res = await runLoadgenChild({
            target: `127.0.0.1:${port}`,
            mode: 'max',
            batchSize: cfg.batchSize,
            streams: cfg.streams,
            maxInFlightPerStream: 8,
            durationS: cfg.transportS,
            preencodedBatches: 64,
            traffic: {
              mode: 'background',
              populationSpace: `${tag}Tr`,
              runTag: randomTag(4),
              population: 10000,
            },
          });
          failOnErrors('transport', res);
          log(`transport: ${res.achievedEventsPerS} events/s`);
          return {
            eventsPerS: res.achievedEventsPerS,
            batchSize: cfg.batchSize,
            streams: cfg.streams,
            ackP99Ms: res.ackLatency.p99Ms,
          };
        } finally {
          await sink.stop();
        }
      });
      r.limits.lua = await phase('limit: detector Lua script', async () => {
        const l = await runLuaBench({
          redisUrl: services.redisUrl,
          prefix: luaPrefix,
          pool: cfg.luaPool,
          historyEvents: 1,
          historySpanMs: 0,
          durationS: cfg.luaS,
        });
        log(
          `lua: ${l.eventsPerS} events/s, ${l.serverUsPerEvent} us/event in Redis, ${l.eventsPerCall} events/call`,
        );
        return l;
      });
      await phase('scaling: Lua cost vs history span and pool', async () => {
        for (const span of cfg.luaSpansS) {
          const l = await runLuaBench({
            redisUrl: services.redisUrl,
            prefix: luaPrefix,
            pool: cfg.smoke ? 200 : 1000,
            historyEvents: span === 0 ? 1 : cfg.luaHistoryEvents,
            historySpanMs: span * 1000,
            durationS: cfg.luaS,
          });
          log(`lua span ${span}s: ${l.serverUsPerEvent} us/event`);
          r.scaling.luaByHistorySpan.push(l);
        }
        for (const pool of cfg.luaPools) {
          const l = await runLuaBench({
            redisUrl: services.redisUrl,
            prefix: luaPrefix,
            pool,
            historyEvents: 1,
            historySpanMs: 0,
            durationS: cfg.luaS,
          });
          log(`lua pool ${pool}: ${l.serverUsPerEvent} us/event`);
          r.scaling.luaByPool.push(l);
        }
      });
      await phase('cleanup of the Lua benchmark keys', () => dropPrefix(services.redisUrl, luaPrefix));
    }

    // ---- the whole stack ---------------------------------------------------------------------
    log('starting ingest, detector, alert-worker, console');
    await stack.start();
    listener = new AlertListener(stack.consoleUrl, 'supervisor', 'demo-supervisor');
    await listener.connect();
    const target = `127.0.0.1:${stack.grpcPort}`;
    const background = (extra: Partial<TrafficOptions> = {}): TrafficOptions => ({
      mode: 'background',
      populationSpace: `${tag}Bg`,
      runTag: randomTag(4),
      population: cfg.population,
      ...extra,
    });
    const load = (
      o: Partial<LoadgenOptions> & Pick<LoadgenOptions, 'mode'>,
      onProbe?: (p: ProbeSend) => void,
    ) =>
      runLoadgenChild(
        {
          target,
          apiKey: stack.apiKey,
          batchSize: cfg.batchSize,
          streams: cfg.streams,
          drainTimeoutMs: 30000,
          traffic: background(),
          progressEveryMs: 30000,
          ...o,
        },
        {
          onProbe,
          onProgress: (p) =>
            log(
              `  ${p.elapsedS}s: sent ${p.sentEvents}, acked ${p.ackedEvents}, dropped ${p.droppedBatches}, ` +
                `in flight ${p.inFlightBatches}, ack p99 ${p.ackP99Ms} ms`,
            ),
        },
      );
    const drain = async (what: string, timeoutMs: number): Promise<boolean> => {
      const ok = await obs.waitDrained(timeoutMs, (n) =>
        log(`  waiting for the detector: ${n} entries left`),
      );
      if (!ok) log(`  the hand-off backlog did not drain within ${timeoutMs / 1000} s after ${what}`);
      return ok;
    };

    // Warm the stack (JIT, connections, first numbers) before anything is measured.
    await phase('warm-up', async () => {
      await load({ mode: 'open', ratePerS: cfg.smoke ? 2000 : 10000, durationS: cfg.smoke ? 1 : 5 });
      await drain('warm-up', 60000);
    });

    const cpuSnapshot = async (): Promise<{
      cpu: Record<string, number>;
      commands: Record<string, CommandStat>;
    }> => {
      const redis = await obs.cpuAndCommands();
      const cpu: Record<string, number> = { redis: redis.cpuS };
      for (const a of stack.apps) cpu[a.name] = await cpuSecondsOf(stack.metricsUrl(a)).catch(() => 0);
      return { cpu, commands: redis.commands };
    };

    const dedupeNow = (): Promise<DedupeSnapshot> =>
      dedupeSnapshot(obs, new RedisKeys(prefix), stack.partitions, stack.carrierId, runStartedMs);
    const step = async (rate: number, durationS: number): Promise<StepOutcome> => {
      const s0 = await dedupeNow().catch(() => null);
      const d0 = await detectorEvents(stack.detectorMetricsUrls());
      const c0 = await cpuSnapshot();
      const t0 = nowMs();
      const res = await load({ mode: 'open', ratePerS: rate, durationS, maxInFlightPerStream: 64 });
      const t1 = nowMs();
      const c1 = await cpuSnapshot();
      const backlog = await obs.backlogEvents();
      // one scrape of each app for both the detectors' count and what is not applied yet
      const ingestMetrics = await Promise.all(stack.ingestMetricsUrls().map((u) => scrape(u)));
      const detectorMetrics = await Promise.all(stack.detectorMetricsUrls().map((u) => scrape(u)));
      const unapplied = unappliedOf(ingestMetrics, detectorMetrics);
      const d1 = detectorMetrics.reduce((n, m) => n + sum(m, 'eagleeye_detector_events_total'), 0);
      const s1 = await dedupeNow().catch(() => null);
      const secs = (t1 - t0) / 1000;
      const cpuPct: Record<string, number> = {};
      for (const [k, v] of Object.entries(c1.cpu))
        cpuPct[k] = Math.round(((v - (c0.cpu[k] ?? 0)) / secs) * 100);
      const applied = Math.max(1, d1 - d0);
      const cpuUsPerEvent = cpuPerEvent(c0.cpu, c1.cpu, res.achievedEventsPerS * secs, applied);
      const redisCommands = commandsPerEvent(c0.commands, c1.commands, applied);
      const lua = redisCommands.find((c) => c.command === 'evalsha');
      stack.assertAlive();
      const why: string[] = [];
      if (res.batches.dropped) why.push(`${res.batches.dropped} batches dropped`);
      if (res.batches.failed) why.push(`${res.batches.failed} batches failed`);
      if (res.achievedEventsPerS < 0.95 * rate) why.push(`ingest acked only ${res.achievedEventsPerS}/s`);
      if (res.ackLatency.p99Ms > 1000) why.push(`ack p99 ${res.ackLatency.p99Ms} ms`);
      if (unapplied > rate) why.push(`detector ${unapplied} events behind (${backlog} unread)`);
      if (res.events.rejected)
        why.push(`${res.events.rejected} events rejected (${Object.keys(res.rejections).join(', ')})`);
      const o: StepOutcome = {
        targetEventsPerS: rate,
        achievedEventsPerS: res.achievedEventsPerS,
        detectorEventsPerS: Math.round((d1 - d0) / ((t1 - t0) / 1000)),
        ackP99Ms: res.ackLatency.p99Ms,
        droppedBatches: res.batches.dropped,
        lateBatches: res.batches.late,
        failedBatches: res.batches.failed,
        rejectedEvents: res.events.rejected,
        backlogEventsAtEnd: backlog,
        unappliedEventsAtEnd: unapplied,
        cpuPct,
        cpuUsPerEvent,
        luaCallsPerEvent: Math.round((lua?.callsPerEvent ?? 0) * 100) / 100,
        luaUsPerEvent: Math.round((lua?.usPerEvent ?? 0) * 10) / 10,
        redisCommands,
        dedupe:
          s0 && s1
            ? dedupeStep(s0, s1, res.events.acked + res.warmupEvents, res.achievedEventsPerS)
            : undefined,
        passed: why.length === 0,
        why: why.join('; ') || 'kept up',
      };
      log(
        `  ${rate} events/s: ${o.passed ? 'PASS' : 'FAIL'} (acked ${o.achievedEventsPerS}/s, detector ${o.detectorEventsPerS}/s, ` +
          `ack p99 ${o.ackP99Ms} ms, unapplied ${unapplied}, unread ${backlog}) ${o.passed ? '' : o.why}\n` +
          `    cpu % of a core: ${Object.entries(cpuPct)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; Lua ${o.luaCallsPerEvent} calls, ${o.luaUsPerEvent} us in Redis per event\n` +
          `    cpu us per event: ${cpuLine(cpuUsPerEvent)}\n` +
          `    redis us (calls) per event by command: ${commandsLine(redisCommands)}` +
          (o.dedupe
            ? `\n    ingest dedupe: +${o.dedupe.members} ids, ${o.dedupe.heldIds} held in ${o.dedupe.heldBytes} B: ${o.dedupe.bytesPerEvent} B per event, ` +
              `${o.dedupe.bytesPerEventHour} B per event-hour (held ${o.dedupe.heldS} s)`
            : ''),
      );
      await drain(`${rate} events/s`, cfg.smoke ? 30000 : 120000);
      return o;
    };

    // ---- latency to the console: one level at `rate` events/s (`fraction` of the sustained) ------
    const latencyLevel = async (fraction: number, rate: number): Promise<LatencyLevel> => {
      const h = newHistogram();
      const toRaised = newHistogram();
      const raisedToStored = newHistogram();
      const storedToConsole = newHistogram();
      let sent = 0;
      let got = 0;
      const pending = new Set<string>();
      const appsNow = () => stack.apps.map((a) => ({ name: a.name, url: stack.metricsUrl(a) }));
      const loadAverage = Math.round(loadavg()[0] * 100) / 100;
      const m0 = await snapshotMetrics(appsNow());
      const c0 = await cpuSnapshot();
      const d0 = await detectorEvents(stack.detectorMetricsUrls());
      const writes = () =>
        detectorCounter(stack.detectorMetricsUrls(), 'eagleeye_detector_caller_state_writes_total');
      const w0 = await writes();
      const st0 = watchStalls ? await obs.stalls().catch(() => null) : null;
      const res = await load(
        {
          mode: 'open',
          ratePerS: rate,
          durationS: cfg.latencyS,
          traffic: background({ instantProbesPerS: cfg.probesPerS }),
        },
        (p) => {
          if (p.kind !== 'instant' || !listener) return;
          sent++;
          pending.add(p.callId);
          listener.expect(p.callId, (a) => {
            pending.delete(p.callId);
            got++;
            recordMs(h, a.arrivedMs - p.answeredSendMs);
            const raised = Date.parse(a.alert.raisedAt);
            const stored = Date.parse(a.alert.updatedAt);
            if (Number.isFinite(raised) && Number.isFinite(stored)) {
              recordMs(toRaised, raised - p.answeredSendMs);
              recordMs(raisedToStored, stored - raised);
              recordMs(storedToConsole, a.arrivedMs - stored);
            }
          });
        },
      );
      stack.assertAlive();
      const deadline = Date.now() + (cfg.smoke ? 10000 : 20000);
      while (pending.size && Date.now() < deadline) await new Promise((res2) => setTimeout(res2, 200));
      for (const id of pending) listener?.forget(id);
      const m1 = await snapshotMetrics(appsNow());
      const c1 = await cpuSnapshot();
      const d1 = await detectorEvents(stack.detectorMetricsUrls());
      const w1 = await writes();
      const st1 = st0 ? await obs.stalls(st0.aofRewritesTotal).catch(() => null) : null;
      // over the level and its tail (the probes' alerts)
      const cpuUsPerEvent = cpuPerEvent(c0.cpu, c1.cpu, res.events.acked, d1 - d0);
      const lv: LatencyLevel = {
        fraction,
        loadAverage,
        eventsPerS: rate,
        achievedEventsPerS: res.achievedEventsPerS,
        probesSent: sent,
        alertsReceived: got,
        missed: pending.size,
        latency: summarise(h),
        ackLatency: res.ackLatency,
        cpuUsPerEvent,
        detectorEvents: d1 - d0,
        ...(d1 > d0 ? { windowsWritesPerEvent: Math.round(((w1 - w0) / (d1 - d0)) * 1000) / 1000 } : {}),
        split: {
          toRaised: summarise(toRaised),
          raisedToStored: summarise(raisedToStored),
          storedToConsole: summarise(storedToConsole),
        },
        ...(st0 && st1 ? { redisStalls: { ...st1, aofRewriteAtStart: st0.aofRewriteInProgress } } : {}),
      };
      lv.stages = stageBreakdown(m0, m1, lv.latency);
      const l = lv.latency;
      log(`  ${got}/${sent} alerts: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, p99.9 ${l.p999Ms} ms`);
      const sp = lv.split;
      if (sp)
        log(
          `  split p50: send -> raised ${sp.toRaised.p50Ms} ms, raised -> stored ${sp.raisedToStored.p50Ms} ms, ` +
            `stored -> console ${sp.storedToConsole.p50Ms} ms`,
        );
      await drain('a latency level', 60000);
      return lv;
    };

    // ---- --latency-at: the latency levels only, alternating two settings with --alt-env ----------
    if (!full) {
      const rate = cfg.latencyAt as number;
      for (let i = 0; i < cfg.latencyRuns; i++) {
        const variant = altEnv ? (i % 2 ? 'B' : 'A') : undefined;
        if (altEnv && i > 0) {
          await phase(`switching to ${variant}`, async () => {
            const apps = await stack.setEnv(altEnv, variant === 'B');
            log(`  restarted ${apps.join(', ')}; warming up`);
            await load({ mode: 'open', ratePerS: rate, durationS: cfg.smoke ? 1 : 5 });
            await drain('the warm-up', 60000);
          });
        }
        const level = await phase(`latency at ${rate} events/s${variant ? ` (${variant})` : ''}`, () =>
          latencyLevel(0.5, rate),
        );
        if (level) r.latency.push({ ...level, ...(variant ? { variant } : {}) });
      }
      for (const lv of r.latency) log(latencyLine(lv));
      return r;
    }

    // ---- throughput: ceiling probe, then open-loop steps around it ---------------------------
    await phase('throughput: sustained ingest + detection', async () => {
      const d0 = await detectorEvents(stack.detectorMetricsUrls());
      const t0 = nowMs();
      const res = await load({ mode: 'max', durationS: cfg.stepS, maxInFlightPerStream: 8 });
      const t1 = nowMs();
      const d1 = await detectorEvents(stack.detectorMetricsUrls());
      failOnErrors('ceiling probe', res);
      const det = Math.round((d1 - d0) / ((t1 - t0) / 1000));
      r.throughput.ceilingProbe = { ingestEventsPerS: res.achievedEventsPerS, detectorEventsPerS: det };
      log(`ceiling probe: ingest acked ${res.achievedEventsPerS}/s, detector applied ${det}/s`);
      await drain('the ceiling probe', cfg.smoke ? 30000 : 300000);
      let lo = 0;
      let hi = Infinity;
      let rate = round(0.9 * Math.min(res.achievedEventsPerS, det || res.achievedEventsPerS));
      for (let i = 0; i < cfg.searchSteps; i++) {
        const o = await step(rate, cfg.stepS);
        r.throughput.steps.push(o);
        if (o.passed) lo = Math.max(lo, rate);
        else hi = Math.min(hi, rate);
        // Grow by half until a step fails, then bisect between the best pass and the first failure.
        rate = hi === Infinity ? round(rate * 1.5) : lo > 0 ? round((lo + hi) / 2) : round(rate * 0.6);
        if (hi !== Infinity && hi - lo <= Math.max(1000, hi * 0.05)) break;
      }
      r.throughput.sustainedEventsPerS = lo > 0 ? lo : null;
      if (lo > 0 && r.limits.transport) {
        r.throughput.ratioToTransport = Math.round((lo / r.limits.transport.eventsPerS) * 1000) / 1000;
      }
    });
    // The latency levels and the soak need a basis even if no step passed: half the lowest tried.
    const tried = r.throughput.steps.map((s) => s.targetEventsPerS);
    const basis =
      r.throughput.sustainedEventsPerS ??
      (tried.length ? round(Math.min(...tried) / 2) : cfg.smoke ? 1000 : 5000);

    // ---- latency to the console at 25 / 50 / 75 % ----------------------------------------------
    for (const fraction of [0.25, 0.5, 0.75]) {
      const rate = round(basis * fraction);
      const level = await phase(`latency at ${fraction * 100} % (${rate} events/s)`, () =>
        latencyLevel(fraction, rate),
      );
      if (level) {
        r.latency.push(level);
        log(`  ${latencyLine(level)}`);
      }
    }

    // ---- memory: Redis bytes per active number ------------------------------------------------
    r.memory = await phase(`memory: up to ${cfg.memoryNumbers} numbers made active`, async () => {
      await drain('before the memory phase', 120000);
      const m0 = await obs.usedMemory();
      const space = `${tag}Mm`;
      const calls = Math.ceil(cfg.memoryNumbers / 2);
      const res = await load({
        mode: 'max',
        durationS: cfg.memoryFillS,
        maxInFlightPerStream: 8,
        traffic: {
          mode: 'fresh-pairs',
          populationSpace: space,
          runTag: randomTag(4),
          population: 0,
          maxCalls: calls,
        },
      });
      failOnErrors('memory fill', res);
      log(`  ${res.events.acked} events acknowledged; waiting for the detector to apply them`);
      const drained = await drain('the memory fill', cfg.smoke ? 60000 : 900000);
      await new Promise((res2) => setTimeout(res2, 1000));
      const m1 = await obs.usedMemory();
      // Each call is three events between two numbers never seen before, whole calls per batch
      // (the warm-up batches too).
      const numbers = Math.round(((res.events.acked + res.warmupEvents) / 3) * 2);
      const sampled = await sampleNumberBytes(
        obs,
        new RedisKeys(prefix),
        space,
        numbers,
        cfg.smoke ? 50 : 500,
      );
      const luaWithNumbers = await runLuaBench({
        redisUrl: services.redisUrl,
        prefix: luaPrefix,
        pool: cfg.smoke ? 200 : 1000,
        historyEvents: 1,
        historySpanMs: 0,
        durationS: cfg.luaS,
      }).catch((e: Error) => {
        r.errors.push(`lua with numbers: ${e.message}`);
        return null;
      });
      await dropPrefix(services.redisUrl, luaPrefix);
      const dedupe = await dedupeBytes(obs, prefix);
      const out = {
        numbers,
        drained,
        dedupe,
        usedMemoryDeltaBytes: m1 - m0,
        bytesPerNumber: Math.round((m1 - m0) / numbers),
        sampledKeyBytesPerNumber: sampled,
        dbKeysAfter: await obs.dbsize(),
        luaWithNumbers,
      };
      log(
        `  ${out.bytesPerNumber} bytes per number (used_memory delta), ${sampled} sampled from the number keys`,
      );
      log(
        `  ingest dedupe: ${dedupe.bytesPerEvent} bytes per event held (${dedupe.events} events in ${dedupe.keys} sets, ` +
          `${dedupe.bytes} bytes); ${dedupe.gbAt100kPerSecond} GB at 100k events/s held ${dedupe.heldS} s`,
      );
      return out;
    });

    // ---- scaling: detector replicas ----------------------------------------------------------
    await phase('scaling: detector replicas', async () => {
      for (const replicas of [1, 2]) {
        await stack.stopDetectors();
        const fill = await load({
          mode: 'max',
          maxBatches: Math.ceil(cfg.scalingEvents / cfg.batchSize),
          durationS: 600,
          maxInFlightPerStream: 8,
        });
        failOnErrors('scaling fill', fill);
        const backlog = await obs.backlogEvents(1_000_000);
        const applied0 = await detectorEvents(stack.detectorMetricsUrls()).catch(() => 0);
        const started = nowMs();
        const starting = Array.from({ length: replicas }, () => stack.addDetector());
        const samples: { t: number; n: number }[] = [];
        let drainedAt = 0;
        const poll = (async () => {
          while (!drainedAt && nowMs() - started < 600000) {
            const urls = stack.detectorMetricsUrls();
            const n = await detectorEvents(urls).catch(() => -1);
            // from when every replica reads its share of the partitions (a replica started after
            // another owns none until the other hands them over at its next lease renewal)
            const owning = await detectorsOwning(urls).catch(() => 0);
            if (n >= 0 && owning === replicas) samples.push({ t: nowMs(), n });
            // drained once every entry is read and its round applied (acknowledgements follow the
            // deferred windows writes: DETECTOR_WINDOWS_WRITE_DELAY_MS later when idle)
            if (
              (await obs.backlogEvents()) === 0 &&
              (n >= applied0 + backlog || (await obs.backlogEntries()) === 0)
            )
              drainedAt = nowMs();
            else await new Promise((res2) => setTimeout(res2, 100));
          }
        })();
        await Promise.all(starting);
        await poll;
        const last = samples[samples.length - 1];
        // from the first sample (every replica answering and owning partitions), not the first applied event: the
        // counters move a whole round at a time, and two replicas' rounds can finish together
        const first = samples.length > 1 ? samples[0] : undefined;
        let rate = 0;
        if (first && last && last.n - first.n > backlog * 0.3)
          rate = (last.n - first.n) / ((last.t - first.t) / 1000);
        else if (drainedAt) rate = backlog / ((drainedAt - started) / 1000);
        r.scaling.detectorReplicas.push({ replicas, backlogEvents: backlog, eventsPerS: Math.round(rate) });
        log(`  ${replicas} detector replica(s): ${Math.round(rate)} events/s draining ${backlog} events`);
      }
      await stack.stopDetectors();
      for (let i = 0; i < cfg.detectors; i++) await stack.addDetector();
    });

    // ---- soak: heap of every app, duration-step lateness -------------------------------------
    const stepsS = [...RULE_CATALOG.long_call.params.stepsS].sort((a, b) => a - b);
    const firstStepS = stepsS[0];
    // Probe calls stay up past the second step, so a probe that misses the first one still shows
    // which step raised it (and is not mistaken for a post-call alert).
    const probeTalkS = (stepsS[1] ?? firstStepS) + 15;
    await phase(`soak: ${cfg.soakS} s at 50 % (${round(basis * 0.5)} events/s)`, async () => {
      const heap = new Map<
        string,
        { t: number; used: number; rss: number; majorGcs: number; live: number }[]
      >();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const t = nowMs();
          for (const a of stack.apps) {
            const h = await heapOf(stack.metricsUrl(a)).catch(() => null);
            if (!h) continue;
            const list = heap.get(a.name) ?? [];
            list.push({ t, used: h.heapUsedBytes, rss: h.rssBytes, majorGcs: h.majorGcs, live: h.liveBytes });
            heap.set(a.name, list);
          }
          await new Promise((res2) => setTimeout(res2, cfg.heapEveryS * 1000));
        }
      })();
      const lateness = newHistogram();
      const raisedLateness = newHistogram();
      let stepSent = 0;
      let stepGot = 0;
      let early = 0;
      const byStep: Record<string, number> = {};
      const pending = new Set<string>();
      let lastAnswer = 0;
      const soakStart = nowMs();
      const progress = setInterval(
        () => {
          const parts = [...heap.entries()].map(([n, l]) => `${n} ${mib(l[l.length - 1]?.used ?? 0)} MiB`);
          log(`  soak ${Math.round((nowMs() - soakStart) / 1000)}/${cfg.soakS} s: heap ${parts.join(', ')}`);
        },
        cfg.smoke ? 2000 : 60000,
      );
      let res: LoadgenResult;
      try {
        res = await load(
          {
            mode: 'open',
            ratePerS: round(basis * 0.5),
            durationS: cfg.soakS,
            traffic: background({
              instantProbesPerS: 1,
              stepProbes: cfg.stepProbes,
              stepProbeTalkS: probeTalkS,
            }),
          },
          (p) => {
            if (p.kind !== 'step' || !listener) return;
            stepSent++;
            pending.add(p.callId);
            lastAnswer = Math.max(lastAnswer, p.answeredAtMs);
            listener.expect(p.callId, (a) => {
              pending.delete(p.callId);
              stepGot++;
              // Lateness against the step that raised it: the last step at or before the arrival.
              const since = a.arrivedMs - p.answeredAtMs;
              const step = stepsS.filter((st) => st * 1000 <= since).pop();
              if (step === undefined) early++;
              else {
                byStep[String(step)] = (byStep[String(step)] ?? 0) + 1;
                recordMs(lateness, since - step * 1000);
                const raised = Date.parse(a.alert.raisedAt) - p.answeredAtMs;
                if (Number.isFinite(raised)) recordMs(raisedLateness, Math.max(0, raised - step * 1000));
              }
            });
          },
        );
        // Step alerts come a step after the answer: wait for them if the soak was long enough.
        const waitUntil = lastAnswer + probeTalkS * 1000;
        if (cfg.soakS >= firstStepS) {
          while (pending.size && nowMs() < waitUntil) await new Promise((res2) => setTimeout(res2, 250));
        }
      } finally {
        clearInterval(progress);
        sampling = false;
        await sampler;
      }
      stack.assertAlive();
      for (const id of pending) listener?.forget(id);
      r.durationStep = {
        firstStepS,
        probesSent: stepSent,
        alerts: stepGot,
        early,
        byStep,
        lateness: summarise(lateness),
        raisedLateness: summarise(raisedLateness),
        note:
          cfg.soakS >= firstStepS
            ? `calls suspect enough to watch but not to alert at answer; lateness = arrival - (answer + step)`
            : `not measured: the soak (${cfg.soakS} s) is shorter than the first duration step (${firstStepS} s)`,
      };
      r.heap = {
        soakS: cfg.soakS,
        eventsPerS: round(basis * 0.5),
        achievedEventsPerS: res.achievedEventsPerS,
        apps: [...heap.entries()].map(([app, samples]) => heapTrend(app, samples, cfg.smoke ? 2 : 5)),
      };
    });

    // ---- where Redis's time goes, at half the sustained rate: last, as logging every command
    // slowed the phases after it (the latency levels' rounds grew tenfold when it ran before them)
    // It changes the server's slow-log settings and clears its log: on private servers only.
    const half = round(basis * 0.5);
    if (cfg.redisUrl) {
      r.redisBreakdown = null;
      log("-- where Redis's time goes: skipped (existing servers: it would clear their slow log)");
    } else
      r.redisBreakdown = await phase(
        `where Redis's time goes at 50 % (${half} events/s, slow log)`,
        async () => {
          const seconds = Math.min(cfg.stepS, 5);
          await drain('before the breakdown', 60000);
          const names = scriptNames(loadScripts().values());
          names.set(createHash('sha1').update(loadLua(HANDOFF_SCRIPT_FILE)).digest('hex'), 'ingest handoff');
          const rc = new Redis(services.redisUrl, { maxRetriesPerRequest: 2 });
          const d0 = await detectorEvents(stack.detectorMetricsUrls());
          const b = await RedisBreakdown.start(rc, names, 2_000_000);
          let out: Breakdown;
          let events: number;
          try {
            await load({ mode: 'open', ratePerS: half, durationS: seconds });
            await drain('the breakdown', 60000);
          } finally {
            const d1 = await detectorEvents(stack.detectorMetricsUrls());
            events = d1 - d0;
            out = await b.finish(events);
            rc.disconnect();
            // the log held up to a few hundred MB; give it back before the next phase is measured
            await obs0(services.redisUrl, (r0) => r0.memory('PURGE'));
          }
          log(formatBreakdown(out, cfg.smoke ? 8 : 30));
          return {
            eventsPerS: half,
            seconds,
            events: (await detectorEvents(stack.detectorMetricsUrls())) - d0,
            breakdown: out,
          };
        },
      );

    // ---- scaling: Redis Cluster masters x detector replicas, each on a stack of its own --------
    // The main stack stops first: its idle polling would otherwise share the cores with them.
    if (listener) {
      r.alertsReceivedTotal = listener.received;
      listener.close();
      listener = undefined;
    }
    await stack.stop();
    if (!cfg.clusterMasters.length) {
      r.scaling.cluster = { events: 0, firstPort: 0, rows: [], skipped: 'skipped (--skip-cluster)' };
      log('-- scaling: Redis Cluster masters x detector replicas: skipped (--skip-cluster)');
    } else {
      await phase(
        `scaling: Redis masters ${cfg.clusterMasters.join('/')} x detector replicas ` +
          `${cfg.clusterReplicas.join('/')}, backlogs of ${cfg.clusterEvents} events`,
        async () => {
          const firstPort =
            cfg.clusterPort ?? (await freeClusterPorts(Math.max(1, ...cfg.clusterMasters)))[0];
          const cluster = { events: cfg.clusterEvents, firstPort, rows: [] as ClusterScalingRow[] };
          r.scaling.cluster = cluster;
          await runClusterScaling({
            databaseUrl: services.databaseUrl,
            events: cfg.clusterEvents,
            masters: cfg.clusterMasters,
            replicas: cfg.clusterReplicas,
            firstPort,
            runDir: services.runDir ?? cfg.runDir,
            batchSize: cfg.batchSize,
            population: cfg.population,
            log,
            rows: cluster.rows,
          });
        },
      );
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (listener) {
      r.alertsReceivedTotal = listener.received;
      listener.close();
    }
    obs.close();
    await stack.stop().catch((e: Error) => r.errors.push(`stopping the stack: ${e.message}`));
    await stack.cleanup().catch((e: Error) => r.errors.push(`dropping the schema: ${e.message}`));
    if (services.private) {
      await services.stop().catch((e: Error) => r.errors.push(`stopping services: ${e.message}`));
    } else {
      await dropPrefix(services.redisUrl, prefix).catch(() => 0);
      await dropPrefix(services.redisUrl, luaPrefix).catch(() => 0);
      if (services.queueRedisUrl) await dropPrefix(services.queueRedisUrl, prefix).catch(() => 0);
    }
    r.finishedAt = new Date().toISOString();
  }
  return r;
}

/**
 * CPU µs per event of each process between two snapshots of their CPU seconds: ingest's per event
 * it acknowledged, every other process's per event the detector applied.
 */
function cpuPerEvent(
  before: Record<string, number>,
  after: Record<string, number>,
  acked: number,
  applied: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const per = Math.max(1, k.startsWith('ingest') ? acked : applied);
    out[k] = Math.round(((v - (before[k] ?? 0)) / per) * 1e7) / 10;
  }
  return out;
}

function cpuLine(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function commandsLine(commands: CommandPerEvent[]): string {
  return commands.map((c) => `${c.command.toUpperCase()} ${c.usPerEvent} (${c.callsPerEvent})`).join(', ');
}

/** One level on one line: variant, load average, p50/p99, and the p50 of every stage on an alert's path. */
export function latencyLine(lv: LatencyLevel): string {
  const stages = (lv.stages?.stages ?? [])
    .filter(
      (s) =>
        s.count > 0 && (s.onPath || s.key === 'detector.detection' || s.key === 'worker.queue_wait.victim'),
    )
    .map((s) => `${s.key} ${s.p50Ms}/${s.p99Ms}${s.p99Above ? '+' : ''}`)
    .join(', ');
  const wait = lv.stages?.path.handoffWaitP50Ms;
  return (
    `${lv.variant ?? '-'} load ${lv.loadAverage ?? '?'} ${lv.eventsPerS} events/s: ${lv.alertsReceived}/${lv.probesSent} alerts, ` +
    `p50/p99 ${lv.latency.p50Ms}/${lv.latency.p99Ms} ms; stage p50/p99 ms: ${stages}` +
    (wait !== null && wait !== undefined ? `; hand-off wait p50 ~${wait}` : '') +
    (lv.stages?.roundEvents ? `; ${lv.stages.roundEvents.mean} events/round` : '') +
    (lv.cpuUsPerEvent ? `; cpu us/event ${cpuLine(lv.cpuUsPerEvent)}` : '') +
    (lv.windowsWritesPerEvent !== undefined ? `; windows writes/event ${lv.windowsWritesPerEvent}` : '') +
    (lv.redisStalls ? `; ${stallsLine(lv.redisStalls)}` : '') +
    (lv.stages?.unscraped.length ? `; metrics not scraped at one end: ${lv.stages.unscraped.join(', ')}` : '')
  );
}

async function obs0(url: string, fn: (r: Redis) => Promise<unknown>): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    await fn(r);
  } finally {
    r.disconnect();
  }
}

function failOnErrors(what: string, res: LoadgenResult): void {
  if (res.events.acked === 0 || res.batches.failed > 0) {
    throw new Error(
      `${what}: ${res.events.acked} events acknowledged; ${res.errors.slice(0, 3).join('; ') || 'no errors'}`,
    );
  }
}

/** MEMORY USAGE of every key of a sample of the numbers made active, averaged per number. */
async function sampleNumberBytes(
  obs: RedisObserver,
  keys: RedisKeys,
  space: string,
  numbers: number,
  sample: number,
): Promise<number> {
  const day = Math.floor(Date.now() / 86400_000);
  let total = 0;
  for (let i = 0; i < sample; i++) {
    const token = benchToken('lt', space, Math.floor((i * numbers) / sample));
    const ks = numberKeys(keys, token, day);
    const p = obs.redis.pipeline();
    for (const k of ks) p.memory('USAGE', k);
    for (const [err, v] of (await p.exec()) ?? []) if (!err && v) total += Number(v);
  }
  return Math.round(total / sample);
}

interface DedupeSnapshot {
  keys: number;
  members: number;
  bytes: number;
}

/** Ingest's dedupe TTL and bucket as the stack's ingest runs them (its own schema, defaults included). */
function ingestDedupeConfig(): { ttlS: number; bucketS: number; heldS: number } {
  const ingest = loadConfig(IngestConfigSchema, process.env);
  return {
    ttlS: ingest.INGEST_DEDUPE_TTL_S,
    bucketS: ingest.INGEST_DEDUPE_BUCKET_S,
    // a bucket's set expires TTL after its last addition: its first id is held up to a bucket longer
    heldS: ingest.INGEST_DEDUPE_TTL_S + ingest.INGEST_DEDUPE_BUCKET_S,
  };
}

/**
 * The run's dedupe sets right now: every partition's set of every bucket since the run began (the
 * key names follow from the bucket, no SCAN of the keyspace), their members and exact MEMORY USAGE.
 */
async function dedupeSnapshot(
  obs: RedisObserver,
  keys: RedisKeys,
  partitions: number,
  carrierId: string,
  sinceMs: number,
): Promise<DedupeSnapshot> {
  const bucketMs = ingestDedupeConfig().bucketS * 1000;
  const from = Math.floor((sinceMs - 120_000) / bucketMs);
  const to = Math.floor((Date.now() + 120_000) / bucketMs);
  const p = obs.redis.pipeline();
  for (let part = 0; part < partitions; part++) {
    for (let b = from; b <= to; b++) {
      const k = keys.handoffSeen(part, carrierId, b);
      p.scard(k).memory('USAGE', k, 'SAMPLES', 0);
    }
  }
  const res = (await p.exec()) ?? [];
  const out: DedupeSnapshot = { keys: 0, members: 0, bytes: 0 };
  for (let i = 0; i < res.length; i += 2) {
    const [e1, n] = res[i];
    const [e2, b] = res[i + 1];
    if (e1 || e2 || !Number(n)) continue;
    out.keys++;
    out.members += Number(n);
    out.bytes += Number(b ?? 0);
  }
  return out;
}

export interface DedupeStep {
  /**
   * events ingest acknowledged in the step (its warm-up included), and ids the sets gained
   * (duplicates add none)
   */
  ackedEvents: number;
  members: number;
  /** what the sets' MEMORY USAGE grew by (noisy: see bytesPerEvent) */
  bytes: number;
  /** every id the sets held at the end of the step, and their MEMORY USAGE */
  heldIds: number;
  heldBytes: number;
  /**
   * bytes per id held at the end of the step: the sets' whole MEMORY USAGE over their ids. Not the
   * growth over the ids added: a set's hash table doubles its slots as it grows and, until enough
   * additions finish the incremental rehash, counts both tables, so the growth in one step swings
   * from about nothing to twice the average
   */
  bytesPerEvent: number;
  ttlS: number;
  heldS: number;
  /**
   * the issue's "B per event-hour": bytes x hours one event costs while held at the configured TTL,
   * bytesPerEvent x heldS / 3600 (steady-state memory = events per hour x this)
   */
  bytesPerEventHour: number;
  /** steady state at the step's rate and at 100k events/s: rate x heldS x bytesPerEvent */
  mibAtStepRate: number;
  gbAt100kPerSecond: number;
}

/** What the dedupe sets hold per id at the end of a step, and what that means at the configured TTL. */
export function dedupeStep(
  before: DedupeSnapshot,
  after: DedupeSnapshot,
  ackedEvents: number,
  eventsPerS: number,
  cfg = ingestDedupeConfig(),
): DedupeStep {
  const per = after.members ? after.bytes / after.members : 0;
  return {
    ackedEvents,
    members: Math.max(0, after.members - before.members),
    bytes: after.bytes - before.bytes,
    heldIds: after.members,
    heldBytes: after.bytes,
    bytesPerEvent: Math.round(per * 10) / 10,
    ttlS: cfg.ttlS,
    heldS: cfg.heldS,
    bytesPerEventHour: Math.round(((per * cfg.heldS) / 3600) * 10) / 10,
    mibAtStepRate: Math.round(((eventsPerS * cfg.heldS * per) / 2 ** 20) * 10) / 10,
    gbAt100kPerSecond: Math.round(((100_000 * cfg.heldS * per) / 1e9) * 10) / 10,
  };
}

interface DedupeBytes {
  keys: number;
  events: number;
  bytes: number;
  bytesPerEvent: number;
  heldS: number;
  gbAt100kPerSecond: number;
}

/**
 * What ingest's dedupe sets cost (issue 13: "Redis bytes per event-hour printed"): every set under
 * the run's prefix, their MEMORY USAGE over their members, and what that means at 100k events/s
 * with each event held for the dedupe TTL plus one bucket (the defaults unless set for the run).
 */
async function dedupeBytes(obs: RedisObserver, prefix: string): Promise<DedupeBytes> {
  const pattern = `${prefix}:{h*}:seen:*`;
  let cursor = '0';
  let keys = 0;
  let events = 0;
  let bytes = 0;
  do {
    const [next, batch] = await obs.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (!batch.length) continue;
    const p = obs.redis.pipeline();
    for (const k of batch) p.scard(k).memory('USAGE', k);
    const res = (await p.exec()) ?? [];
    for (let i = 0; i < res.length; i += 2) {
      const [e1, n] = res[i];
      const [e2, b] = res[i + 1];
      if (e1 || e2) continue;
      keys++;
      events += Number(n);
      bytes += Number(b ?? 0);
    }
  } while (cursor !== '0');
  // what the stack's ingest ran with: its own configuration schema, defaults included
  const ingest = loadConfig(IngestConfigSchema, process.env);
  const heldS = ingest.INGEST_DEDUPE_TTL_S + ingest.INGEST_DEDUPE_BUCKET_S;
  const bytesPerEvent = events ? Math.round((bytes / events) * 10) / 10 : 0;
  return {
    keys,
    events,
    bytes,
    bytesPerEvent,
    heldS,
    gbAt100kPerSecond: Math.round(((100_000 * heldS * bytesPerEvent) / 1e9) * 10) / 10,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    process.stdout.write(USAGE);
    return;
  }
  const cfg = parseBenchArgs(argv, process.env);
  const log: Log = (line) =>
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const started = Date.now();
  const result = await runBench(cfg, log);
  const report = formatReport(result);
  process.stdout.write(report + '\n');
  const dir = resolve(REPO_ROOT, cfg.outDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${result.kind}-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  log(`finished in ${Math.round((Date.now() - started) / 1000)} s; JSON: ${file}`);
  if (result.errors.length) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`bench: ${e.stack ?? e.message}\n`);
    process.exit(2);
  });
}
