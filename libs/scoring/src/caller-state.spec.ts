import { CallerState, StateEvent } from './caller-state';
import { ReferenceEvent, ReferenceWindows } from './reference-windows';
import { CallerWindows, emptyWindows, LONG_CALL_S, WINDOW } from './windows';

const { day: DAY, hour: HOUR } = WINDOW;
const LATE = 120_000;
const SHORT_S = 10;
const DAY0 = 20_460 * DAY;

/** mulberry32: a seeded generator, so a failing sequence can be replayed */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Step {
  ev: ReferenceEvent;
  /** an incoming answered call (the callee side) instead of an event of the number's own */
  incoming?: { caller: string; talkS: number };
}

/**
 * One number's traffic over `days` days: bursts of calls (a scammer's hour, a quiet day),
 * answered or not, with talk short and long, events a little out of order within the lateness,
 * redeliveries of events already applied, a few events older than the lateness, and calls
 * received (some from numbers it called).
 */
function traffic(seed: number, days: number): Step[] {
  const r = rng(seed);
  const steps: (Step & { order: number })[] = [];
  const callees = Array.from({ length: 40 }, (_, i) => `c${i}`);
  const regions = ['510100', '510700', '440300', '110000', ''];
  let call = 0;
  let t = DAY0 + Math.floor(r() * HOUR);
  const end = DAY0 + days * DAY;
  while (t < end) {
    // bursts of closely spaced calls, then a pause of minutes to hours
    const burst = 1 + Math.floor(r() * 12);
    for (let b = 0; b < burst; b++) {
      const id = `k${call++}`;
      const callee = callees[Math.floor(r() * (r() < 0.5 ? 5 : callees.length))];
      const region = regions[Math.floor(r() * regions.length)];
      const answered = r() < 0.6;
      const talk = answered ? (r() < 0.3 ? Math.floor(r() * SHORT_S) : Math.floor(r() * 400)) : 0;
      const jitter = () => (r() < 0.2 ? -Math.floor(r() * LATE * 0.9) : 0);
      const base = { call: id, callee, talkS: 0, region, device: r() < 0.5 ? `d${Math.floor(r() * 3)}` : '' };
      steps.push({ ev: { ...base, t, type: 'A' }, order: t + jitter() });
      if (answered) steps.push({ ev: { ...base, t: t + 4000, type: 'N' }, order: t + 4000 + jitter() });
      const te = t + 4000 + talk * 1000;
      steps.push({ ev: { ...base, t: te, type: 'E', talkS: talk }, order: te + jitter() });
      t += 5_000 + Math.floor(r() * 90_000);
    }
    if (r() < 0.3) {
      steps.push({
        ev: { t, type: 'E', call: 'in', callee: '', talkS: 0 },
        incoming: { caller: callees[Math.floor(r() * 8)], talkS: Math.floor(r() * 300) },
        order: t,
      });
    }
    t += Math.floor(r() < 0.2 ? r() * 20 * HOUR : r() * 40 * 60_000);
  }
  steps.sort((a, b) => a.order - b.order);
  // redeliveries of events already applied, and events older than the lateness
  const out: Step[] = [];
  for (const [i, s] of steps.entries()) {
    out.push(s);
    if (r() < 0.05) out.push(steps[Math.max(0, i - Math.floor(r() * 6))]);
    if (r() < 0.01 && !s.incoming) out.push({ ev: { ...s.ev, call: `late${call++}`, t: s.ev.t - 3 * LATE } });
  }
  return out;
}

const opts = { shortCallS: SHORT_S, longCallS: LONG_CALL_S, latenessMs: LATE };

/**
 * Replays the steps through the reference and through CallerState (its state encoded and decoded
 * after every step, as the owner writes it to Redis and a new owner reads it back), computing the
 * day's distinct callees and familiarity as PFADD and HSETNX would answer them.
 */
function replay(steps: Step[]): { compared: number; statuses: number[] } {
  const ref = new ReferenceWindows(opts);
  let state = new CallerState(opts);
  const daySets = new Map<number, Set<string>>();
  const familiar = new Set<string>();
  const statuses = [0, 0, 0];
  let compared = 0;
  const got: CallerWindows = emptyWindows(0);
  for (const [n, s] of steps.entries()) {
    if (s.incoming) {
      ref.incoming({ t: s.ev.t, caller: s.incoming.caller, talkS: s.incoming.talkS });
      if (s.incoming.talkS > 0) state.incoming(s.ev.t, familiar.has(s.incoming.caller));
      continue;
    }
    const ev = s.ev;
    let newDistinct = false;
    let newEver = false;
    if (ev.type === 'A' && state.wouldApply(ev)) {
      const day = Math.floor(ev.t / DAY);
      let seen = daySets.get(day);
      if (!seen) daySets.set(day, (seen = new Set()));
      newDistinct = !seen.has(ev.callee);
      seen.add(ev.callee);
      newEver = !familiar.has(ev.callee);
      familiar.add(ev.callee);
    }
    const want = ref.apply(ev);
    const bit = ev.type === 'A' ? 1 : ev.type === 'N' ? 2 : 4;
    if (want.status === 2 && ((state.guards.get(ev.call)?.mask ?? 0) & bit) !== 0) {
      // the script (and CallerState) count a redelivery its call's guard holds as a duplicate
      // however old, reading the windows at the watermark; the reference calls it late
      want.status = 1 as 2;
      want.windows = ref.read(want.windows.at);
    }
    const se: StateEvent = {
      t: ev.t,
      type: ev.type,
      call: ev.call,
      talkS: ev.talkS,
      shortCallS: SHORT_S,
      region: ev.region ?? '',
      device: ev.device ?? '',
      newDistinct,
      newEver,
    };
    const status = state.apply(se, got);
    if (status !== want.status || JSON.stringify(got) !== JSON.stringify(want.windows)) {
      throw new Error(
        `step ${n} (${JSON.stringify(ev)}): status ${status}, reference ${want.status}\n` +
          `got  ${JSON.stringify(got)}\nwant ${JSON.stringify(want.windows)}`,
      );
    }
    statuses[status]++;
    compared++;
    state = CallerState.decode(state.encode(), opts);
  }
  return { compared, statuses };
}

describe("CallerState (design B: a number's windows in the detector)", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'reads what the reference reads after every event of a 9-day random history (seed %i), through encode and decode',
    (seed) => {
      const { compared, statuses } = replay(traffic(seed, 9));
      expect(compared).toBeGreaterThan(200);
      // the sequences do exercise duplicates and late events
      expect(statuses[1]).toBeGreaterThan(0);
      expect(statuses[2]).toBeGreaterThan(0);
    },
  );

  it('counts a received call in the 24 hours and the 7 days, and a call back when the number had called the caller', () => {
    const s = new CallerState(opts);
    const base = { type: 'A' as const, talkS: 0, shortCallS: SHORT_S, region: '', device: '' };
    s.apply({ ...base, t: DAY0, call: 'x1', newDistinct: true, newEver: true });
    s.incoming(DAY0 + HOUR, true);
    s.incoming(DAY0 + 2 * HOUR, false);
    expect(s.read(DAY0 + 3 * HOUR)).toMatchObject({ in24h: 2, calledBack24h: 1, in7d: 2, calledBack7d: 1 });
    expect(s.read(DAY0 + 2 * DAY)).toMatchObject({ in24h: 0, in7d: 2 });
  });

  it('keeps counters at their limits through encode and decode, and refuses a string cut inside a ring', () => {
    const s = new CallerState(opts);
    s.apply({
      t: DAY0,
      type: 'A',
      call: 'x1',
      talkS: 0,
      shortCallS: SHORT_S,
      region: '',
      device: '',
      newDistinct: true,
      newEver: true,
    });
    const k = Math.floor(DAY0 / (2 * HOUR));
    // talk seconds past 2^31 (unsigned 32-bit), 16-bit counters at 65535
    s.setBucket('D', k, [65535, 65535, 1, 2, 3_000_000_000, 65535, 7, 8]);
    s.setBucket('H', Math.floor(DAY0 / 600_000), [65535, 1, 2, 3, 4_294_967_295, 5]);
    s.incoming(DAY0 + 1000, true);
    const blob = s.encode();
    const back = CallerState.decode(blob, opts);
    expect(back.read(DAY0 + 1000)).toEqual(s.read(DAY0 + 1000));
    expect(back.read(DAY0 + 1000)).toMatchObject({ attempts24h: 65535, talk24h: 3_000_000_000 });
    expect(back.encode()).toEqual(blob);
    // cut after the ring counts' first bytes: every ring must be whole
    expect(() => CallerState.decode(blob.subarray(0, 60), opts)).toThrow();
  });

  it('keeps a busy number under a kilobyte and refuses a string it did not write', () => {
    const s = new CallerState(opts);
    for (let k = 0; k < 300; k++) {
      const t = DAY0 + k * 20_000;
      const base = { call: `f${k}`, talkS: 0, shortCallS: SHORT_S, region: '510100', device: '' };
      s.apply({ ...base, t, type: 'A', newDistinct: true, newEver: true });
      s.apply({ ...base, t: t + 9000, type: 'E', newDistinct: false, newEver: false });
    }
    s.rev = 7;
    const blob = s.encode();
    // a fan-out number's open guards are those within the lateness
    expect(blob.length).toBeLessThan(1024);
    expect(CallerState.decode(blob, opts).read(DAY0 + 300 * 20_000)).toEqual(s.read(DAY0 + 300 * 20_000));
    expect(CallerState.decode(blob, opts).rev).toBe(7);
    expect(() => CallerState.decode(Buffer.from('nope'), opts)).toThrow(/not a version 2 state/);
    expect(() => CallerState.decode(blob.subarray(0, blob.length - 3), opts)).toThrow();
  });
});
