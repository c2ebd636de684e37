import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createPool, DEMO_USERS } from '@eagle-eye/db';
import { RedisKeys } from '@eagle-eye/redis';
import { Args } from '../args';
import { heapOf } from '../observe';
import { nowMs } from '../open-loop';
import { freePort } from '../processes';
import { BenchStack, ensureServices, Services } from '../stack';
import { randomTag } from '../traffic';
import { CarrierOptions, ChaosCarrier, CarrierResult } from './carrier';
import { ConsoleLedger } from './console-ledger';
import { FaultProxy } from './fault-proxy';
import {
  Fault,
  FaultContext,
  getAppendFsync,
  killApp,
  killRedis,
  killRedisWhileBlocked,
  killReplica,
  latency,
  pgImmediate,
  resets,
  setAppendFsync,
  sleep,
  slowCarrier,
  slowConsoles,
  stall,
} from './faults';
import { formatFsyncCost, measureFsyncCost } from './fsync-cost';
import { alertJobs, checkLedger, LedgerResult } from './ledger';

/**
 * `npm run chaos -- --scenario <name>|all`: Jepsen-style runs. Each scenario starts the whole stack
 * on its own key prefix and schema, drives it at a fixed rate with fresh call pairs and scam calls
 * whose alerts are known in advance, injects its faults on a schedule, stops the load, lets the
 * stack drain and checks the ledger (ledger.ts). Prints a table; exits 1 when a promise broke.
 */
export interface Scenario {
  name: string;
  what: string;
  durationS: number;
  faults: Fault[];
  /** Redis AOF fsync policy for the run (only with services of its own) */
  fsync?: 'everysec' | 'always';
  /** route the apps' connections to Redis or PostgreSQL through a FaultProxy */
  proxy?: 'redis' | 'postgres';
  /** a carrier that misbehaves: clock off, duplicated batches, reordered or late events */
  carrier?: Pick<CarrierOptions, 'clockOffsetMs' | 'duplicateEvery' | 'mutate'>;
  /** detector replicas in one consumer group (1 unless given) */
  detectors?: number;
  /** scam calls a second, instead of --probes-per-s (more alerts for the consoles to carry) */
  probesPerS?: number;
  /** extra environment for every app of the run */
  env?: Record<string, string>;
}

type Mutate = NonNullable<CarrierOptions['mutate']>;

function both(a: Mutate, b: Mutate): Mutate {
  return (events, t) => b(a(events, t), t);
}

/** Every `every`-th batch reversed (within one batch, a call's end arrives before its start). */
function reverseEvery(every: number): Mutate {
  let k = 0;
  return (events) => (k++ % every === every - 1 ? [...events].reverse() : events);
}

/** Every `every`-th batch's events `ms` older than the others (a switch that held them back). */
function lateEvery(every: number, ms: number): Mutate {
  let k = 0;
  return (events) =>
    k++ % every === every - 1 ? events.map((e) => ({ ...e, eventTimeMs: e.eventTimeMs - ms })) : events;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'smoke',
    what: 'short run inside npm test: kill -9 of ingest, alert worker and console, each restarted',
    durationS: 20,
    faults: [killApp('ingest', 4), killApp('alert-worker', 9), killApp('console', 13)],
  },
  { name: 'baseline', what: 'no fault', durationS: 30, faults: [] },
  {
    name: 'kill-ingest',
    what: 'kill -9 of ingest mid-batch, restarted',
    durationS: 30,
    faults: [killApp('ingest', 10)],
  },
  {
    name: 'kill-detector',
    what: 'kill -9 of the detector mid-round, restarted',
    durationS: 30,
    faults: [killApp('detector-1', 10)],
  },
  {
    name: 'kill-worker',
    what: 'kill -9 of the alert worker mid-job, restarted',
    durationS: 30,
    faults: [killApp('alert-worker', 10)],
  },
  {
    name: 'kill-console',
    what: 'kill -9 of the console with a socket open, restarted',
    durationS: 30,
    faults: [killApp('console', 10)],
  },
  {
    name: 'redis-everysec',
    what: 'kill -9 of redis-server, appendfsync everysec, restarted from the AOF',
    durationS: 30,
    fsync: 'everysec',
    faults: [killRedis(10, 'everysec')],
  },
  {
    name: 'redis-always',
    what: 'kill -9 of redis-server, appendfsync always, restarted from the AOF',
    durationS: 30,
    fsync: 'always',
    faults: [killRedis(10, 'always')],
  },
  {
    name: 'pg-immediate',
    what: 'PostgreSQL immediate shutdown while alerts are written, restarted',
    durationS: 30,
    faults: [pgImmediate(10)],
  },
  {
    name: 'clock-behind',
    what: 'a carrier whose clock is 5 minutes behind',
    durationS: 30,
    faults: [],
    carrier: { clockOffsetMs: -300_000 },
  },
  {
    name: 'clock-ahead',
    what: 'a carrier whose clock is 5 minutes ahead (at the edge of INGEST_MAX_FUTURE_SKEW_MS)',
    durationS: 30,
    faults: [],
    carrier: { clockOffsetMs: 300_000 },
  },
  {
    name: 'dup-reorder-late',
    what: 'every 3rd batch sent twice, every 4th reversed, every 5th 10 minutes late',
    durationS: 30,
    faults: [],
    carrier: {
      duplicateEvery: 3,
      mutate: both(reverseEvery(4), lateEvery(5, 600_000)),
    },
  },
  {
    name: 'slow-console',
    what: '3 console sockets stop reading for 60 s while alerts flow, then read again',
    durationS: 75,
    faults: [slowConsoles(5, 3, 60)],
  },
  {
    name: 'slow-carrier',
    what: 'a second carrier sends 20 batches/s of 500 events for 45 s and never reads its acks',
    durationS: 60,
    faults: [slowCarrier(5, 45, 20, 500)],
  },
  {
    name: 'redis-blocked',
    what: 'kill -9 of redis-server while the alert worker is blocked in BZPOPMIN, 8 s down, restarted',
    durationS: 40,
    faults: [killRedisWhileBlocked(10, 8)],
  },
  {
    name: 'kill-replica',
    what: 'kill -9 of one of two detector replicas mid-round; the other takes its partitions and pending entries',
    durationS: 40,
    detectors: 2,
    faults: [
      killReplica(
        [
          ['detector-1', 'bench-1'],
          ['detector-2', 'bench-2'],
        ],
        10,
      ),
    ],
  },
  ...(['redis', 'postgres'] as const).flatMap((proxy): Scenario[] => [
    {
      name: `${proxy}-latency`,
      what: `200 ms added to every packet between the apps and ${proxy} for 10 s`,
      durationS: 30,
      proxy,
      faults: [latency(10, 200, 10)],
    },
    {
      name: `${proxy}-stall`,
      what: `nothing passes between the apps and ${proxy} for 10 s (connections stay open)`,
      durationS: 30,
      proxy,
      faults: [stall(10, 10)],
    },
    {
      name: `${proxy}-reset`,
      what: `every connection between the apps and ${proxy} reset, three times 4 s apart`,
      durationS: 30,
      proxy,
      faults: [resets(10, 3, 4)],
    },
  ]),
];

/**
 * CHAOS_APP_ENV='K=V,K=V': extra environment for every app (a comparison run, e.g. a limit set off)
 */
function envOverride(): Record<string, string> {
  const raw = process.env.CHAOS_APP_ENV ?? '';
  return Object.fromEntries(
    raw
      .split(',')
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

/** the detector's default DETECTOR_LATENESS_MS (the stack does not set it) */
const DETECTOR_LATENESS_MS = 120_000;

export interface ChaosRow {
  scenario: string;
  what: string;
  carrier: Omit<CarrierResult, 'acked' | 'unacked' | 'ackLatencyMs' | 'ackAtMs'> & {
    ackP99Ms: number;
    ackMaxMs: number;
  };
  ledger: LedgerResult;
  /** from the first fault to the first alert at the console for a scam answered after it, s */
  recoverS: number | null;
  peakHeap: { app: string; mib: number } | null;
  /** peak heap of every app, MiB */
  heapByApp: Record<string, number>;
  /**
   * the ledger's own carrier and console while the faults lasted, against before the first one:
   * ack p99 (intended send to ack) and alert p99 (scam answer sent to the alert at the console)
   */
  during: { ackP99Ms: number; ackP99BeforeMs: number; alertP99Ms: number; alertP99BeforeMs: number } | null;
  /** what the faults measured */
  notes: string[];
  faultErrors: string[];
  violations: string[];
}

interface RunOptions {
  services: Services;
  /** the AOF fsync policy Redis started with (deploy/redis/redis.conf) */
  fsync: 'everysec' | 'always';
  ratePerS: number;
  batchSize: number;
  probesPerS: number;
  drainS: number;
  log: (s: string) => void;
}

function pct(xs: number[], q: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]);
}

export async function runScenario(sc: Scenario, o: RunOptions): Promise<ChaosRow> {
  const log = (s: string): void => o.log(`[${sc.name}] ${s}`);
  if (sc.faults.some((f) => f.ownServices) && !o.services.private) {
    throw new Error(`scenario ${sc.name} kills Redis or PostgreSQL: run it without REDIS_URL/DATABASE_URL`);
  }
  const tag = randomTag(4);
  const prefix = `chaos${tag}`;
  if (o.services.private) await setAppendFsync(o.services.redisUrl, sc.fsync ?? o.fsync);
  // a killed replica's entries are claimed by another one after this idle time
  const env: Record<string, string> = { DETECTOR_CLAIM_IDLE_MS: '5000', ...sc.env, ...envOverride() };
  const stack = new BenchStack({
    redisUrl: o.services.redisUrl,
    databaseUrl: o.services.databaseUrl,
    prefix,
    detectors: sc.detectors ?? 1,
    log,
    env,
  });
  let proxy: FaultProxy | undefined;
  if (sc.proxy) {
    const direct = new URL(sc.proxy === 'redis' ? o.services.redisUrl : o.services.databaseUrl);
    proxy = new FaultProxy(direct.hostname, Number(direct.port));
    const via = new URL(direct);
    via.port = String(await proxy.start(await freePort()));
    if (sc.proxy === 'redis') env.REDIS_URL = via.toString();
    else {
      via.searchParams.set('options', `-c search_path=${stack.schema}`);
      env.DATABASE_URL = via.toString();
    }
  }
  const violations: string[] = [];
  const faultErrors: string[] = [];
  const heap = new Map<string, number>();
  let sampler: NodeJS.Timeout | undefined;
  let consoleLedger: ConsoleLedger | undefined;
  const notes: string[] = [];
  const consoles: FaultContext['consoles'] = [];
  const windows: [number, number][] = [];
  try {
    await stack.start();
    const supervisor = DEMO_USERS.find((u) => u.role === 'supervisor');
    if (!supervisor) throw new Error('no demo supervisor to watch the console with');
    consoleLedger = new ConsoleLedger(stack.consoleUrl, supervisor.username, supervisor.password);
    await consoleLedger.connect();
    const carrier = new ChaosCarrier({
      target: `127.0.0.1:${stack.grpcPort}`,
      apiKey: stack.apiKey,
      ratePerS: o.ratePerS,
      batchSize: o.batchSize,
      durationS: sc.durationS,
      traffic: {
        mode: 'fresh-pairs',
        keyId: 'lt',
        populationSpace: `${tag}Fp`,
        runTag: tag,
        population: 0,
        instantProbesPerS: sc.probesPerS ?? o.probesPerS,
      },
      ...sc.carrier,
    });
    const answeredAt = new Map<string, number>();
    let firstFaultMs: number | null = null;
    let recoveredMs: number | null = null;
    const watcher = consoleLedger;
    watcher.onCreated = (a, at) => {
      if (firstFaultMs === null || recoveredMs !== null || !a.callId) return;
      const sent =
        answeredAt.get(a.callId) ?? carrier.probeSends.find((p) => p.callId === a.callId)?.answeredSendMs;
      if (sent !== undefined && sent > firstFaultMs) recoveredMs = at;
    };
    sampler = setInterval(() => {
      for (const a of stack.apps) {
        heapOf(stack.metricsUrl(a)).then(
          (h) => heap.set(a.name, Math.max(heap.get(a.name) ?? 0, h.heapUsedBytes)),
          () => undefined, // down (a fault): nothing to sample
        );
      }
    }, 2000);
    const progress = setInterval(
      () => log(`${carrier.progress()}; console ${watcher.events} changes, ${watcher.connects} connects`),
      5000,
    );
    const t0 = Date.now();
    const faults = (async () => {
      for (const f of sc.faults) {
        await sleep(Math.max(0, t0 + f.atS * 1000 - Date.now()));
        firstFaultMs ??= nowMs();
        const from = nowMs();
        log(`fault: ${f.name}`);
        try {
          await f.run({ stack, services: o.services, proxy, log, notes, consoles });
          log(`repaired: ${f.name}`);
        } catch (e) {
          faultErrors.push(`${f.name}: ${(e as Error).message.slice(0, 500)}`);
        }
        windows.push([from, nowMs()]);
      }
    })();
    const cr = await carrier.run(o.drainS * 1000);
    await faults;
    clearInterval(progress);
    for (const p of carrier.probeSends) answeredAt.set(p.callId, p.answeredSendMs);
    log(`load stopped (${carrier.progress()}); draining`);
    const redis = new Redis(o.services.redisUrl, { maxRetriesPerRequest: 5 });
    const pool = createPool(o.services.databaseUrl, { schema: stack.schema, max: 2 });
    try {
      await drain(redis, pool, prefix, stack.partitions, [watcher, ...consoles], o.drainS * 1000, log);
      const ledger = await checkLedger({
        redis,
        pool,
        prefix,
        acked: cr.acked,
        unacked: cr.unacked,
        probeCalls: carrier.probeSends.map((p) => p.callId),
        latenessMs: DETECTOR_LATENESS_MS,
        console: watcher,
      });
      violations.push(...ledger.violations, ...faultErrors);
      // a console client a fault slowed down must end with every change too (resumed from lastSeq)
      const { rows } = await pool.query<{ id: string; seq: string }>(
        'SELECT id::text, seq::text FROM alerts',
      );
      for (const c of consoles) {
        const missed = rows.filter((r) => (c.alerts.get(r.id)?.maxSeq ?? 0) < Number(r.seq)).length;
        const dup = [...c.alerts.values()].filter((a) => new Set(a.created).size > 1).length;
        if (missed) violations.push(`${c.name}: ${missed} alerts whose latest change never reached it`);
        if (dup) violations.push(`${c.name}: ${dup} alerts created twice with different seqs`);
      }
      try {
        stack.assertAlive();
      } catch (e) {
        violations.push((e as Error).message.slice(0, 300));
      }
      const { acked: _a, unacked: _u, ackLatencyMs, ackAtMs, ...rest } = cr;
      const peak = [...heap].sort((a, b) => b[1] - a[1])[0];
      const inFault = (t: number): boolean => windows.some(([a, b]) => t >= a && t <= b);
      const beforeFault = (t: number): boolean => firstFaultMs === null || t < firstFaultMs;
      const alertLatency: { sent: number; ms: number }[] = [];
      const seenAt = new Map<string, number>();
      for (const a of watcher.alerts.values()) if (a.callId) seenAt.set(a.callId, a.firstMs);
      for (const p of carrier.probeSends) {
        const at = seenAt.get(p.callId);
        if (at !== undefined) alertLatency.push({ sent: p.answeredSendMs, ms: at - p.answeredSendMs });
      }
      const during = windows.length
        ? {
            ackP99Ms: pct(
              ackLatencyMs.filter((_, i) => inFault(ackAtMs[i])),
              0.99,
            ),
            ackP99BeforeMs: pct(
              ackLatencyMs.filter((_, i) => beforeFault(ackAtMs[i])),
              0.99,
            ),
            alertP99Ms: pct(
              alertLatency.filter((l) => inFault(l.sent)).map((l) => l.ms),
              0.99,
            ),
            alertP99BeforeMs: pct(
              alertLatency.filter((l) => beforeFault(l.sent)).map((l) => l.ms),
              0.99,
            ),
          }
        : null;
      return {
        scenario: sc.name,
        what: sc.what,
        carrier: { ...rest, ackP99Ms: pct(ackLatencyMs, 0.99), ackMaxMs: pct(ackLatencyMs, 1) },
        ledger,
        recoverS: firstFaultMs !== null && recoveredMs !== null ? (recoveredMs - firstFaultMs) / 1000 : null,
        peakHeap: peak ? { app: peak[0], mib: Math.round((peak[1] / 1048576) * 10) / 10 } : null,
        heapByApp: Object.fromEntries([...heap].map(([k, v]) => [k, Math.round((v / 1048576) * 10) / 10])),
        during,
        notes,
        faultErrors,
        violations,
      };
    } finally {
      redis.disconnect();
      await pool.end();
    }
  } finally {
    if (sampler) clearInterval(sampler);
    consoleLedger?.close();
    for (const c of consoles) c.close();
    // CHAOS_KEEP=1: the apps' output beside the services and the run's keys and schema left in place
    const keep = !!process.env.CHAOS_KEEP && violations.length > 0;
    if (keep && o.services.runDir) {
      for (const a of stack.apps)
        writeFileSync(join(o.services.runDir, `${sc.name}-${a.name}.log`), a.child.output());
      log(`kept prefix ${prefix} and schema ${stack.schema}; app output under ${o.services.runDir}`);
    }
    await stack.stop();
    await proxy?.stop();
    if (!keep)
      await cleanup(o.services, stack, prefix).catch((e: Error) => log(`cleanup failed: ${e.message}`));
  }
}

/** Waits until the hand-off is empty, no alert job is pending and the console has every change. */
async function drain(
  redis: Redis,
  pool: ReturnType<typeof createPool>,
  prefix: string,
  partitions: number,
  consoleLedgers: { alerts: ConsoleLedger['alerts'] }[],
  timeoutMs: number,
  log: (s: string) => void,
): Promise<void> {
  const keys = new RedisKeys(prefix);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const p = redis.pipeline();
    for (let i = 0; i < partitions; i++) p.xlen(keys.handoffStream(i));
    const backlog = ((await p.exec()) ?? []).reduce((n, [, v]) => n + Number(v ?? 0), 0);
    const { stuck } = await alertJobs(redis, keys);
    const { rows } = await pool.query<{ id: string; seq: string }>('SELECT id::text, seq::text FROM alerts');
    const behind = rows.filter((r) =>
      consoleLedgers.some((c) => (c.alerts.get(r.id)?.maxSeq ?? 0) < Number(r.seq)),
    ).length;
    if (backlog === 0 && stuck === 0 && behind === 0) return;
    const now = `hand-off ${backlog} entries, ${stuck} alert jobs pending, console ${behind} alerts behind`;
    if (now !== last) log(`draining: ${now}`);
    last = now;
    await sleep(500);
  }
  log(`still not drained after ${timeoutMs / 1000} s: ${last}`);
}

async function cleanup(services: Services, stack: BenchStack, prefix: string): Promise<void> {
  await stack.cleanup();
  const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: 2 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function formatTable(rows: ChaosRow[]): string {
  const head = [
    'scenario',
    'acked',
    'lost',
    'double',
    'unacked',
    'alerts exp/pg/console/dup',
    'missed',
    'stuck',
    'recover s',
    'ack p99 ms',
    'peak heap MiB',
    'result',
  ];
  const body = rows.map((r) => [
    r.scenario,
    String(r.ledger.eventsAcked),
    String(r.ledger.eventsLost),
    String(r.ledger.eventsDoubleCounted),
    String(r.ledger.eventsUnacked),
    `${r.ledger.alertsExpected}/${r.ledger.alertsPersisted}/${r.ledger.alertsDelivered}/${r.ledger.alertsDuplicated}`,
    String(r.ledger.changesMissed),
    String(r.ledger.alertJobsStuck),
    r.recoverS === null ? '-' : r.recoverS.toFixed(1),
    String(r.carrier.ackP99Ms),
    r.peakHeap ? `${r.peakHeap.mib} (${r.peakHeap.app})` : '-',
    r.violations.length ? 'BROKEN' : 'ok',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  for (const r of rows) {
    for (const v of r.violations) out.push(`${r.scenario}: ${v}`);
    const c = r.carrier;
    out.push(
      `${r.scenario}: ${r.what}; ${c.reconnects} reconnects, ${c.resends} batches resent, ${c.duplicates} duplicates acked, ` +
        `${r.ledger.changesRedelivered} changes redelivered around reconnects, ${r.ledger.eventsLate} events late beyond lateness, ${r.ledger.alertsCreatedAsUpdate} new alerts first seen as alert.updated, ack max ${c.ackMaxMs} ms` +
        (Object.keys(c.rejected).length ? `, rejected ${JSON.stringify(c.rejected)}` : ''),
    );
    const d = r.during;
    if (d && (r.notes.length || r.scenario.startsWith('slow')))
      out.push(
        `${r.scenario}: during the fault ack p99 ${d.ackP99Ms} ms (before ${d.ackP99BeforeMs}), alert to console p99 ${d.alertP99Ms} ms (before ${d.alertP99BeforeMs}); ` +
          `peak heap MiB ${Object.entries(r.heapByApp)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
      );
    for (const n of r.notes) out.push(`${r.scenario}: ${n}`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const a = new Args(process.argv.slice(2), ['help']);
  if (a.flag('help')) {
    process.stdout.write(
      `npm run chaos -- --scenario <name>|all [--rate 400] [--batch 50] [--probes-per-s 2] [--drain-s 90]\n` +
        `  [--redis-port 6417] [--pg-port 5467] [--run-dir .run/chaos]\n` +
        `scenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(16)} ${s.what}`).join('\n')}\n` +
        `  fsync-cost       ingest and detector throughput under appendfsync everysec, always, everysec [--fsync-cost-events 50000]\n` +
        `With REDIS_URL and DATABASE_URL set it runs on those (no Redis or PostgreSQL faults).\n`,
    );
    return;
  }
  const which = a.str('scenario') ?? 'all';
  const names = which.split(',');
  const fsyncCost = which === 'all' || names.includes('fsync-cost');
  const chosen =
    which === 'all'
      ? SCENARIOS.filter((s) => s.name !== 'smoke')
      : SCENARIOS.filter((s) => names.includes(s.name));
  if (!chosen.length && !fsyncCost) throw new Error(`unknown scenario ${which}; --help lists them`);
  const log = (s: string): void => void process.stderr.write(`[chaos] ${s}\n`);
  const opts = {
    ratePerS: a.num('rate', 400, 1),
    batchSize: a.num('batch', 50, 1, 5000),
    probesPerS: a.num('probes-per-s', 2, 0),
    drainS: a.num('drain-s', 90, 5),
  };
  const fsyncEvents = a.num('fsync-cost-events', 50_000, 1000);
  const services = await ensureServices({
    redisUrl: process.env.REDIS_URL,
    databaseUrl: process.env.DATABASE_URL,
    redisPort: a.num('redis-port', 6417, 1, 65535),
    pgPort: a.num('pg-port', 5467, 1, 65535),
    runDir: a.str('run-dir', '.run/chaos'),
    log,
  });
  a.assertAllUsed();
  const fsync = await getAppendFsync(services.redisUrl);
  const rows: ChaosRow[] = [];
  let cost = '';
  try {
    for (const sc of chosen) {
      log(`scenario ${sc.name}: ${sc.what}`);
      rows.push(await runScenario(sc, { ...opts, services, fsync, log }));
    }
    if (fsyncCost) cost = formatFsyncCost(await measureFsyncCost(services, fsyncEvents, fsync, log));
  } finally {
    if (services.private) await setAppendFsync(services.redisUrl, fsync).catch(() => undefined);
    await services.stop();
  }
  if (rows.length) process.stdout.write(`${formatTable(rows)}\n`);
  if (cost) process.stdout.write(`\n${cost}\n`);
  if (process.env.CHAOS_JSON) process.stdout.write(`CHAOS_JSON ${JSON.stringify(rows)}\n`);
  process.exit(rows.some((r) => r.violations.length) ? 1 : 0);
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`[chaos] ${e.stack ?? e.message}\n`);
    process.exit(2);
  });
}
