import Redis from 'ioredis';
import { RedisKeys } from '@eagle-eye/redis';
import {
  CallerState,
  callerStateFromHash,
  CallerStateOptions,
  CallerWindows,
  emptyWindows,
  LegacyConversionNotes,
  LONG_CALL_S,
  receivedWindows,
  StateEvent,
  WINDOW,
  WindowsHash,
} from '@eagle-eye/scoring';
import { connectTestRedis, dropRedisPrefix, uniqueId } from '@eagle-eye/testing';
import { CallerEventArgs } from '../lua/caller-args';
import { CallerReply, CallerStatus } from '../lua/caller-reply';
import { DetectorScripts } from '../lua/detector-scripts';
import { WindowsRepository } from './windows.repository';

/**
 * Design B's switch (issue 13): a number with no state string yet starts from today's windows
 * hash. Several numbers' multi-day histories go through caller-batch-1.lua (and their received
 * calls through callee-batch-1.lua, or HINCRBY exactly as it writes them), some hashes get 2-hour
 * buckets of the earlier 6-byte layout and text-layout leftovers, then the hash is converted
 * (callerStateFromHash) and
 *  (a) the state's windows, with the received-call sums read from the hash (receivedWindows),
 *      equal the script's 'r' reads at several times, every field of its reply;
 *  (b) the next events, applied to the script and to the state, give the same replies event by
 *      event (status, mask, every window field), and a second conversion later in the stream, and
 *      the state after encode/decode, agree too.
 * The same comparison run on states converted with one part of the hash left out (each bucket
 * ring, the replay guards, fs, rg, dr, hs) must find differences: the test can fail.
 */

const LATENESS = 120_000;
const SHORT_S = 10;
const MIN_TALK_S = 60;
const { day: DAY, hour: HOUR, bucket24h: D2H } = WINDOW;
/** a Wednesday 05:41:07 UTC: nothing aligned with a bucket */
const T0 = Date.UTC(2026, 2, 4, 5, 41, 7);
const STATE_OPTS: CallerStateOptions = { longCallS: LONG_CALL_S, latenessMs: LATENESS };

/** mulberry32: a small deterministic PRNG, so a failing history can be replayed */
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

interface Ev {
  t: number;
  type: 'A' | 'N' | 'E';
  call: string;
  callee: string;
  talkS: number;
  region: string;
  device: string;
}

/** One step of a number's traffic: an event of its own, or an answered call it received. */
type Step =
  | { kind: 'own'; ev: Ev }
  | { kind: 'in'; t: number; from: string; talkS: number; via: 'callee-batch' | 'hincrby' };

/**
 * About `days` days of one number's traffic in delivery order: bursts of calls at any hour (a
 * quiet day for even seeds), callees new and repeated, answered or not, talk short, medium, long
 * and exactly at the limits, answers with no talk; a seven-hour call; events delivered out of
 * order within the lateness, redeliveries, events older than the lateness; calls received, some
 * from numbers it called (calls back).
 */
function traffic(seed: number, num: string, days: number, cut: number): Step[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const regions = ['510100', '510700', '440300', '110000', '310000', '', ''];
  const callees = Array.from({ length: 30 }, (_, i) => `${num}-c${i}`);
  const steps: { s: Step; order: number }[] = [];
  let calls = 0;
  const call = (t: number, talk?: number) => {
    const id = `${num}-k${calls++}`;
    const callee = rnd() < 0.5 ? pick(callees.slice(0, 4)) : pick(callees);
    const region = pick(regions);
    const device = rnd() < 0.3 ? '' : pick([`${num}-h0`, `${num}-h0`, `${num}-h1`, `${num}-h2`]);
    const jitter = () => (rnd() < 0.2 ? -Math.floor(rnd() * LATENESS * 0.9) : 0);
    const ev = (dt: number, type: Ev['type'], talkS = 0): void => {
      const e: Ev = { t: t + dt, type, call: id, callee, talkS, region, device };
      steps.push({ s: { kind: 'own', ev: e }, order: e.t + jitter() });
    };
    ev(0, 'A');
    const u = rnd();
    if (talk === undefined && u < 0.35) {
      ev(3000 + Math.floor(rnd() * 20_000), 'E');
      return;
    }
    const ring = 2000 + Math.floor(rnd() * 20_000);
    const talkS =
      talk ??
      (u < 0.42
        ? 0
        : u < 0.5
          ? pick([SHORT_S - 1, SHORT_S, LONG_CALL_S - 1, LONG_CALL_S])
          : u < 0.7
            ? 1 + Math.floor(rnd() * 8)
            : u < 0.9
              ? 40 + Math.floor(rnd() * 60)
              : 200 + Math.floor(rnd() * 300));
    ev(ring, 'N');
    ev(ring + talkS * 1000 + Math.floor(rnd() * 1000), 'E', talkS);
  };
  for (let d = 0; d < days; d++) {
    if (d === 3 && seed % 2 === 0) continue;
    const n = 2 + Math.floor(rnd() * 6);
    for (let i = 0; i < n; i++) {
      const start = T0 + d * DAY + Math.floor(rnd() * DAY);
      const burst = 1 + Math.floor(rnd() * (rnd() < 0.3 ? 12 : 3));
      for (let b = 0; b < burst; b++) call(start + b * (20_000 + Math.floor(rnd() * 100_000)));
      if (rnd() < 0.4) {
        const t = start + Math.floor(rnd() * 3 * HOUR);
        // from a number it called (a call back) or a stranger
        const from = rnd() < 0.5 ? pick(callees.slice(0, 4)) : `${num}-s${Math.floor(rnd() * 50)}`;
        steps.push({
          s: {
            kind: 'in',
            t,
            from,
            talkS: 1 + Math.floor(rnd() * 300),
            via: rnd() < 0.5 ? 'callee-batch' : 'hincrby',
          },
          order: t,
        });
      }
    }
  }
  // calls across the conversion at `cut`: a seven-hour one (its guard outlives the 6-hour limit for
  // open calls), answered ones that end after it with and without talk, and redeliveries after it
  // of events before it (the converted replay guards must call them duplicates)
  call(cut - 5 * HOUR, 7 * 3600);
  for (const [dt, talkS] of [
    [-40_000, 0],
    [-30_000, 25],
    [-100_000, 0],
  ]) {
    const e: Ev = {
      t: cut + dt,
      type: 'A',
      call: `${num}-x${dt}`,
      callee: callees[1],
      talkS: 0,
      region: '',
      device: '',
    };
    steps.push({ s: { kind: 'own', ev: e }, order: e.t });
    steps.push({ s: { kind: 'own', ev: { ...e, t: e.t + 5000, type: 'N' } }, order: e.t + 5000 });
    steps.push({ s: { kind: 'own', ev: { ...e, t: cut + 3000, type: 'E', talkS } }, order: cut + 3000 });
  }
  steps.sort((a, b) => a.order - b.order);
  const before = steps.filter((x) => x.order < cut).slice(-6);
  for (const [i, b] of before.entries()) steps.push({ s: b.s, order: cut + 10_000 + i * 1000 });
  steps.sort((a, b) => a.order - b.order);
  const out: Step[] = [];
  steps.forEach(({ s }, i) => {
    out.push(s);
    if (s.kind !== 'own') return;
    if (rnd() < 0.04) out.push(s);
    if (i > 8 && rnd() < 0.02) {
      const old = steps[i - 1 - Math.floor(rnd() * 8)].s;
      if (old.kind === 'own') out.push(old);
    }
    if (rnd() < 0.015) {
      const e = s.ev;
      out.push({
        kind: 'own',
        ev: { ...e, t: e.t - LATENESS - 5000, type: 'A', call: `${num}-late${i}`, callee: `${num}-x${i}` },
      });
    }
  });
  return out;
}

/** A state under comparison: the full conversion, or one with part of the hash left out. */
interface Variant {
  label: string;
  state: CallerState;
  /** must agree with the script (true) or must be caught differing (false) */
  exact: boolean;
}

/** Parts of the hash a mutated conversion leaves out, by field-name test. */
const LEAVE_OUT: Record<string, (name: string) => boolean> = {
  'no M ring': (n) => /^M\d/.test(n),
  'no H ring': (n) => /^H\d/.test(n),
  'no D ring': (n) => /^D\d/.test(n),
  'no Y ring': (n) => /^Y\d/.test(n),
  'no replay guards': (n) => n.startsWith('c'),
  'no fs': (n) => n === 'fs',
  'no rg': (n) => n === 'rg',
  'no dr': (n) => n === 'dr',
  'no hs': (n) => n === 'hs',
};

function without(flat: Buffer[], drop: (name: string) => boolean): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (!drop(flat[i].toString('latin1'))) out.push(flat[i], flat[i + 1]);
  }
  return out;
}

/** Every field of the script's reply that differs from the state's. */
function diff(where: string, got: CallerWindows, want: CallerWindows): string[] {
  const out: string[] = [];
  for (const k of Object.keys(want) as (keyof CallerWindows)[]) {
    if (got[k] !== want[k]) out.push(`${where} ${k}: state ${got[k]}, script ${want[k]}`);
  }
  return out;
}

/** The state's windows with the received-call sums read from the hash, as the detector will read them. */
function withReceived(w: CallerWindows, hash: WindowsHash, at: number): CallerWindows {
  const r = receivedWindows(hash, at);
  w.in24h = r.in1440;
  w.calledBack24h = r.back1440;
  w.in7d = r.in7d;
  w.calledBack7d = r.back7d;
  return w;
}

describe('legacy windows hash -> CallerState (design B switch)', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let repo: WindowsRepository;
  beforeAll(async () => {
    redis = await connectTestRedis();
    keys = new RedisKeys(uniqueId('ee'));
    const scripts = new DetectorScripts(redis);
    await scripts.load();
    repo = new WindowsRepository(redis, keys, scripts, {
      latenessMs: LATENESS,
      windowTtlS: 26 * 3600,
      historyTtlS: 8 * 86400 + 3600,
      familiarTtlS: 30 * 86400,
      dueShards: 4,
      dueLeaseMs: 10_000,
    });
  });
  afterAll(async () => {
    await dropRedisPrefix(redis, keys.prefix);
    redis.disconnect();
  });

  function args(num: string, op: 'a' | 'r', e: Ev): CallerEventArgs {
    return {
      op,
      token: num,
      t: e.t,
      type: e.type,
      callFp: e.call,
      counterpartFp: e.callee,
      talkS: e.talkS,
      shortCallS: SHORT_S,
      minTalkS: MIN_TALK_S,
      carrierId: 'carrier-a',
      region: e.region,
      device: e.device,
    };
  }

  /** Events through caller-batch-1.lua, many per call as a round sends them; their replies. */
  async function applyAll(num: string, evs: Ev[]): Promise<CallerReply[]> {
    const batch = repo.newCallerBatch();
    const refs = evs.map((e) => batch.add(args(num, 'a', e)));
    const replies = await repo.runCallers(batch);
    return refs.map((r) => replies.event(r));
  }

  /** The script's 'r' reads of the number's windows at each time. */
  async function scriptReads(num: string, at: number[]): Promise<CallerWindows[]> {
    const batch = repo.newCallerBatch();
    const refs = at.map((t) =>
      batch.add(
        args(num, 'r', { t, type: 'A', call: 'probe', callee: 'probe', talkS: 0, region: '', device: '' }),
      ),
    );
    const replies = await repo.runCallers(batch);
    return refs.map((r) => {
      const rep = replies.event(r);
      expect(rep.status).toBe(CallerStatus.Read);
      return rep.windows;
    });
  }

  /** A received answered call, through callee-batch-1.lua or by the HINCRBYs it makes. */
  async function received(num: string, s: Extract<Step, { kind: 'in' }>, seq: number): Promise<void> {
    if (s.via === 'callee-batch') {
      const b = repo.newCalleeBatch();
      b.add({
        op: 'a',
        token: num,
        t: s.t,
        type: 'E',
        callFp: `${num}-in${seq}`,
        callerFp: s.from,
        talkS: s.talkS,
        suspect: false,
        keepEnd: false,
        ctx: '',
        ringMs: HOUR,
        minTalkS: MIN_TALK_S,
        countReceived: true,
      });
      await repo.runCallees(b, repo.newCallerBatch());
      return;
    }
    const kw = keys.numWindows(num);
    const k = Math.floor(s.t / D2H);
    const day = Math.floor(s.t / DAY);
    const back = (await redis.hexists(keys.numFamiliar(num), s.from)) === 1;
    const p = redis.multi().hincrby(kw, `J${k}`, 1).hincrby(kw, `I${day}`, 1);
    if (back) p.hincrby(kw, `K${k}`, 1).hincrby(kw, `R${day}`, 1);
    await p.exec();
  }

  async function hash(num: string): Promise<Buffer[]> {
    return (await redis.callBuffer('HGETALL', keys.numWindows(num))) as Buffer[];
  }

  /** What the script's PFADD and HSETNX will answer for the attempt (the state's inputs), without changing them. */
  async function callees(num: string, e: Ev): Promise<{ newDistinct: boolean; newEver: boolean }> {
    const tmp = `${keys.prefix}:probe-hll`;
    const r = await redis
      .multi()
      .del(tmp)
      .copy(keys.numDistinct(num, Math.floor(e.t / DAY)), tmp)
      .pfadd(tmp, e.callee)
      .hexists(keys.numFamiliar(num), e.callee)
      .exec();
    return { newDistinct: r?.[2]?.[1] === 1, newEver: r?.[3]?.[1] === 0 };
  }

  /** Times the reads compare at: the watermark, within lateness before it, and up to past the 7 days. */
  function readTimes(wm: number): number[] {
    return [
      0,
      -LATENESS / 2,
      1,
      90_000,
      11 * 60_000,
      40 * 60_000,
      61 * 60_000,
      5 * HOUR,
      23 * HOUR,
      25 * HOUR,
    ]
      .concat([2 * DAY + 7 * HOUR, 5 * DAY, 6 * DAY + 20 * HOUR, 8 * DAY])
      .map((d) => wm + d);
  }

  const mismatches = new Map<string, string[]>();
  const note = (label: string, lines: string[]) => {
    const m = mismatches.get(label) ?? [];
    m.push(...lines);
    mismatches.set(label, m);
  };
  const figures = {
    numbers: 0,
    history: 0,
    next: 0,
    reads: 0,
    statuses: [0, 0, 0, 0],
    sixByteD: 0,
    dropped: 0,
    stale: 0,
    readsWithReceived: 0,
  };

  /** (a): the variants' reads (received sums from the hash) against the script's at each time. */
  async function compareReads(num: string, where: string, variants: Variant[]): Promise<void> {
    const flat = await hash(num);
    const wm = Number((await redis.hget(keys.numWindows(num), 'wm')) ?? 0);
    const at = readTimes(wm);
    const want = await scriptReads(num, at);
    figures.reads += at.length;
    figures.readsWithReceived += want.filter((w) => w.in24h > 0 && w.calledBack7d > 0).length;
    for (const v of variants) {
      at.forEach((t, i) => {
        const got = withReceived(v.state.read(t), flat, t);
        note(v.label, diff(`${num} ${where} read wm${t - wm >= 0 ? '+' : ''}${t - wm}`, got, want[i]));
      });
    }
  }

  /** The hash converted whole and with each part left out; the full conversion also after encode/decode. */
  async function convert(num: string, suffix: string): Promise<Variant[]> {
    const flat = await hash(num);
    const notes: LegacyConversionNotes = { dropped: 0, unmapped: [] };
    const full = callerStateFromHash(flat, STATE_OPTS, notes);
    expect(notes.unmapped).toEqual([]);
    figures.dropped += notes.dropped;
    expect(full.empty).toBe(false);
    expect(full.rev).toBe(0);
    // the object form (hgetallBuffer) converts the same
    const rec = callerStateFromHash(await redis.hgetallBuffer(keys.numWindows(num)), STATE_OPTS);
    expect(rec.encode().equals(full.encode())).toBe(true);
    // and so do [name, value] pairs with latin1 names (the detector's own read of the hash)
    const pairs: [string, Buffer][] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i].toString('latin1'), flat[i + 1]]);
    expect(callerStateFromHash(pairs, STATE_OPTS).encode().equals(full.encode())).toBe(true);
    const wm = full.wm;
    for (const t of [wm, wm + DAY]) expect(receivedWindows(pairs, t)).toEqual(receivedWindows(flat, t));
    const guards = flat.filter((f, i) => i % 2 === 0 && f[0] === 99).length;
    expect(full.guards.size).toBe(guards);
    const out: Variant[] = [
      { label: `full${suffix}`, state: full, exact: true },
      {
        label: `full${suffix} after encode/decode`,
        state: CallerState.decode(full.encode(), STATE_OPTS),
        exact: true,
      },
    ];
    if (!suffix) {
      for (const [label, drop] of Object.entries(LEAVE_OUT))
        out.push({ label, state: callerStateFromHash(without(flat, drop), STATE_OPTS), exact: false });
    }
    return out;
  }

  /**
   * Rewrites some 2-hour buckets of the 24 hours before the watermark in the earlier 6-byte layout
   * (attempts, answered, distinct; what the previous script version wrote), among them the
   * watermark's own so the next events rewrite it, adds one such bucket where there was none, and
   * text-layout leftovers the script never reads.
   */
  async function oldLayout(num: string): Promise<void> {
    const kw = keys.numWindows(num);
    const wm = Number(await redis.hget(kw, 'wm'));
    const hi = Math.floor(wm / D2H);
    const fields = await redis.hgetallBuffer(kw);
    const set: (string | Buffer)[] = [];
    for (let k = hi; k >= hi - 12; k -= 3) {
      const old = Buffer.alloc(6);
      const cur = fields[`D${k}`];
      if (cur) cur.copy(old, 0, 0, 6);
      else {
        old.writeUInt16LE(2, 0);
        old.writeUInt16LE(1, 2);
        old.writeUInt16LE(1, 4);
      }
      set.push(`D${k}`, old);
      figures.sixByteD++;
    }
    set.push(`m${Math.floor(wm / 120_000)}`, '3', `h${Math.floor(wm / 600_000)}`, '1,0,0');
    await redis.hset(kw, ...set);
  }

  /**
   * Buckets just past what any window can read (older than window + lateness before the watermark,
   * which housekeeping drops when the next 2-minute bucket opens): the conversion must drop them,
   * not let them take a ring slot a readable bucket needs.
   */
  async function stale(num: string): Promise<void> {
    const kw = keys.numWindows(num);
    const wm = Number(await redis.hget(kw, 'wm'));
    const long = Buffer.alloc(18, 0x11);
    const set: (string | Buffer)[] = [];
    for (const back of [1, 2]) {
      set.push(`M${Math.floor((wm - 600_000 - LATENESS) / 120_000) - back}`, Buffer.from([7, 0]));
      set.push(`H${Math.floor((wm - HOUR - LATENESS) / 600_000) - back}`, Buffer.alloc(14, 0x22));
      set.push(`D${Math.floor((wm - DAY - LATENESS) / D2H) - back}`, long);
      set.push(`Y${Math.floor((wm - 6 * DAY - LATENESS) / DAY) - back}`, long);
      figures.stale += 4;
    }
    await redis.hset(kw, ...set);
  }

  it('converts each hash to a state that reads and applies the next events as the script does', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const num = `lg${seed}`;
      figures.numbers++;
      const cut = T0 + 8 * DAY + Math.floor(prng(seed * 31)() * DAY);
      const steps = traffic(seed, num, 10, cut);
      const split = steps.findIndex((s) => (s.kind === 'own' ? s.ev.t : s.t) >= cut + 3000);
      const history = steps.slice(0, split);
      const next = steps.slice(split);
      // the history: runs of own events in one batch, the received calls between them
      let run: Ev[] = [];
      let seq = 0;
      for (const s of history) {
        if (s.kind === 'own') {
          run.push(s.ev);
          continue;
        }
        if (run.length) figures.history += (await applyAll(num, run)).length;
        run = [];
        await received(num, s, seq++);
      }
      if (run.length) figures.history += (await applyAll(num, run)).length;
      if (seed % 2 === 1) await oldLayout(num);
      else await stale(num);

      const variants = await convert(num, '');
      await compareReads(num, 'at the conversion', variants);

      // (b) the next events, one by one, to the script and to every variant
      const second = Math.floor(next.length / 2);
      for (const [i, s] of next.entries()) {
        if (i === second) {
          const later = await convert(num, ' (second conversion)');
          await compareReads(num, 'at the second conversion', later);
          variants.push(...later);
        }
        if (s.kind === 'in') {
          await received(num, s, seq++);
          continue;
        }
        const e = s.ev;
        const full = variants[0].state;
        const flags =
          e.type === 'A' && full.wouldApply(e)
            ? await callees(num, e)
            : { newDistinct: false, newEver: false };
        const [want] = await applyAll(num, [e]);
        figures.next++;
        figures.statuses[want.status]++;
        const flat = await hash(num);
        const where = `${num} next #${i} ${e.type} ${e.call} t=wm${e.t - want.wm}`;
        for (const v of variants) {
          const ev: StateEvent = { ...e, shortCallS: SHORT_S, ...flags };
          const bit = e.type === 'A' ? 1 : e.type === 'N' ? 2 : 4;
          const mask = v.state.guards.get(e.call)?.mask ?? 0;
          const light = (mask & bit) === 0 && e.type === 'E' && e.talkS === 0 && (mask & 2) === 0;
          const got = emptyWindows(0);
          const status = v.state.apply(ev, got);
          const lines: string[] = [];
          if (status !== want.status) lines.push(`${where} status: state ${status}, script ${want.status}`);
          if (status === CallerStatus.Duplicate || (status === CallerStatus.Applied && !light))
            withReceived(got, flat, got.at);
          if (status !== CallerStatus.Late && (v.state.guards.get(e.call)?.mask ?? 0) !== want.mask)
            lines.push(`${where} mask: state ${v.state.guards.get(e.call)?.mask}, script ${want.mask}`);
          lines.push(...diff(where, got, want.windows));
          note(v.label, lines);
        }
      }
      await compareReads(
        num,
        'after the next events',
        variants.filter((v) => v.exact),
      );
    }

    const report = [...mismatches.entries()].map(([label, m]) => `${label}: ${m.length}`);
    console.log(`legacy windows: ${JSON.stringify(figures)}\nmismatches by variant:\n${report.join('\n')}`);
    for (const [label, m] of mismatches) {
      if (label.startsWith('full'))
        expect({ label, mismatches: m.slice(0, 15) }).toEqual({ label, mismatches: [] });
    }
    // every part left out is caught
    for (const label of Object.keys(LEAVE_OUT))
      expect({ label, caught: (mismatches.get(label) ?? []).length > 0 }).toEqual({ label, caught: true });
    // the histories exercised what they should: duplicates and late events after the conversion,
    // 2-hour buckets of the old layout, buckets the conversion dropped as housekeeping would
    expect(figures.statuses[CallerStatus.Duplicate]).toBeGreaterThan(3);
    expect(figures.statuses[CallerStatus.Late]).toBeGreaterThan(0);
    expect(figures.sixByteD).toBeGreaterThan(5);
    expect(figures.dropped).toBeGreaterThanOrEqual(figures.stale);
    expect(figures.stale).toBeGreaterThan(0);
    // received calls (and calls back) were in the windows compared
    expect(figures.readsWithReceived).toBeGreaterThan(10);
  });

  it('reads the received-call sums as the script does, from strings or Buffers, at any time', async () => {
    const num = 'recv-only';
    const kw = keys.numWindows(num);
    const rnd = prng(4242);
    const t1 = T0 + 9 * DAY;
    const p = redis.multi();
    for (let i = 0; i < 60; i++) {
      const t = t1 - Math.floor(rnd() * 9 * DAY);
      p.hincrby(kw, `J${Math.floor(t / D2H)}`, 1).hincrby(kw, `I${Math.floor(t / DAY)}`, 1);
      if (rnd() < 0.4) p.hincrby(kw, `K${Math.floor(t / D2H)}`, 1).hincrby(kw, `R${Math.floor(t / DAY)}`, 1);
    }
    await p.exec();
    const at = [-3 * DAY, -DAY - 1, -1, 0, 1, 7_199_999, HOUR, DAY, 3 * DAY].map((d) => t1 + d);
    const want = await scriptReads(num, at);
    const flat = await hash(num);
    const asText = await redis.hgetall(kw);
    const asBuffers = await redis.hgetallBuffer(kw);
    for (const [i, t] of at.entries()) {
      const w = want[i];
      const expected = { in1440: w.in24h, back1440: w.calledBack24h, in7d: w.in7d, back7d: w.calledBack7d };
      expect(receivedWindows(flat, t)).toEqual(expected);
      expect(receivedWindows(asText, t)).toEqual(expected);
      expect(receivedWindows(asBuffers, t)).toEqual(expected);
    }
    expect(want.some((w) => w.in24h > 0 && w.calledBack24h > 0 && w.in7d > w.in24h)).toBe(true);
    // a hash with received calls only: the state has nothing of its own, and is not empty
    const s = callerStateFromHash(flat, STATE_OPTS);
    expect(s.empty).toBe(false);
    expect(s.read(t1)).toEqual(emptyWindows(t1));
  });
  it('names the fields the script could not read and leaves them out', async () => {
    const num = 'odd-fields';
    const kw = keys.numWindows(num);
    const wm = T0 + 9 * DAY;
    const m = Math.floor(wm / 120_000);
    const good = Buffer.alloc(14);
    good.writeUInt16LE(4, 0);
    good.writeUInt32LE(70_000, 8);
    await redis.hset(
      kw,
      'wm',
      String(wm),
      'fs',
      String(wm - 3 * DAY),
      `M${m}`,
      Buffer.from([5, 0]),
      `H${Math.floor(wm / 600_000)}`,
      good,
      // a day bucket in the earlier 6-byte layout: the script's read would fail on it
      `Y${Math.floor(wm / DAY)}`,
      Buffer.alloc(6, 1),
      // a 2-minute bucket of another length, a guard that is not mask:tLast, a name nobody writes
      `M${m - 1}`,
      Buffer.alloc(3, 1),
      'ckx',
      'open',
      'zz',
      '1',
      'cgood',
      `3:${wm - 1000}`,
      `m${m}`,
      '9',
    );
    const notes: LegacyConversionNotes = { dropped: 0, unmapped: [] };
    const s = callerStateFromHash(await hash(num), STATE_OPTS, notes);
    expect(notes.unmapped.sort()).toEqual(
      [
        `Y${Math.floor(wm / DAY)}: 6 bytes, no Y bucket has that length`,
        `M${m - 1}: 3 bytes, no M bucket has that length`,
        'ckx: replay guard "open" is not mask:tLast',
        'zz: unknown field',
      ].sort(),
    );
    expect(notes.dropped).toBe(1);
    expect([...s.guards]).toEqual([['good', { mask: 3, last: wm - 1000 }]]);
    expect(s.read(wm)).toMatchObject({
      attempts10m: 5,
      attempts1h: 4,
      talk1h: 70_000,
      attempts7d: 0,
      firstSeen: wm - 3 * DAY,
    });
  });
});
