import Redis from 'ioredis';
import { RedisKeys } from '@eagle-eye/redis';
import { CallerWindows, LONG_CALL_S, ReferenceWindows, WINDOW } from '@eagle-eye/scoring';
import { connectTestRedis, dropRedisPrefix, uniqueId } from '@eagle-eye/testing';
import {
  CalleeBatch,
  CallerBatch,
  CallerBatchOptions,
  CallerEventArgs,
  singleCallerCall,
} from './caller-args';
import { CallerReply } from './caller-reply';
import { DetectorScripts } from './detector-scripts';

/**
 * The offline reference windows (libs/scoring reference-windows.ts, used for training) against
 * caller-batch-1.lua on real Redis: the same events, event by event, must give the same windows,
 * whether each event is its own script call or many numbers' events share one call (a round's
 * batch). Distinct-callee counts come from HyperLogLogs in Redis and exact sets in the reference.
 */

const LATENESS = 120_000;
const SHORT_S = 10;
/** a Monday 07:13:20 UTC: nothing aligned with a bucket */
const T0 = Date.UTC(2026, 0, 5, 7, 13, 20);
const HLL_FIELDS = new Set<keyof CallerWindows>(['distinct1h', 'distinct24h', 'distinct7d']);

interface Ev {
  t: number;
  type: 'A' | 'N' | 'E';
  call: string;
  callee: string;
  talkS: number;
  region: string;
  device?: string;
}

/** mulberry32: a small deterministic PRNG */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * About nine days of one number's calls in delivery order: several calls a day at any hour, some
 * bursts, new and repeated callees, answered and not, talks around 5 s, 60 s and 300 s (and some
 * exactly at the short and long limits); then a few redelivered events, answers delivered after
 * later events (within lateness) and events older than lateness.
 */
function stream(seed: number, caller: string): Ev[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const regions = Array.from({ length: 20 }, (_, i) => String(510100 + i * 100));
  const known: string[] = [];
  const evs: Ev[] = [];
  let calls = 0;
  const call = (t: number, longTalkS = 0) => {
    const fresh = known.length === 0 || rnd() < 0.45;
    const callee = fresh ? `${caller}-c${known.length}` : pick(known);
    if (fresh) known.push(callee);
    const id = `${caller}-k${calls++}`;
    const region = rnd() < 0.1 ? '' : pick(regions);
    // three handsets, one mostly; some events name none
    const device =
      rnd() < 0.2
        ? ''
        : pick([`${caller}-h0`, `${caller}-h0`, `${caller}-h0`, `${caller}-h1`, `${caller}-h2`]);
    evs.push({ t, type: 'A', call: id, callee, talkS: 0, region, device });
    const ring = 2000 + Math.floor(rnd() * 20_000);
    const u = rnd();
    if (u < 0.4 && !longTalkS) {
      evs.push({ t: t + ring, type: 'E', call: id, callee, talkS: 0, region });
      return;
    }
    const talk = longTalkS
      ? longTalkS
      : u < 0.45
        ? 0
        : u < 0.5
          ? pick([SHORT_S - 1, SHORT_S, LONG_CALL_S - 1, LONG_CALL_S])
          : u < 0.65
            ? 3 + Math.floor(rnd() * 5)
            : u < 0.85
              ? 50 + Math.floor(rnd() * 20)
              : 250 + Math.floor(rnd() * 100);
    evs.push({ t: t + ring, type: 'N', call: id, callee, talkS: 0, region });
    evs.push({
      t: t + ring + talk * 1000 + Math.floor(rnd() * 1000),
      type: 'E',
      call: id,
      callee,
      talkS: talk,
      region,
    });
  };
  for (let day = 0; day < 9; day++) {
    // one quiet day in the middle: the 7-day window must count days with attempts only
    if (day === 4 && seed % 2 === 0) continue;
    const n = 3 + Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++) call(T0 + day * WINDOW.day + Math.floor(rnd() * WINDOW.day));
    if (rnd() < 0.5) {
      // a burst: many calls within an hour
      const start = T0 + day * WINDOW.day + Math.floor(rnd() * WINDOW.day);
      for (let i = 0; i < 15; i++) call(start + Math.floor(rnd() * WINDOW.hour));
    }
  }
  // a seven-hour call: its replay guard is older than the script keeps open calls' guards (6 h)
  // when its end arrives, and the end is redelivered
  const long = `${caller}-k${calls}`;
  call(T0 + 2 * WINDOW.day + 3600_000, 7 * 3600);
  evs.sort((a, b) => a.t - b.t);
  // delivery: some answers arrive after later events of other calls, within lateness
  for (let i = 0; i + 3 < evs.length; i++) {
    if (evs[i].type === 'N' && rnd() < 0.15) {
      let j = i;
      while (j + 1 < evs.length && evs[j + 1].t - evs[i].t < LATENESS / 2 && evs[j + 1].call !== evs[i].call)
        j++;
      if (j > i) evs.splice(j, 0, ...evs.splice(i, 1));
    }
  }
  // redeliveries (duplicates) and events that come too late
  const out: Ev[] = [];
  evs.forEach((e, i) => {
    out.push(e);
    if (rnd() < 0.03 || (e.call === long && e.type === 'E')) out.push({ ...e });
    if (i > 10 && rnd() < 0.01) out.push({ ...evs[i - 10] });
    if (rnd() < 0.01)
      out.push({
        t: e.t - LATENESS - 1000,
        type: 'A',
        call: `${caller}-late${i}`,
        callee: `${caller}-x${i}`,
        talkS: 0,
        region: '',
      });
  });
  return out;
}

describe('caller windows: offline reference vs caller-batch-1.lua', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let scripts: DetectorScripts;
  beforeAll(async () => {
    redis = await connectTestRedis();
    keys = new RedisKeys(uniqueId('ee'));
    scripts = new DetectorScripts(redis);
    await scripts.load();
  });
  afterAll(async () => {
    await dropRedisPrefix(redis, keys.prefix);
    redis.disconnect();
  });

  const OPTS: CallerBatchOptions = {
    latenessMs: LATENESS,
    longCallS: LONG_CALL_S,
    windowTtlS: 26 * 3600,
    historyTtlS: 8 * 86400 + 3600,
    familiarTtlS: 30 * 86400,
    simTtlS: 7 * 86400,
  };

  function args(caller: string, op: 'a' | 'r', e: Ev): CallerEventArgs {
    return {
      op,
      token: caller,
      t: e.t,
      type: e.type,
      callFp: e.call,
      counterpartFp: e.callee,
      talkS: e.talkS,
      shortCallS: SHORT_S,
      carrierId: 'carrier-a',
      region: e.region,
      minTalkS: 60,
      device: e.device ?? '',
    };
  }

  /** One event in a script call of its own. */
  async function lua(caller: string, op: 'a' | 'r', e: Ev): Promise<CallerReply> {
    const one = singleCallerCall(keys, OPTS, args(caller, op, e));
    return one.decode(await scripts.one(one.call));
  }

  /** Fields that differ, HyperLogLog counts within max(1, 2 %). */
  function diff(where: string, got: CallerWindows, want: CallerWindows): string[] {
    const out: string[] = [];
    for (const k of Object.keys(want) as (keyof CallerWindows)[]) {
      const [g, w] = [got[k], want[k]];
      if (typeof w !== 'number' || typeof g !== 'number') continue;
      const ok = HLL_FIELDS.has(k) ? Math.abs(g - w) <= Math.max(1, 0.02 * w) : g === w;
      if (!ok) out.push(`${where} ${k}: redis ${g}, reference ${w}`);
    }
    return out;
  }

  it('gives the same windows after every event of nine days of several numbers', async () => {
    const mismatches: string[] = [];
    const statuses = [0, 0, 0];
    let events = 0;
    for (let s = 1; s <= 4; s++) {
      const caller = `p${s}`;
      const ref = new ReferenceWindows({ shortCallS: SHORT_S, longCallS: LONG_CALL_S, latenessMs: LATENESS });
      const evs = stream(s, caller);
      for (const [i, e] of evs.entries()) {
        const r = await lua(caller, 'a', e);
        const want = ref.apply(e);
        const status = r.status;
        statuses[status]++;
        events++;
        const where = `${caller} #${i} ${e.type} t=+${e.t - T0}`;
        if (status !== want.status)
          mismatches.push(`${where} status: redis ${status}, reference ${want.status}`);
        mismatches.push(...diff(where, r.windows, want.windows));
      }
      // reads (the call-back probe and the sweep) at later times, up to past the 7-day window
      const last = Math.max(...evs.map((e) => e.t));
      for (const later of [
        0,
        59_999,
        WINDOW.hour,
        5 * WINDOW.hour,
        WINDOW.day,
        3 * WINDOW.day,
        6 * WINDOW.day,
      ]) {
        const at = last + later;
        const r = await lua(caller, 'r', { t: at, type: 'A', call: 'x', callee: 'y', talkS: 0, region: '' });
        mismatches.push(...diff(`${caller} read +${later}`, r.windows, ref.read(at)));
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    // the stream exercised every path
    expect(events).toBeGreaterThan(1000);
    expect(statuses[1]).toBeGreaterThan(5);
    expect(statuses[2]).toBeGreaterThan(5);
  });

  it('gives the same windows when many numbers share a script call, in batches of any size', async () => {
    // the four numbers' streams interleaved in delivery order (each number's own order kept), cut
    // into batches of 1 to 300 events: every event's reply must match the reference, as above
    const mismatches: string[] = [];
    const refs = new Map<string, ReferenceWindows>();
    const queue: { caller: string; e: Ev; i: number }[] = [];
    for (let s = 5; s <= 8; s++) {
      const caller = `b${s}`;
      refs.set(
        caller,
        new ReferenceWindows({ shortCallS: SHORT_S, longCallS: LONG_CALL_S, latenessMs: LATENESS }),
      );
      stream(s, caller).forEach((e, i) => queue.push({ caller, e, i }));
    }
    // a stable merge by position within each stream keeps every number's delivery order
    queue.sort((a, b) => a.i - b.i);
    const rnd = prng(7);
    const handsets = new Set<string>();
    let calls = 0;
    let batches = 0;
    const groups = new Set<number>();
    for (let at = 0; at < queue.length;) {
      const size = 1 + Math.floor(rnd() * (rnd() < 0.2 ? 300 : 40));
      const part = queue.slice(at, at + size);
      at += size;
      const batch = new CallerBatch(keys, OPTS);
      const evRefs = part.map(({ caller, e }) => batch.add(args(caller, 'a', e)));
      const devRefs = part.map(({ caller, e }) => {
        if (!e.device) return undefined;
        handsets.add(e.device);
        return batch.addDevice(e.device, e.type === 'A' ? caller : '');
      });
      const replies = batch.decode(await scripts.run(batch.calls()));
      calls += batch.size;
      batches++;
      for (const { caller, e } of part) {
        groups.add(keys.keyGroup(caller));
        if (e.device) groups.add(keys.keyGroup(e.device));
      }
      part.forEach(({ caller, e, i }, k) => {
        const r = replies.event(evRefs[k]);
        const want = (refs.get(caller) as ReferenceWindows).apply(e);
        const where = `${caller} #${i} ${e.type} t=+${e.t - T0}`;
        if (r.status !== want.status)
          mismatches.push(`${where} status: redis ${r.status}, reference ${want.status}`);
        mismatches.push(...diff(where, r.windows, want.windows));
        const dev = devRefs[k];
        // a handset is used by one number here: one SIM
        if (dev && replies.sims(dev) !== 1) mismatches.push(`${where} handset sims ${replies.sims(dev)}`);
      });
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(handsets.size).toBeGreaterThan(4);
    // one call per key group in a batch: the numbers and handsets fall in several groups, so a
    // batch takes several calls, but far fewer than one per event
    expect(calls).toBeLessThanOrEqual(batches * groups.size);
    expect(calls).toBeLessThan(queue.length / 2);
  });

  it('keeps the 7-day counters, reads 2-hour buckets of the earlier layout, and expires day buckets', async () => {
    const caller = 'old-layout';
    const t = T0 + 30 * 60_000;
    const ev = (dt: number, type: Ev['type'], call: string, talkS = 0): Ev => ({
      t: t + dt,
      type,
      call,
      callee: `${call}-callee`,
      talkS,
      region: '',
    });
    // a bucket written by the previous script version: 3 attempts, 1 answered, 2 distinct
    const old = Buffer.alloc(6);
    old.writeUInt16LE(3, 0);
    old.writeUInt16LE(1, 2);
    old.writeUInt16LE(2, 4);
    await redis.hset(
      keys.numWindows(caller),
      `D${Math.floor(t / WINDOW.bucket24h)}`,
      old,
      'wm',
      String(t - 1000),
    );
    await lua(caller, 'a', ev(0, 'A', 'c1'));
    await lua(caller, 'a', ev(1000, 'N', 'c1'));
    const r = (await lua(caller, 'a', ev(400_000, 'E', 'c1', 399))).windows;
    expect(r).toMatchObject({
      attempts24h: 4,
      answered24h: 2,
      distinct24h: 3,
      newEver24h: 1,
      talk24h: 399,
      ended24h: 1,
      short24h: 0,
      long24h: 1,
      slots24h: 1,
      // the day bucket is new: the old 2-hour bucket's counts are not in it
      attempts7d: 1,
      answered7d: 1,
      distinct7d: 1,
      newEver7d: 1,
      talk7d: 399,
      ended7d: 1,
      days7d: 1,
    });
    // the hash lives for the history TTL; the day's HyperLogLog for the window TTL
    expect(await redis.ttl(keys.numWindows(caller))).toBeGreaterThan(8 * 86400);
    const hll = await redis.ttl(keys.numDistinct(caller, Math.floor(t / WINDOW.day)));
    expect(hll).toBeGreaterThan(0);
    expect(hll).toBeLessThanOrEqual(26 * 3600);
    // eight days later the first day's bucket is out of the window and housekeeping drops it
    const r2 = (await lua(caller, 'a', ev(8 * WINDOW.day, 'A', 'c2'))).windows;
    expect(r2).toMatchObject({ attempts7d: 1, days7d: 1, newEver7d: 1, attempts24h: 1 });
    const fields = await redis.hkeys(keys.numWindows(caller));
    expect(fields.filter((f) => f.startsWith('Y'))).toEqual([
      `Y${Math.floor((t + 8 * WINDOW.day) / WINDOW.day)}`,
    ]);
  });

  it('counts received calls and calls back (callee-batch-1.lua) as the reference does, on every read', async () => {
    const num = 'recv';
    const ref = new ReferenceWindows({ shortCallS: SHORT_S, longCallS: LONG_CALL_S, latenessMs: LATENESS });
    const rnd = prng(99);
    const mismatches: string[] = [];
    const called: string[] = [];
    let seq = 0;
    const received = async (t: number, caller: string, talkS: number, count: 0 | 1) => {
      const b = new CalleeBatch(keys, {
        latenessMs: LATENESS,
        stateTtlS: 26 * 3600,
        familiarTtlS: 30 * 86400,
        historyTtlS: 8 * 86400 + 3600,
      });
      b.add({
        op: 'a',
        token: num,
        t,
        type: 'E',
        callFp: `in${seq++}`,
        callerFp: caller,
        talkS,
        suspect: false,
        keepEnd: false,
        ctx: '',
        ringMs: 3600_000,
        minTalkS: 60,
        countReceived: count === 1,
      });
      await scripts.run(b.calls());
      if (count) ref.incoming({ t, caller, talkS });
    };
    for (let day = 0; day < 9; day++) {
      for (let i = 0; i < 12; i++) {
        const t = T0 + day * WINDOW.day + Math.floor((i / 12) * WINDOW.day) + Math.floor(rnd() * 3600_000);
        if (rnd() < 0.5) {
          const callee = `${num}-c${seq}`;
          called.push(callee);
          const e: Ev = { t, type: 'A', call: `out${seq++}`, callee, talkS: 0, region: '' };
          const r = await lua(num, 'a', e);
          mismatches.push(...diff(`attempt day ${day}`, r.windows, ref.apply(e).windows));
        } else {
          // a stranger, someone it called (a call back), no talk, or a redelivery (count 0)
          const u = rnd();
          const caller =
            u < 0.4 && called.length ? called[Math.floor(rnd() * called.length)] : `${num}-s${seq}`;
          await received(t, caller, u > 0.9 ? 0 : 30, u > 0.85 && u <= 0.9 ? 0 : 1);
          const at = t + 1000;
          const r = await lua(num, 'r', { t: at, type: 'A', call: 'x', callee: 'y', talkS: 0, region: '' });
          mismatches.push(...diff(`read day ${day}`, r.windows, ref.read(at)));
        }
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    const w = ref.read(T0 + 8 * WINDOW.day + 23 * 3600_000);
    expect(w.in7d).toBeGreaterThan(5);
    expect(w.calledBack7d).toBeGreaterThan(0);
    expect(w.in24h).toBeLessThan(w.in7d);
  });
});
