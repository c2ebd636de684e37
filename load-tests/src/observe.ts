import Redis from 'ioredis';
import { HANDOFF_GROUP, handoffEntryEventCount } from '@eagle-eye/contracts';
import { RedisClient, RedisKeys } from '@eagle-eye/redis';
import { assertLoopbackUrl } from './loopback';

/** Redis stalls over a span (RedisObserver.stalls). */
export interface RedisStalls {
  /** AOF rewrites started in the span (each forks and holds commands up while it starts) */
  aofRewrites: number;
  aofRewritesTotal: number;
  /** a rewrite running as the span was read (at its start: one begun before it, finishing in it) */
  aofRewriteInProgress: boolean;
  /** set on a level: a rewrite was running as the level started */
  aofRewriteAtStart?: boolean;
  /** latency-monitor events: seconds with a stall at or above the threshold, and the longest (ms) */
  events: Record<string, { seconds: number; maxMs: number }>;
}

/** Redis's latency monitor threshold in the benchmark's own Redis, ms. */
export const STALL_THRESHOLD_MS = 10;

/** `redis stalls >= 10 ms: aof-fsync-always 12 s (max 51 ms), command 2 s (max 30 ms); AOF rewrites 1` */
export function stallsLine(st: RedisStalls): string {
  const events = Object.entries(st.events)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, e]) => `${name} ${e.seconds} s (max ${e.maxMs} ms)`);
  return (
    `redis stalls >= ${STALL_THRESHOLD_MS} ms: ${events.join(', ') || 'none'}; ` +
    `AOF rewrites ${st.aofRewrites}` +
    (st.aofRewriteAtStart ? ' (and one running as the level started)' : '')
  );
}

/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) for (const l of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export async function scrape(url: string): Promise<PromSample[]> {
  assertLoopbackUrl(url);
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return parseProm(await res.text());
}

export function sum(samples: PromSample[], name: string, filter: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

export interface HeapSample {
  heapUsedBytes: number;
  heapTotalBytes: number;
  rssBytes: number;
  /** full (mark-compact) collections so far */
  majorGcs: number;
  /** the live set after the last full collection (eagleeye_heap_live_bytes; 0: none yet) */
  liveBytes: number;
}

/** Node heap and RSS of an app, from its /metrics (prom-client default metrics, unprefixed). */
export async function heapOf(metricsUrl: string): Promise<HeapSample> {
  const s = await scrape(metricsUrl);
  return {
    heapUsedBytes: sum(s, 'nodejs_heap_size_used_bytes'),
    heapTotalBytes: sum(s, 'nodejs_heap_size_total_bytes'),
    rssBytes: sum(s, 'process_resident_memory_bytes'),
    majorGcs: sum(s, 'nodejs_gc_duration_seconds_count', { kind: 'major' }),
    liveBytes: sum(s, 'eagleeye_heap_live_bytes'),
  };
}

/** CPU seconds an app has used so far (prom-client default metric). */
export async function cpuSecondsOf(metricsUrl: string): Promise<number> {
  return sum(await scrape(metricsUrl), 'process_cpu_seconds_total');
}

/** Events the detector replicas have taken off the hand-off (applied, duplicate, late, malformed). */
export async function detectorEvents(metricsUrls: string[]): Promise<number> {
  return detectorCounter(metricsUrls, 'eagleeye_detector_events_total');
}

/**
 * Events ingest accepted that the detectors have not yet taken through both stages, from the scraped
 * metrics of every ingest and every detector replica: ingest's
 * accepted events less the detectors' processed ones (any result). Unlike the hand-off's unread
 * entries it also counts what a detector has read into rounds still in flight, which the unread
 * entries miss (a detector behind its traffic holds a round or two of them: up to about 50,000
 * events a round before rounds were bounded by DETECTOR_ROUND_EVENTS).
 */
export function unappliedOf(ingest: PromSample[][], detectors: PromSample[][]): number {
  let n = 0;
  for (const m of ingest) n += sum(m, 'eagleeye_ingest_events_total', { result: 'accepted' });
  for (const m of detectors) n -= sum(m, 'eagleeye_detector_events_total');
  return Math.max(0, n);
}

/** A detector counter summed over its labels and every replica. */
export async function detectorCounter(metricsUrls: string[], name: string): Promise<number> {
  let n = 0;
  for (const u of metricsUrls) n += sum(await scrape(u), name);
  return n;
}

/**
 * How many of the detector replicas read hand-off partitions (eagleeye_detector_partitions_owned >
 * 0): a replica that just started owns none until the others hand its share over.
 */
export async function detectorsOwning(metricsUrls: string[]): Promise<number> {
  let n = 0;
  for (const u of metricsUrls) if (sum(await scrape(u), 'eagleeye_detector_partitions_owned') > 0) n++;
  return n;
}

/** Redis-side view of the stack: hand-off backlog and memory. */
export class RedisObserver {
  readonly redis: Redis;
  private readonly keys: RedisKeys;

  constructor(
    url: string,
    prefix: string,
    private readonly partitions: number,
  ) {
    assertLoopbackUrl(url);
    this.redis = new Redis(url, { maxRetriesPerRequest: 2 });
    this.keys = new RedisKeys(prefix);
  }

  /**
   * Hand-off entries in the streams: not yet read, or read and not yet acknowledged (the detector
   * deletes an entry once what its round changed is written, up to DETECTOR_WINDOWS_WRITE_DELAY_MS
   * after it was applied). Zero when everything is applied and written: a quiet stack.
   */
  async backlogEntries(): Promise<number> {
    const p = this.redis.pipeline();
    for (let i = 0; i < this.partitions; i++) p.xlen(this.keys.handoffStream(i));
    const res = (await p.exec()) ?? [];
    return res.reduce((n, [err, v]) => n + (err ? 0 : Number(v)), 0);
  }

  /** Events in entries the detectors have not read yet (see unreadHandoff): how far behind they are. */
  async backlogEvents(limitEntries = 20000): Promise<number> {
    return (await unreadHandoff(this.redis, this.keys, this.partitions, limitEntries)).events;
  }

  /**
   * Redis's own CPU seconds (user + system) and every command's calls and µs so far (INFO
   * commandstats; Redis 7 counts the commands a script runs as well as the EVALSHA around them):
   * diffed around a step.
   */
  async cpuAndCommands(): Promise<{ cpuS: number; commands: Record<string, CommandStat> }> {
    const cpu = await this.redis.info('cpu');
    const stats = await this.redis.info('commandstats');
    const f = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
    const commands: Record<string, CommandStat> = {};
    for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
      commands[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
    return { cpuS: f('used_cpu_user') + f('used_cpu_sys'), commands };
  }

  /**
   * Where Redis held every client up during a span (the benchmark's own Redis, with the latency
   * monitor on: see startStallWatch): AOF rewrites started, and per latency-monitor event
   * (`aof-fsync-always`, `command`, `fork`, ...) the seconds with a stall at or above the threshold
   * and the longest. Redis counts a rewrite when it starts. Reading clears the monitor, so
   * consecutive spans do not overlap.
   */
  async stalls(rewritesBefore = 0): Promise<RedisStalls> {
    const info = await this.redis.info('persistence');
    const rewrites = Number(/aof_rewrites:(\d+)/.exec(info)?.[1] ?? 0);
    const aofRewriteInProgress = /aof_rewrite_in_progress:1/.test(info);
    const events: Record<string, { seconds: number; maxMs: number }> = {};
    const latest = (await this.redis.call('LATENCY', 'LATEST')) as [string, number, number, number][];
    for (const [name] of latest) {
      const history = (await this.redis.call('LATENCY', 'HISTORY', name)) as [number, number][];
      events[name] = { seconds: history.length, maxMs: Math.max(0, ...history.map(([, ms]) => Number(ms))) };
    }
    await this.redis.call('LATENCY', 'RESET');
    return {
      aofRewrites: rewrites - rewritesBefore,
      aofRewritesTotal: rewrites,
      aofRewriteInProgress,
      events,
    };
  }

  /**
   * The benchmark's own Redis only: an empty append-only file to start from (a rewrite of the
   * flushed data set, waited for), so the rewrites a run meets are its own and not what earlier
   * runs left in the file, and the latency monitor on at `thresholdMs`.
   */
  async startStallWatch(thresholdMs: number, timeoutMs = 60_000): Promise<void> {
    await this.redis.config('SET', 'latency-monitor-threshold', String(thresholdMs));
    const deadline = Date.now() + timeoutMs;
    const rewriteEnded = async (): Promise<void> => {
      while (/aof_rewrite_in_progress:1/.test(await this.redis.info('persistence'))) {
        if (Date.now() > deadline) throw new Error(`an append-only rewrite ran past ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    // a rewrite Redis started itself must end before another can be asked for
    await rewriteEnded();
    await this.redis.bgrewriteaof();
    await rewriteEnded();
    await this.redis.call('LATENCY', 'RESET');
  }

  async usedMemory(): Promise<number> {
    const info = await this.redis.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  }

  async dbsize(): Promise<number> {
    return this.redis.dbsize();
  }

  /** Waits until the hand-off backlog is empty; resolves false on timeout. */
  async waitDrained(timeoutMs: number, onTick?: (entries: number) => void): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let last = Date.now();
    while (Date.now() < deadline) {
      const n = await this.backlogEntries();
      if (n === 0) return true;
      if (onTick && Date.now() - last > 10000) {
        last = Date.now();
        onTick(n);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** One command's count and Redis's time in it (INFO commandstats). */
export interface CommandStat {
  calls: number;
  usec: number;
}

/**
 * The commands Redis spent most time in between two snapshots, per event: µs and calls, the
 * costliest first, at most `top` of them (EVALSHA includes the commands its scripts ran, which
 * are listed as well).
 */
export function commandsPerEvent(
  before: Record<string, CommandStat>,
  after: Record<string, CommandStat>,
  events: number,
  top = 10,
): CommandPerEvent[] {
  const per = Math.max(1, events);
  return Object.entries(after)
    .map(([command, a]) => {
      const b = before[command] ?? { calls: 0, usec: 0 };
      return { command, us: (a.usec - b.usec) / per, calls: (a.calls - b.calls) / per };
    })
    .filter((c) => c.calls > 0)
    .sort((x, y) => y.us - x.us)
    .slice(0, top)
    .map((c) => ({
      command: c.command,
      usPerEvent: Math.round(c.us * 100) / 100,
      callsPerEvent: Math.round(c.calls * 1000) / 1000,
    }));
}

export interface CommandPerEvent {
  command: string;
  usPerEvent: number;
  callsPerEvent: number;
}

/**
 * The hand-off entries after the detectors' consumer group's last-delivered id (not read yet), and
 * their events (counted exactly up to `limitEntries` entries). Entries read but not yet acknowledged
 * are not in it: the detector holds them applied until what they changed is written
 * (DETECTOR_WINDOWS_WRITE_DELAY_MS), so the stream's length is no measure of how far behind it is.
 */
export async function unreadHandoff(
  redis: RedisClient,
  keys: RedisKeys,
  partitions: number,
  limitEntries = 20000,
): Promise<{ entries: number; events: number }> {
  let entries = 0;
  let events = 0;
  for (let i = 0; i < partitions && entries < limitEntries; i++) {
    const key = keys.handoffStream(i);
    let from = '-';
    try {
      const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
      for (const g of groups) {
        const f = new Map<string, unknown>();
        for (let k = 0; k + 1 < g.length; k += 2) f.set(String(g[k]), g[k + 1]);
        if (f.get('name') === HANDOFF_GROUP) from = `(${String(f.get('last-delivered-id'))}`;
      }
    } catch {
      // no stream yet (no group either): everything in it is unread
    }
    const rows = await redis.xrange(key, from, '+', 'COUNT', limitEntries - entries);
    for (const [, fields] of rows) {
      entries++;
      events += handoffEntryEventCount(fields);
    }
  }
  return { entries, events };
}
