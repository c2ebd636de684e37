import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { RedisKeys } from '@eagle-eye/redis';
import { num, RULE_CATALOG, defaultRule } from '@eagle-eye/rules';
import { loadConfig } from '@eagle-eye/config';
import { DetectorConfigSchema } from '../../apps/detector/src/config';
import { callFp, numberFp } from '../../apps/detector/src/detection/fingerprint';
import { CallerBatch, CallerEventArgs } from '../../apps/detector/src/lua/caller-args';
import { loadScripts, LuaScript } from '../../apps/detector/src/lua/detector-scripts';
import { assertLoopbackUrl } from './loopback';
import { nowMs } from './open-loop';
import { benchToken, randomTag } from './traffic';

/**
 * `redis-benchmark`-style throughput of the detector's main Lua script (caller-batch: every event
 * goes through it, a round's events of one key group in one call), loaded from the detector's own
 * script file and called with the batches the detector builds (same key groups, batch builder,
 * fingerprints, configuration defaults and rule parameters). Several connections keep pipelines
 * in flight, each pipeline one round of `roundEvents` events; the server-side cost per event comes
 * from Redis's own INFO commandstats, so client overhead does not inflate it.
 */

/** The detector's caller-batch script. */
export function mainScript(): LuaScript {
  const s = loadScripts().get('caller-batch');
  if (!s) throw new Error('the detector has no caller-batch-<n>.lua script');
  return s;
}

/**
 * Every per-number key the detector may write for `token`: windows, the day's and the previous
 * day's HyperLogLog, familiarity, lists and callee state.
 */
export function numberKeys(keys: RedisKeys, token: string, day: number): string[] {
  return [
    keys.numWindows(token),
    // the detector's windows string (DETECTOR_CALLER_WINDOWS=node)
    keys.numState(token),
    keys.numDistinct(token, day),
    keys.numDistinct(token, day - 1),
    keys.numFamiliar(token),
    keys.numLists(token),
    keys.numCallee(token),
  ];
}

export interface LuaBenchOptions {
  redisUrl: string;
  /** key prefix of the benchmark's numbers (never the stack's) */
  prefix: string;
  /** numbers the calls are spread over */
  pool: number;
  /** events per number written before measuring, spread evenly over historySpanMs */
  historyEvents: number;
  historySpanMs: number;
  durationS: number;
  connections?: number;
  /** events per pipeline (one detector round), spread over the key groups' calls */
  roundEvents?: number;
  carrierId?: string;
}

export interface LuaBenchResult {
  script: string;
  pool: number;
  historyEvents: number;
  historySpanS: number;
  /** events applied per second during the measurement (all connections) */
  eventsPerS: number;
  /** Redis's own time per event (INFO commandstats usec of EVALSHA over the events applied) */
  serverUsPerEvent: number;
  /** Redis's own time per EVALSHA call */
  serverUsPerCall: number;
  /** events per script call (a round's events of one key group) */
  eventsPerCall: number;
  events: number;
  /** keys in the database when measured */
  dbKeys: number;
  statuses: Record<string, number>;
}

interface Defaults {
  latenessMs: number;
  windowTtlS: number;
  historyTtlS: number;
  familiarTtlS: number;
  shortCallS: number;
  minTalkS: number;
}

/** The values the detector passes when nothing is configured (its config defaults, catalog rules). */
export function detectorDefaults(): Defaults {
  const c = loadConfig(DetectorConfigSchema, {});
  return {
    latenessMs: c.DETECTOR_LATENESS_MS,
    windowTtlS: c.DETECTOR_WINDOW_TTL_S,
    historyTtlS: c.DETECTOR_HISTORY_TTL_S,
    familiarTtlS: c.DETECTOR_FAMILIAR_TTL_S,
    shortCallS: num(defaultRule('alert_policy'), 'shortCallS'),
    minTalkS: num(defaultRule('familiar'), 'minTalkS') ?? RULE_CATALOG.familiar.params.minTalkS,
  };
}

const TYPES = ['A', 'N', 'E'] as const;

/** One caller-batch event `type` of call `call` by number `caller`, as the detector builds it. */
function eventArgs(
  d: Defaults,
  carrierId: string,
  caller: string,
  callee: string,
  call: string,
  type: (typeof TYPES)[number],
  t: number,
  talk: number,
): CallerEventArgs {
  return {
    op: 'a',
    token: caller,
    t,
    type,
    callFp: callFp(carrierId, call),
    counterpartFp: numberFp(callee),
    talkS: type === 'E' ? talk : 0,
    shortCallS: d.shortCallS,
    carrierId,
    region: '510100',
    minTalkS: d.minTalkS,
  };
}

function commandStats(info: string, cmd: string): { calls: number; usec: number } {
  const m = new RegExp(`cmdstat_${cmd}:calls=(\\d+),usec=(\\d+)`).exec(info);
  return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
}

export async function runLuaBench(o: LuaBenchOptions): Promise<LuaBenchResult> {
  assertLoopbackUrl(o.redisUrl);
  const script = mainScript();
  const d = detectorDefaults();
  const keys = new RedisKeys(o.prefix);
  const carrier = o.carrierId ?? 'carrier-a';
  const conns = Array.from(
    { length: o.connections ?? 4 },
    () => new Redis(o.redisUrl, { maxRetriesPerRequest: 2 }),
  );
  const depth = o.roundEvents ?? 500;
  // A fresh number space per run: no history or calls carried over from an earlier measurement.
  const space = `L${randomTag(5)}`;
  const token = (i: number): string => benchToken('lt', space, i);
  const statuses: Record<string, number> = {};
  try {
    const sha = (await conns[0].script('LOAD', script.source)) as string;
    if (sha !== script.sha)
      throw new Error(`Redis computed SHA ${sha} for ${script.file}, expected ${script.sha}`);
    let callSeq = 0;
    let calls = 0;
    const opts = {
      latenessMs: d.latenessMs,
      windowTtlS: d.windowTtlS,
      historyTtlS: d.historyTtlS,
      familiarTtlS: d.familiarTtlS,
      simTtlS: 7 * 86400,
    };
    const run = async (c: Redis, events: CallerEventArgs[]): Promise<void> => {
      const batch = new CallerBatch(keys, opts);
      const refs = events.map((e) => batch.add(e));
      const p = c.pipeline();
      // the reply is binary, as the detector reads it (callBuffer: never decoded as text)
      for (const call of batch.calls())
        p.callBuffer('EVALSHA', sha, script.numKeys, ...call.keys, ...call.args);
      const res = (await p.exec()) ?? [];
      calls += res.length;
      const replies = batch.decode(
        res.map(([err, val]) => {
          if (err) throw new Error(`${script.file}: ${err.message}`);
          return val;
        }),
      );
      for (const ref of refs) {
        const st = String(replies.event(ref).status);
        statuses[st] = (statuses[st] ?? 0) + 1;
      }
    };

    // History: each number gets `historyEvents` calls' events spread over the span, oldest first,
    // so its 10-minute, 1-hour and 24-hour windows hold as many buckets as that span fills.
    const now = Date.now();
    const per = Math.max(1, o.historyEvents);
    for (let h = 0; h < per; h++) {
      const t =
        per === 1 ? now - 1000 : now - o.historySpanMs + Math.floor((h * o.historySpanMs) / (per - 1)) - 1000;
      for (let base = 0; base < o.pool; base += depth * conns.length) {
        await Promise.all(
          conns.map((c, ci) => {
            const list: CallerEventArgs[] = [];
            for (let i = base + ci * depth; i < Math.min(o.pool, base + (ci + 1) * depth); i++) {
              const call = `h${h}.${i}`;
              list.push(
                eventArgs(d, carrier, token(i), token((i + 1 + h) % o.pool), call, TYPES[h % 3], t, 40),
              );
            }
            return list.length ? run(c, list) : Promise.resolve();
          }),
        );
      }
    }
    for (const k of Object.keys(statuses)) delete statuses[k];

    // Measurement: new calls' attempt / answer / end on random numbers of the pool, at "now".
    await conns[0].config('RESETSTAT');
    calls = 0;
    const t0 = nowMs();
    const end = t0 + o.durationS * 1000;
    let ops = 0;
    await Promise.all(
      conns.map(async (c, ci) => {
        while (nowMs() < end) {
          const list: CallerEventArgs[] = [];
          const t = Date.now();
          for (let i = 0; i < depth; i++) {
            const n = callSeq++;
            const call = `m${ci}.${Math.floor(n / 3)}`;
            const caller = token((Math.floor(n / 3) * 2654435761) % o.pool);
            const callee = token((Math.floor(n / 3) * 40503 + 7) % o.pool);
            list.push(eventArgs(d, carrier, caller, callee, call, TYPES[n % 3], t, 40));
          }
          await run(c, list);
          ops += list.length;
        }
      }),
    );
    const elapsed = (nowMs() - t0) / 1000;
    const stats = commandStats((await conns[0].info('commandstats')) as string, 'evalsha');
    const dbKeys = await conns[0].dbsize();
    return {
      script: script.file,
      pool: o.pool,
      historyEvents: per,
      historySpanS: Math.round(o.historySpanMs / 1000),
      eventsPerS: Math.round(ops / elapsed),
      serverUsPerEvent: ops ? Math.round((stats.usec / ops) * 100) / 100 : 0,
      serverUsPerCall: stats.calls ? Math.round((stats.usec / stats.calls) * 100) / 100 : 0,
      eventsPerCall: calls ? Math.round((ops / calls) * 10) / 10 : 0,
      events: ops,
      dbKeys,
      statuses,
    };
  } finally {
    for (const c of conns) c.disconnect();
  }
}

/** Deletes the benchmark's keys (SCAN + UNLINK), for a Redis the benchmark shares. */
export async function dropPrefix(redisUrl: string, prefix: string): Promise<number> {
  const r = new Redis(redisUrl);
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, found] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      cursor = next;
      if (found.length) n += await r.unlink(...found);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

/** Plain `redis-benchmark` GET throughput (pipelined): the ceiling of one Redis core for a trivial command. */
export async function redisBenchmarkGet(redisUrl: string, requests: number): Promise<number | null> {
  const u = assertLoopbackUrl(redisUrl);
  try {
    const { stdout } = await promisify(execFile)(
      'redis-benchmark',
      [
        '-h',
        u.hostname,
        '-p',
        u.port || '6379',
        '-q',
        '-t',
        'get',
        '-n',
        String(requests),
        '-P',
        '16',
        '-c',
        '50',
      ],
      { timeout: 60000 },
    );
    // "GET: 123456.79 requests per second, p50=..." (older versions print without p50)
    const m = /GET:\s*([\d.]+) requests per second/.exec(stdout.replace(/\r/g, '\n'));
    return m ? Math.round(Number(m[1])) : null;
  } catch {
    return null;
  }
}
