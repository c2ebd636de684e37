import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { REPO_ROOT } from '../processes';
import type { BenchStack, Services } from '../stack';
import { DEMO_CARRIERS, DEMO_USERS, apiKeyFor } from '@eagle-eye/db';
import { HANDOFF_GROUP } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { scrape, sum } from '../observe';
import type { AlertSeen } from './console-ledger';
import type { FaultProxy } from './fault-proxy';
import { RawConsoleClient } from './slow-console';
import { SlowCarrier } from './slow-carrier';

const run = promisify(execFile);

/** What a fault may touch: the stack's apps, and Redis/PostgreSQL when this run owns them. */
export interface FaultContext {
  stack: BenchStack;
  services: Services;
  /** the proxy between the apps and Redis or PostgreSQL, when the scenario has one */
  proxy?: FaultProxy;
  log: (s: string) => void;
  /** figures a fault measured, printed under the table */
  notes: string[];
  /** extra console clients a fault connected: the ledger checks they miss no change either */
  consoles: { name: string; alerts: Map<string, AlertSeen>; close(): void }[];
}

export interface Fault {
  /** seconds after the load starts */
  atS: number;
  name: string;
  /** injects the fault and repairs it (restart); resolves once the repair is done */
  run(ctx: FaultContext): Promise<void>;
  /** needs Redis and PostgreSQL of this run's own (it kills or stops them) */
  ownServices?: boolean;
}

/** kill -9 of one app, then the same app started again on its ports. */
export function killApp(app: string, atS: number, downS = 1): Fault {
  return {
    atS,
    name: `kill -9 ${app}`,
    async run({ stack, log }) {
      await stack.kill(app);
      log(`${app} SIGKILLed`);
      await sleep(downS * 1000);
      await stack.restart(app);
    },
  };
}

function proxyOf(ctx: FaultContext): FaultProxy {
  if (!ctx.proxy) throw new Error('this fault needs the scenario to route the apps through a proxy');
  return ctx.proxy;
}

/** Every byte between the apps and the proxied server delayed by `ms` for `forS`. */
export function latency(atS: number, ms: number, forS: number): Fault {
  return {
    atS,
    name: `${ms} ms latency for ${forS} s`,
    async run(ctx) {
      proxyOf(ctx).setLatency(ms);
      await sleep(forS * 1000);
      proxyOf(ctx).setLatency(0);
    },
  };
}

/** Nothing passes for `forS` (connections stay open), then everything held is delivered. */
export function stall(atS: number, forS: number): Fault {
  return {
    atS,
    name: `${forS} s stall`,
    async run(ctx) {
      proxyOf(ctx).stall(forS * 1000);
      await sleep(forS * 1000);
    },
  };
}

/** Every open connection reset, `times` times, `everyS` apart. */
export function resets(atS: number, times: number, everyS: number): Fault {
  return {
    atS,
    name: `connection resets x${times}`,
    async run(ctx) {
      for (let i = 0; i < times; i++) {
        if (i) await sleep(everyS * 1000);
        proxyOf(ctx).resetAll();
      }
    },
  };
}

function ownServices(s: Services): { runDir: string; env: NodeJS.ProcessEnv } {
  if (!s.private || !s.runDir || !s.env) {
    throw new Error(
      'this fault kills Redis or PostgreSQL: run it on services of its own (without REDIS_URL/DATABASE_URL)',
    );
  }
  return { runDir: s.runDir, env: s.env };
}

async function servicesUp(s: Services): Promise<void> {
  const { env } = ownServices(s);
  await run('bash', ['scripts/services.sh', 'up'], { cwd: REPO_ROOT, env, timeout: 180000 });
}

/** Redis's AOF fsync policy now (`no` reads as everysec: the suite compares the other two). */
export async function getAppendFsync(redisUrl: string): Promise<'everysec' | 'always'> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    const [, v] = (await r.config('GET', 'appendfsync')) as [string, string];
    return v === 'always' ? 'always' : 'everysec';
  } finally {
    r.disconnect();
  }
}

/** Sets Redis's AOF fsync policy (a restart reads deploy/redis/redis.conf). */
export async function setAppendFsync(redisUrl: string, policy: 'everysec' | 'always'): Promise<void> {
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    await r.config('SET', 'appendfsync', policy);
  } finally {
    r.disconnect();
  }
}

/** kill -9 of the redis-server this run started; resolves once it is gone. */
async function sigkillRedis(services: Services, log: (s: string) => void): Promise<void> {
  const { runDir } = ownServices(services);
  const pid = Number(readFileSync(join(REPO_ROOT, runDir, 'redis', 'redis.pid'), 'utf8').trim());
  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(20);
  log(`redis-server ${pid} SIGKILLed`);
}

/** kill -9 of redis-server (the one this run started), restarted from its AOF after `downS`. */
export function killRedis(atS: number, fsync: 'everysec' | 'always', downS = 2): Fault {
  return {
    atS,
    name: `kill -9 redis-server (appendfsync ${fsync})`,
    ownServices: true,
    async run({ services, log }) {
      await sigkillRedis(services, log);
      await sleep(downS * 1000);
      await servicesUp(services);
      await setAppendFsync(services.redisUrl, fsync);
    },
  };
}

/**
 * kill -9 of redis-server at a moment the alert worker is blocked in BullMQ's blocking command
 * (BZPOPMIN on the marker key: it waits there whenever the queue is empty), restarted after
 * `downS`: longer than the worker's block timeout (drainDelay 5 s + 1 s), the case of BullMQ's
 * known reconnect bugs (taskforcesh/bullmq#4585: the blocking client parked in "reconnecting" for
 * good after an outage longer than drainDelay; #2466, #2964: workers that never resume after a
 * Redis restart).
 */
export function killRedisWhileBlocked(atS: number, downS: number): Fault {
  return {
    atS,
    name: `kill -9 redis-server while the alert worker is blocked, ${downS} s down`,
    ownServices: true,
    async run({ services, log, notes }) {
      const r = new Redis(services.redisUrl, { maxRetriesPerRequest: 2 });
      let blocked: string[] = [];
      try {
        const deadline = Date.now() + 20000;
        while (Date.now() < deadline) {
          const list = String(await r.call('CLIENT', 'LIST'));
          blocked = list
            .split('\n')
            .filter((l) => /\bflags=\S*b/.test(l) && /\bcmd=(bzpopmin|bzpopmax|brpoplpush|blmove)\b/.test(l))
            .map((l) => /\bcmd=(\S+)/.exec(l)?.[1] ?? '?');
          if (blocked.length) break;
          await sleep(50);
        }
      } finally {
        r.disconnect();
      }
      if (!blocked.length) throw new Error('no client blocked in a BullMQ blocking command within 20 s');
      await sigkillRedis(services, log);
      notes.push(
        `Redis SIGKILLed with ${blocked.length} client(s) blocked in ${[...new Set(blocked)].join(', ')}`,
      );
      await sleep(downS * 1000);
      await servicesUp(services);
    },
  };
}

/** Memory of an app from its /metrics: V8 heap used, external (Buffers) and resident set, bytes. */
export interface Mem {
  heap: number;
  external: number;
  rss: number;
}

export async function memOf(metricsUrl: string): Promise<Mem> {
  const s = await scrape(metricsUrl);
  return {
    heap: sum(s, 'nodejs_heap_size_used_bytes'),
    external: sum(s, 'nodejs_external_memory_bytes'),
    rss: sum(s, 'process_resident_memory_bytes'),
  };
}

function maxMem(a: Mem, b: Mem): Mem {
  return {
    heap: Math.max(a.heap, b.heap),
    external: Math.max(a.external, b.external),
    rss: Math.max(a.rss, b.rss),
  };
}

export function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

function memText(m: Mem): string {
  return `heap ${mib(m.heap)}, external ${mib(m.external)}, rss ${mib(m.rss)} MiB`;
}

/**
 * `n` console sockets (a supervisor's, all alerts in scope) that stop reading for `pauseS` while
 * alerts flow, then read again. Measures the console's memory every second and when the server
 * dropped them (its connected-clients gauge); after they read again each must be connected (a
 * dropped one reconnects with its lastSeq) and, at the end, hold every alert's latest change.
 */
export function slowConsoles(atS: number, n: number, pauseS: number): Fault {
  return {
    atS,
    name: `${n} console sockets stop reading for ${pauseS} s`,
    async run({ stack, notes, consoles }) {
      const sup = DEMO_USERS.find((u) => u.role === 'supervisor');
      if (!sup) throw new Error('no demo supervisor');
      const metrics = stack.metricsUrl(stack.app('console'));
      const clients = Array.from(
        { length: n },
        () => new RawConsoleClient(stack.consoleUrl, sup.username, sup.password),
      );
      clients.forEach((c, i) =>
        consoles.push({ name: `slow console ${i + 1}`, alerts: c.alerts, close: () => c.close() }),
      );
      await Promise.all(clients.map((c) => c.connect()));
      const connected = async (): Promise<number> =>
        sum(await scrape(metrics), 'eagleeye_console_connected_clients');
      const before = await memOf(metrics);
      const withSlow = await connected();
      const readBefore = clients.reduce((t, c) => t + c.bytesRead, 0);
      for (const c of clients) c.pause();
      const t0 = Date.now();
      let peak = before;
      let droppedAtS: number | null = null;
      const series: string[] = [];
      while (Date.now() - t0 < pauseS * 1000) {
        await sleep(1000);
        const m = await memOf(metrics).catch(() => null);
        if (m) {
          peak = maxMem(peak, m);
          if (series.length < Math.floor((Date.now() - t0) / 10000) + 1) series.push(mib(m.heap));
        }
        if (droppedAtS === null && (await connected().catch(() => withSlow)) <= withSlow - n)
          droppedAtS = (Date.now() - t0) / 1000;
      }
      for (const c of clients) c.resume();
      await sleep(1000);
      const deadline = Date.now() + 30000;
      while (Date.now() < deadline && clients.some((c) => !c.connected)) await sleep(200);
      const closes = clients.reduce((t, c) => t + c.closes.length, 0);
      notes.push(
        `${n} slow console sockets paused ${pauseS} s: console before ${memText(before)}, peak ${memText(peak)} ` +
          `(heap every 10 s: ${series.join(', ')}); ` +
          (droppedAtS === null
            ? 'the server never dropped them'
            : `the server dropped them ${droppedAtS.toFixed(1)} s after they stopped reading`) +
          `; on reading again they found ${closes} closed connections and ${clients.reduce((t, c) => t + c.connects, 0) - n} reconnected with lastSeq; ` +
          `${mib(clients.reduce((t, c) => t + c.bytesRead, 0) - readBefore)} MiB read after the pause`,
      );
      if (clients.some((c) => !c.connected))
        throw new Error('a slow console socket was not connected 30 s after it read again');
    },
  };
}

/**
 * A second carrier (the demo's carrier-b) that sends `batchesPerS` batches of `copies` events
 * and never reads its acks, for `forS`. Measures ingest's memory every second and how the stream
 * was held back; the ledger's carrier (carrier-a) keeps going beside it.
 */
export function slowCarrier(atS: number, forS: number, batchesPerS: number, copies: number): Fault {
  return {
    atS,
    name: `a carrier stops reading acks for ${forS} s (${batchesPerS} batches/s of ${copies} events)`,
    async run({ stack, notes }) {
      const c = DEMO_CARRIERS[1];
      const metrics = stack.metricsUrl(stack.app('ingest'));
      const before = await memOf(metrics);
      const sc = new SlowCarrier(
        `127.0.0.1:${stack.grpcPort}`,
        apiKeyFor(c.keyId, c.secret),
        batchesPerS,
        copies,
      );
      sc.start();
      const t0 = Date.now();
      let peak = before;
      const series: string[] = [];
      while (Date.now() - t0 < forS * 1000) {
        await sleep(1000);
        const m = await memOf(metrics).catch(() => null);
        if (m) {
          peak = maxMem(peak, m);
          if (series.length < Math.floor((Date.now() - t0) / 10000) + 1) series.push(mib(m.heap));
        }
      }
      // what ingest took in from it: every event it validated, accepted or refused, is counted
      const read = sum(await scrape(metrics), 'eagleeye_ingest_events_total', { carrier: c.id }) / copies;
      const r = sc.stop();
      await sleep(3000);
      const after = await memOf(metrics);
      notes.push(
        `slow carrier: ${r.sent} batches of ${copies} sent, ${Math.round(read)} read by ingest, ${r.blocked} ticks held back by flow control, ` +
          `${r.acksRead} acks taken in by grpc-js${r.error ? `, ended ${r.error}` : ''}; ingest before ${memText(before)}, ` +
          `peak ${memText(peak)}, 3 s after it left ${memText(after)} (heap every 10 s: ${series.join(', ')})`,
      );
    },
  };
}

/**
 * kill -9 of a detector replica while it holds pending entries (mid-round): the first of
 * `replicas` ([app, consumer name]) seen holding some. Each replica reads only the hand-off
 * partitions it leases, and the scenario's callers may all fall in one replica's share, so the
 * victim is whichever is busy. The others keep running and must take its partitions over once
 * their leases run out (DETECTOR_PARTITION_LEASE_MS), then its entries (claimStale: XPENDING IDLE
 * + XCLAIM after DETECTOR_CLAIM_IDLE_MS). The dead one is restarted only after its pending list is
 * empty, so a survivor did the work; throws if that takes longer than `claimTimeoutS`.
 */
export function killReplica(replicas: [string, string][], atS: number, claimTimeoutS = 60): Fault {
  return {
    atS,
    name: `kill -9 of a busy detector replica (${replicas.map(([app]) => app).join(' or ')}; the others keep running)`,
    async run({ stack, services, log, notes }) {
      const r = new Redis(services.redisUrl, { maxRetriesPerRequest: 5 });
      const keys = new RedisKeys(stack.o.prefix);
      const pendingBy = async (): Promise<Map<string, number>> => {
        const p = r.pipeline();
        for (let i = 0; i < stack.partitions; i++) p.xpending(keys.handoffStream(i), HANDOFF_GROUP);
        const n = new Map<string, number>();
        for (const [err, reply] of (await p.exec()) ?? []) {
          if (err) throw err;
          const byConsumer = ((reply as unknown[])[3] ?? []) as [string, string][];
          for (const [name, count] of byConsumer) n.set(name, (n.get(name) ?? 0) + Number(count));
        }
        return n;
      };
      let victim: [string, string] | undefined;
      try {
        const deadline = Date.now() + 15000;
        while (!victim && Date.now() < deadline) {
          const pending = await pendingBy();
          const busy = replicas.find(([, consumer]) => (pending.get(consumer) ?? 0) > 0);
          if (busy) {
            // a round takes milliseconds at this rate: frozen, the replica cannot acknowledge it
            // between this check and the kill; still holding entries once frozen, it is killed
            stack.freeze(busy[0], true);
            if (((await pendingBy()).get(busy[1]) ?? 0) > 0) victim = busy;
            else stack.freeze(busy[0], false);
          }
          if (!victim) await sleep(5);
        }
        if (!victim) throw new Error(`no detector replica held a pending entry within 15 s (none mid-round)`);
        const [app, consumer] = victim;
        await stack.kill(app);
        const held = (await pendingBy()).get(consumer) ?? 0;
        log(`${app} SIGKILLed holding ${held} pending entries`);
        const t0 = Date.now();
        let left = held;
        while (left > 0 && Date.now() - t0 < claimTimeoutS * 1000) {
          await sleep(250);
          left = (await pendingBy()).get(consumer) ?? 0;
        }
        notes.push(
          `${app} (consumer ${consumer}) SIGKILLed holding ${held} pending hand-off entries; ` +
            (left === 0
              ? `the surviving replica had claimed them all ${((Date.now() - t0) / 1000).toFixed(1)} s later`
              : `${left} still pending after ${claimTimeoutS} s`),
        );
        if (held === 0) throw new Error(`${app} held no pending entry when killed (not mid-round)`);
        if (left > 0) throw new Error(`the surviving replica did not claim ${left} entries of ${consumer}`);
      } finally {
        r.disconnect();
        if (victim) await stack.restart(victim[0]);
      }
    },
  };
}

/** PostgreSQL `pg_ctl stop -m immediate` (no checkpoint: crash recovery at start), restarted after `downS`. */
export function pgImmediate(atS: number, downS = 3): Fault {
  return {
    atS,
    name: 'PostgreSQL immediate shutdown',
    ownServices: true,
    async run({ services, log }) {
      const { runDir, env } = ownServices(services);
      const { stdout } = await run('bash', ['-c', 'source scripts/lib.sh && ee_pg_bindir'], {
        cwd: REPO_ROOT,
        env,
      });
      const data = join(REPO_ROOT, runDir, 'pg', 'data');
      const asPg = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
      const cmd = [...asPg, join(stdout.trim(), 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
      await run(cmd[0], cmd.slice(1), { cwd: '/', timeout: 60000 });
      log('PostgreSQL stopped (immediate)');
      await sleep(downS * 1000);
      await servicesUp(services);
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
