/**
 * Design B of issue 13, measured against design A on a real Redis (the CLI is
 * load-tests/design-b.ts, `npm run bench:design-b`; the parity test is design-b.int-spec.ts):
 * the detector's caller stage as it runs today, and the same stage with each number's windows in
 * the detector (libs/scoring caller-state.ts), owned per key group and written back in batches.
 */
import { randomBytes } from 'node:crypto';
import Redis, { Pipeline } from 'ioredis';
import { HandoffEvent, packEvents, unpackEvents } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { num, ResolvedRules } from '@eagle-eye/rules';
import { CallerState, CallerWindows, emptyWindows, LONG_CALL_S, StateEvent } from '@eagle-eye/scoring';
import { AlertJob } from '../../apps/detector/src/detection/alert.publisher';
import { createDetection } from '../../apps/detector/src/detection/detection.service';
import { callFp, numberFp } from '../../apps/detector/src/detection/fingerprint';
import { DetectorScripts } from '../../apps/detector/src/lua/detector-scripts';
import { EncodedEvalsha } from '../../apps/detector/src/lua/evalsha-command';
import { scoreCaller, suspectSeverity } from '../../apps/detector/src/scoring/score';
import { BENCH_DETECTION_OPTIONS, fixedHourOfTraffic } from '../../apps/detector/src/bench/synthetic-traffic';

export const ROUND = 2000;
export const HOUR = 3600_000;
export const DAY = 86_400_000;
export const CARRIER = 'carrier-a';

/**
 * Writes a round's changed states of one key group if, and only if, this replica still holds the
 * group's lease. KEYS[1] the lease key; ARGV[1] the lease token, ARGV[2] TTL ms, then pairs of
 * (state key, state). Returns the number written, or -1 when the lease is another's.
 */
export const FENCED_WRITE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local ttl = ARGV[2]
for i = 3, #ARGV, 2 do redis.call('SET', ARGV[i], ARGV[i + 1], 'PX', ttl) end
return (#ARGV - 2) / 2
`;

export interface Measured {
  events: number;
  nodeUs: number;
  redisUs: number;
  suspects: number;
  /** each measured event's caller score (total points), NaN when not scored: the designs must agree */
  scores: number[];
  stateBytes?: number;
}

/** One hour of traffic with fixed tokens: the same numbers in every run (see fixedHourOfTraffic). */
export function hourOfTraffic(subscribers: number, start: number): HandoffEvent[] {
  return fixedHourOfTraffic(subscribers, start, 'design-b');
}

export function rounds(events: HandoffEvent[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < events.length; i += ROUND) out.push(packEvents(events.slice(i, i + ROUND)));
  return out;
}

export async function redisCpuS(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const f = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return f('used_cpu_sys') + f('used_cpu_user');
}

/** Runs `work` over the packed rounds; CPU of this process and of Redis, per event. */
export async function measure(
  redis: Redis,
  packed: string[],
  work: (events: HandoffEvent[]) => Promise<void>,
): Promise<{ events: number; nodeUs: number; redisUs: number }> {
  let events = 0;
  const r0 = await redisCpuS(redis);
  const c0 = process.cpuUsage();
  for (const p of packed) {
    const evs = unpackEvents(p);
    events += evs.length;
    await work(evs);
  }
  const c = process.cpuUsage(c0);
  const redisS = (await redisCpuS(redis)) - r0;
  return { events, nodeUs: (c.user + c.system) / events, redisUs: (redisS * 1e6) / events };
}

/** Design A: the detector's caller stage as it runs (DetectionService.applyCallers). */
export async function designA(
  redis: Redis,
  warm: string[],
  measured: string[],
  rules: ResolvedRules,
  /** 'node': the same stage with the caller windows in the detector (DETECTOR_CALLER_WINDOWS=node) */
  callerWindows: 'script' | 'node' = 'script',
): Promise<Measured> {
  const keys = new RedisKeys(`dba${randomBytes(3).toString('hex')}`);
  const scripts = new DetectorScripts(redis);
  await scripts.load();
  const detection = createDetection({
    redis,
    keys,
    scripts,
    rules: { forCarrier: () => rules },
    alerts: { publish: async (_jobs: AlertJob[]) => undefined },
    options: { ...BENCH_DETECTION_OPTIONS, callerWindows },
  });
  let suspects = 0;
  let scores: number[] = [];
  const stage = async (events: HandoffEvent[]) => {
    const staged = await detection.applyCallers([{ carrierId: CARRIER, events }]);
    suspects += staged.suspectKeys.length;
    for (const w of staged.works) scores.push(w.caller ? w.caller.total : NaN);
  };
  for (const p of warm) await stage(unpackEvents(p));
  suspects = 0;
  scores = [];
  const m = await measure(redis, measured, stage);
  await dropPrefix(redis, keys.prefix);
  return { ...m, suspects, scores };
}

/**
 * The day's distinct callees and the familiarity hash for the new attempts of one key group, in
 * one call: KEYS[1] the group's stem; ARGV[1] the HyperLogLog TTL, seconds; then 4 fields per
 * operation: op ('a' attempt, 'A' attempt whose day key needs its TTL, 't' a call that talked long
 * enough to make the pair familiar), number, callee, UTC day. Returns two characters per attempt:
 * '1' when PFADD changed the day's HyperLogLog, then '1' when HSETNX added the callee.
 */
export const NOTE_CALLEES = `
local stem, ttl = KEYS[1], ARGV[1]
local out = {}
for i = 2, #ARGV, 4 do
  local op, nb, x = ARGV[i], stem .. 'n:' .. ARGV[i + 1], ARGV[i + 2]
  if op == 't' then
    redis.call('HSETNX', nb .. ':f', 't' .. x, 1)
  else
    local hll = nb .. ':x' .. ARGV[i + 3]
    out[#out + 1] = redis.call('PFADD', hll, x) == 1 and '1' or '0'
    out[#out + 1] = redis.call('HSETNX', nb .. ':f', x, 1) == 1 and '1' or '0'
    if op == 'A' then redis.call('EXPIRE', hll, ttl) end
  end
end
return table.concat(out)
`;

/** What the owner holds of one number: its windows and its lists mirror entries. */
export interface Held {
  state: CallerState;
  lists: [string, string];
  group: number;
}

/**
 * Design B's caller stage for one owner of every key group: read the numbers it does not hold
 * (state: MGET per group; lists mirror: HMGET), pre-check which attempts are new, note their
 * callees (one script call per group: PFADD of the day's distinct callees, HSETNX of the
 * familiarity hash), apply and score every event in Node, then write the changed states through
 * the fenced script, one call per key group. Requests are encoded as the detector encodes its
 * scripts' (EncodedEvalsha).
 */
export class DesignB {
  readonly keys = new RedisKeys(`dbb${randomBytes(3).toString('hex')}`);
  private readonly held = new Map<string, Held>();
  private readonly token = randomBytes(8).toString('hex');
  private readonly opts = { longCallS: LONG_CALL_S, latenessMs: BENCH_DETECTION_OPTIONS.latenessMs };
  private readonly ttlMs = BENCH_DETECTION_OPTIONS.historyTtlS * 1000;
  private readonly scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly windows: CallerWindows = emptyWindows(0);
  /** numbers whose day HyperLogLog has its TTL (once per number and day, as the script sets it) */
  private readonly hllTtl = new Set<string>();
  private writeSha = '';
  private noteSha = '';
  suspects = 0;
  scores: number[] = [];
  stateBytes = 0;
  statesWritten = 0;

  constructor(
    private readonly redis: Redis,
    private readonly rules: ResolvedRules,
    private readonly observingSince: number,
    /** keep numbers between rounds (the owner's memory), or read every number each round */
    private readonly keep: boolean,
  ) {}

  async init(): Promise<void> {
    this.writeSha = (await this.redis.script('LOAD', FENCED_WRITE)) as string;
    this.noteSha = (await this.redis.script('LOAD', NOTE_CALLEES)) as string;
    const p = this.redis.pipeline();
    for (let g = 0; g < this.keys.groups; g++) p.set(this.leaseKey(g), this.token, 'PX', 600_000);
    await p.exec();
  }

  /** the key of a key group's lease (its value: the owner's token) */
  leaseKey(g: number): string {
    return `${this.keys.groupStem(g)}lease`;
  }

  async round(events: HandoffEvent[]): Promise<void> {
    if (!this.keep) this.held.clear();
    const shortS = num(this.rules.alert_policy, 'shortCallS');
    const minTalkS = num(this.rules.familiar, 'minTalkS');
    const late = this.opts.latenessMs;
    const n = events.length;
    const callers = new Array<string>(n);
    const callees = new Array<string>(n);
    const calls = new Array<string>(n);
    // 1. the numbers not held: state and lists mirror
    const missing = new Map<number, string[]>();
    for (let i = 0; i < n; i++) {
      const ev = events[i];
      const c = numberFp(ev.caller);
      callers[i] = c;
      callees[i] = numberFp(ev.callee);
      calls[i] = callFp(CARRIER, ev.call);
      if (this.held.has(c)) continue;
      const g = this.keys.keyGroup(c);
      this.held.set(c, { state: undefined as unknown as CallerState, lists: ['', ''], group: g });
      const m = missing.get(g);
      if (m) m.push(c);
      else missing.set(g, [c]);
    }
    if (missing.size) {
      const p1 = this.redis.pipeline();
      for (const [g, numbers] of missing) {
        const stem = this.keys.groupStem(g);
        p1.mgetBuffer(...numbers.map((c) => `${stem}n:${c}:s`));
        for (const c of numbers) p1.hmget(`${stem}n:${c}:l`, '*', CARRIER);
      }
      const r1 = (await p1.exec()) ?? [];
      let k = 0;
      for (const numbers of missing.values()) {
        const [err, blobs] = r1[k++] as [Error | null, (Buffer | null)[]];
        if (err) throw err;
        numbers.forEach((c, j) => {
          const b = blobs[j];
          const h = this.held.get(c) as Held;
          h.state = b ? CallerState.decode(b, this.opts) : new CallerState(this.opts);
          const [e2, v] = r1[k + j] as [Error | null, (string | null)[]];
          if (e2) throw e2;
          h.lists = [v[0] ?? '', v[1] ?? ''];
        });
        k += numbers.length;
      }
    }
    // 2. which attempts are new (the watermark and replay guards as the round moves them), and
    // their callees noted in Redis: one script call per key group
    const wmNow = new Map<string, number>();
    const seen = new Map<string, number>();
    const notes = new Map<number, (string | number)[]>();
    // event index -> [key group, index of its first flag character in the group's reply]
    const asked = new Map<number, [number, number]>();
    const flagsOf = new Map<number, number>();
    const note = (g: number, ...f: (string | number)[]) => {
      let a = notes.get(g);
      if (!a) notes.set(g, (a = [BENCH_DETECTION_OPTIONS.windowTtlS]));
      a.push(...f);
    };
    for (let i = 0; i < n; i++) {
      const ev = events[i];
      const c = callers[i];
      const h = this.held.get(c) as Held;
      const wm = wmNow.get(c) ?? h.state.wm;
      const bit = ev.type === 'ATTEMPT' ? 1 : ev.type === 'ANSWERED' ? 2 : 4;
      const mask = seen.get(calls[i]) ?? h.state.guards.get(calls[i])?.mask ?? 0;
      if (mask & bit || (wm > 0 && ev.t < wm - late)) continue;
      seen.set(calls[i], mask | bit);
      if (ev.t > wm) wmNow.set(c, ev.t);
      if (ev.type === 'ATTEMPT') {
        const day = Math.floor(ev.t / DAY);
        const ttlKey = `${c}|${day}`;
        const first = !this.hllTtl.has(ttlKey);
        if (first) this.hllTtl.add(ttlKey);
        const at = flagsOf.get(h.group) ?? 0;
        flagsOf.set(h.group, at + 2);
        asked.set(i, [h.group, at]);
        note(h.group, first ? 'A' : 'a', c, callees[i], day);
      } else if (ev.type === 'ENDED' && (ev.talk ?? 0) >= minTalkS) {
        note(h.group, 't', c, callees[i], 0);
      }
    }
    const flags = new Map<number, string>();
    if (notes.size) {
      const p2 = this.redis.pipeline() as unknown as Pipeline;
      const order: number[] = [];
      for (const [g, args] of notes) {
        p2.sendCommand(new EncodedEvalsha(this.noteSha, [this.keys.groupStem(g)], args, false));
        order.push(g);
      }
      const r2 = (await p2.exec()) ?? [];
      r2.forEach(([err, v], j) => {
        if (err) throw err;
        flags.set(order[j], v as string);
      });
    }
    // 3. apply and score every event, in order
    const dirty = new Set<string>();
    // suspect decisions as the detector's caller stage counts them: one per number and severity a round
    const raised = new Set<string>();
    const w = this.windows;
    for (let i = 0; i < n; i++) {
      const ev = events[i];
      const h = this.held.get(callers[i]) as Held;
      const q = asked.get(i);
      const f = q ? (flags.get(q[0]) as string) : '';
      const se: StateEvent = {
        t: ev.t,
        type: ev.type === 'ATTEMPT' ? 'A' : ev.type === 'ANSWERED' ? 'N' : 'E',
        call: calls[i],
        talkS: ev.talk ?? 0,
        shortCallS: shortS,
        region: ev.region ?? '',
        device: ev.device ?? '',
        newDistinct: q !== undefined && f.charCodeAt(q[1]) === 49,
        newEver: q !== undefined && f.charCodeAt(q[1] + 1) === 49,
      };
      const s = h.state;
      const status = s.apply(se, w);
      if (status === 0) dirty.add(callers[i]);
      if (
        status === 2 ||
        (status === 0 && se.type === 'E' && !se.talkS && !((s.guards.get(calls[i])?.mask ?? 0) & 2))
      ) {
        this.scores.push(NaN);
        continue;
      }
      w.listGlobal = h.lists[0];
      w.listCarrier = h.lists[1];
      const score = scoreCaller(
        this.rules,
        w,
        { cls: ev.cls, country: ev.country, att: ev.att, mis: ev.mis, age: ev.age, sims: 0 },
        this.observingSince,
      );
      this.scores.push(score.total);
      const sev = suspectSeverity(this.rules, score);
      if (sev) raised.add(`${ev.caller}|${sev}`);
    }
    this.suspects += raised.size;
    // 4. the changed states, one fenced call per key group
    const byGroup = new Map<number, (string | Buffer)[]>();
    for (const c of dirty) {
      const h = this.held.get(c) as Held;
      let args = byGroup.get(h.group);
      if (!args) byGroup.set(h.group, (args = [this.token, String(this.ttlMs)]));
      const blob = h.state.encode(this.scratch);
      this.stateBytes += blob.length;
      this.statesWritten++;
      args.push(`${this.keys.groupStem(h.group)}n:${c}:s`, blob);
    }
    const p4 = this.redis.pipeline();
    const written = [...byGroup.keys()];
    for (const [g, args] of byGroup) p4.evalsha(this.writeSha, 1, this.leaseKey(g), ...args);
    const lost: number[] = [];
    ((await p4.exec()) ?? []).forEach(([err, v], j) => {
      if (err) throw err;
      if (v === -1) lost.push(written[j]);
    });
    if (lost.length) {
      // what this replica holds of those groups is ahead of Redis and no longer its own
      for (const [c, h] of this.held) if (lost.includes(h.group)) this.held.delete(c);
      throw new Error(`lost the lease of key group ${lost.join(', ')}: its states were not written`);
    }
  }
}

export async function designB(
  redis: Redis,
  warm: string[],
  measured: string[],
  rules: ResolvedRules,
  observingSince: number,
  keep: boolean,
): Promise<Measured> {
  const b = new DesignB(redis, rules, observingSince, keep);
  await b.init();
  for (const p of warm) await b.round(unpackEvents(p));
  b.suspects = 0;
  b.scores = [];
  b.stateBytes = 0;
  b.statesWritten = 0;
  const m = await measure(redis, measured, (evs) => b.round(evs));
  const out = {
    ...m,
    suspects: b.suspects,
    scores: b.scores,
    stateBytes: Math.round(b.stateBytes / Math.max(1, b.statesWritten)),
  };
  await dropPrefix(redis, b.keys.prefix);
  return out;
}

export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [c, ks] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    cursor = c;
    if (ks.length) await redis.unlink(...ks);
  } while (cursor !== '0');
}
