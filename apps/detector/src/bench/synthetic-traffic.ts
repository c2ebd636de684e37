import { randomBytes } from 'node:crypto';
import { HandoffEvent } from '@eagle-eye/contracts';
import { DetectionOptions } from '../pipeline/work';

/** The detection settings the measurements run with (the detector's defaults, 16 partitions). */
export const BENCH_DETECTION_OPTIONS: DetectionOptions = {
  latenessMs: 120_000,
  windowTtlS: 26 * 3600,
  historyTtlS: 8 * 86400 + 3600,
  familiarTtlS: 30 * 86400,
  dueShards: 16,
  dueLeaseMs: 5000,
  partitions: 16,
};

/** Deterministic-enough synthetic traffic for measurements: ordinary subscribers and fan-out numbers. */
export function tokenOf(i: number, salt: string): string {
  return `p1.b.${Buffer.from(`${salt}:${i}`).toString('base64url').padEnd(22, 'A').slice(-22)}`;
}

export interface TrafficOptions {
  subscribers: number;
  callsPerSubscriber: number;
  scammers: number;
  callsPerScammer: number;
  start: number;
  /** spread of the calls, ms */
  spanMs: number;
}

/** The events of the traffic, in event-time order. */
export function syntheticTraffic(o: TrafficOptions): HandoffEvent[] {
  const salt = randomBytes(4).toString('hex');
  const subs = Array.from({ length: o.subscribers }, (_, i) => tokenOf(i, salt));
  const out: HandoffEvent[] = [];
  let n = 0;
  const push = (caller: string, callee: string, t: number, talk: number) => {
    const call = `b${n++}`;
    const base = {
      call,
      caller,
      callee,
      cls: 'MOBILE' as const,
      country: 'CN',
      att: 'A' as const,
      mis: false,
      region: '510100',
      age: '29_45' as const,
      rx: 0,
    };
    out.push({ ...base, id: `${call}a`, type: 'ATTEMPT', t });
    if (talk > 0) out.push({ ...base, id: `${call}n`, type: 'ANSWERED', t: t + 6000 });
    out.push({ ...base, id: `${call}e`, type: 'ENDED', t: t + 6000 + talk * 1000, talk });
  };
  for (let i = 0; i < o.subscribers; i++) {
    for (let c = 0; c < o.callsPerSubscriber; c++) {
      const callee = subs[(i * 7 + c * 13 + 1) % o.subscribers];
      const answered = (i + c) % 5 !== 0;
      push(
        subs[i],
        callee,
        o.start + Math.floor((((i * 31 + c * 977) % 1000) / 1000) * o.spanMs),
        answered ? 20 + ((i + c) % 200) : 0,
      );
    }
  }
  for (let s = 0; s < o.scammers; s++) {
    const scammer = tokenOf(1_000_000 + s, salt);
    for (let c = 0; c < o.callsPerScammer; c++) {
      const callee = subs[(s * 101 + c * 17) % o.subscribers];
      push(scammer, callee, o.start + Math.floor((c / o.callsPerScammer) * o.spanMs), c % 10 === 0 ? 8 : 0);
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

/**
 * One hour of the benchmarks' traffic from `start` (subscribers making three calls, a fan-out
 * number per 2,000 of them), its tokens replaced by fixed ones in order of first appearance (the
 * generator salts them per run): the same numbers, so the same key groups and the same script
 * calls, in every run, and the same numbers in every hour (each hour's calls follow the same
 * pattern, so its k-th new token is the same subscriber's). `salt` keeps benchmarks apart.
 */
export function fixedHourOfTraffic(subscribers: number, start: number, salt: string): HandoffEvent[] {
  const tokens = new Map<string, string>();
  const events = syntheticTraffic({
    subscribers,
    callsPerSubscriber: 3,
    scammers: Math.max(1, Math.floor(subscribers / 2000)),
    callsPerScammer: 300,
    start,
    spanMs: 3600_000,
  });
  const fixed = (t: string): string => {
    let v = tokens.get(t);
    if (!v) tokens.set(t, (v = tokenOf(tokens.size, salt)));
    return v;
  };
  return events.map((e) => ({ ...e, caller: fixed(e.caller), callee: fixed(e.callee) }));
}
