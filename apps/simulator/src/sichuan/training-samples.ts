import { callerFeatures, FEATURE_COUNT, LONG_CALL_S, ReferenceWindows } from '@eagle-eye/scoring';
import { numberCalls, ReplayCall } from './number-stream';
import { foldOf, NumberProfile } from './profile';

export interface SampleOptions {
  seed: number;
  folds: number;
  /** calendar days replayed per number */
  days: number;
  startMs: number;
  /** most samples kept per number and active day (evenly spaced over its calls) */
  perDay: number;
  shortCallS: number;
  latenessMs: number;
}

export interface SampleSet {
  /** number index (into the profiles), fold, label, active day, weight, then the features */
  rows: Float64Array[];
  numbers: number;
  calls: number;
}

/**
 * What reaches one number's windows, in event-time order as the detector gets it: the caller-side
 * events of its outgoing calls ('A', 'N', 'E') and the ends of the calls it received ('I'). Ties
 * keep the calls' order (a stable sort).
 */
export function numberEvents(
  calls: ReplayCall[],
): { t: number; type: 'A' | 'N' | 'E' | 'I'; c: ReplayCall }[] {
  const evs: { t: number; type: 'A' | 'N' | 'E' | 'I'; c: ReplayCall }[] = [];
  for (const c of calls) {
    if (c.outgoing)
      evs.push({ t: c.startMs, type: 'A', c }, { t: c.answerMs, type: 'N', c }, { t: c.endMs, type: 'E', c });
    else evs.push({ t: c.endMs, type: 'I', c });
  }
  return evs.sort((a, b) => a.t - b.t);
}

/**
 * Replays every profiled number's calls through the reference windows (the detector's windows,
 * computed offline) and takes the feature vector after each outgoing attempt: the moment the
 * detector scores a caller. Each number weighs the same in training whatever its volume.
 */
export function trainingSamples(
  profiles: NumberProfile[],
  o: SampleOptions,
  progress?: (done: number) => void,
): SampleSet {
  const rows: Float64Array[] = [];
  let calls = 0;
  profiles.forEach((p, idx) => {
    const cs = numberCalls(p, { seed: o.seed, days: o.days, startMs: o.startMs });
    calls += cs.length;
    const win = new ReferenceWindows({
      shortCallS: o.shortCallS,
      longCallS: LONG_CALL_S,
      latenessMs: o.latenessMs,
    });
    const byDay = new Map<number, Float64Array[]>();
    for (const e of numberEvents(cs)) {
      if (e.type === 'I') {
        win.incoming({ t: e.t, caller: e.c.caller, talkS: e.c.talkS });
        continue;
      }
      const { status, windows } = win.apply({
        t: e.t,
        type: e.type,
        call: e.c.call,
        callee: e.c.callee,
        talkS: e.type === 'E' ? e.c.talkS : 0,
        device: e.c.device,
      });
      if (e.type !== 'A' || status !== 0) continue;
      const x = callerFeatures(windows);
      const row = new Float64Array(5 + FEATURE_COUNT);
      row.set([idx, foldOf(p.id, o.folds, o.seed), p.fraud ? 1 : 0, e.c.activeDay, 0]);
      row.set(x, 5);
      const list = byDay.get(e.c.activeDay) ?? [];
      list.push(row);
      byDay.set(e.c.activeDay, list);
    }
    const kept: Float64Array[] = [];
    for (const list of byDay.values()) {
      const step = list.length / Math.min(o.perDay, list.length);
      for (let i = 0; i < Math.min(o.perDay, list.length); i++) kept.push(list[Math.floor(i * step)]);
    }
    for (const r of kept) r[4] = 1 / kept.length;
    rows.push(...kept);
    progress?.(idx + 1);
  });
  return { rows, numbers: profiles.length, calls };
}
