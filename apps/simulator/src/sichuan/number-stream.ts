import { HOUR_PROFILE } from '../sim/model';
import { hash32, Prng } from '../sim/prng';
import { activity, NumberProfile } from './profile';

/** One call of a replayed number (answered: the source data holds answered calls only). */
export interface ReplayCall {
  call: string;
  caller: string;
  callee: string;
  /** the profiled number this call belongs to, and whether it placed the call */
  subject: string;
  outgoing: boolean;
  fraud: boolean;
  startMs: number;
  answerMs: number;
  endMs: number;
  talkS: number;
  device: string;
  /** index of the subject's active day the call falls on (0 = its first) */
  activeDay: number;
}

export interface StreamOptions {
  seed: number;
  /** calendar days to play */
  days: number;
  /** a UTC midnight: the number's local (UTC+8) days start 8 hours before it */
  startMs: number;
  /** token of the subject number (default: its profile id) */
  token?: string;
  /** makes a counterpart token (default `${subject}-c${i}`) */
  counterpartToken?: (subject: string, i: number) => string;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Poisson draw (Knuth for small means, a normal approximation above 50). */
function poisson(r: Prng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * r.normal()));
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r.next();
  } while (p > l);
  return k - 1;
}

/** Gamma(2, 1/2): mean 1, the day-to-day spread of a number's activity. */
function dayFactor(r: Prng): number {
  return (r.exp(1) + r.exp(1)) / 2;
}

/**
 * The hours of the (local, UTC+8) day the number calls in: its busiest hour plus others drawn by
 * the population's hour curve, as many as the profile's distinct hours.
 */
function hoursOf(p: NumberProfile, r: Prng): number[] {
  const hours = new Set<number>([Math.min(23, Math.max(0, Math.floor(p.hourMode)))]);
  const pool: [number, number][] = HOUR_PROFILE.map((w, h) => [h, w]);
  while (hours.size < p.hourCount) {
    const h = r.weighted(pool.filter(([x]) => !hours.has(x)));
    hours.add(h);
  }
  return [...hours];
}

/**
 * The calls of one profiled number over `days` calendar days, its first active day first. Faithful
 * to the row: calls per active day (and its day-to-day spread, capped by the busiest day), the
 * outgoing share, the share of calls to a counterpart not called before (distinct counterparts /
 * calls), talk time (log-normal through the row's median and mean, capped by its maximum), the
 * hours of the day it is active in, its handsets, and how often it is active at all.
 */
export function numberCalls(p: NumberProfile, o: StreamOptions): ReplayCall[] {
  const r = new Prng(hash32(`${o.seed}:${p.id}`));
  const subject = o.token ?? p.id;
  const cpToken = o.counterpartToken ?? ((s: string, i: number) => `${s}-c${i}`);
  const { activeDays, callsPerDay, busiestDay } = activity(p);
  const spanDays = Math.max(activeDays, p.months * 30.4);
  const activeChance = Math.min(1, activeDays / spanDays);
  const newShare = Math.min(1, p.counterparts / p.calls);
  const sigma =
    p.durMean > p.durMedian ? Math.min(1.8, Math.sqrt(2 * Math.log(p.durMean / p.durMedian))) : 0.3;
  const hours = hoursOf(p, r);
  const hourWeights: [number, number][] = hours.map((h, i) => [h, i === 0 ? 2 : 1]);
  // counterparts known to the number before the replay starts (unknown to a fresh detector)
  const known = Math.min(p.counterparts, Math.max(1, Math.round(p.counterparts * (1 - newShare) * 0.2)));
  const pool: string[] = [];
  let nextCp = 0;
  for (let i = 0; i < known; i++) pool.push(cpToken(subject, nextCp++));
  const devices = Array.from({ length: p.imeis }, (_, i) => `${subject}-d${i}`);

  const calls: ReplayCall[] = [];
  let activeDay = -1;
  let seq = 0;
  for (let d = 0; d < o.days; d++) {
    if (d > 0 && !r.chance(activeChance)) continue;
    activeDay++;
    const cap = Math.max(1, Math.ceil(busiestDay * 1.2));
    const n = Math.min(cap, Math.max(d === 0 ? 1 : 0, poisson(r, callsPerDay * dayFactor(r))));
    for (let i = 0; i < n; i++) {
      let cp: string;
      if (!pool.length || r.chance(newShare)) {
        cp = cpToken(subject, nextCp++);
        pool.push(cp);
      } else {
        // regular contacts: the earlier a contact was made, the likelier it is called again
        cp = pool[Math.min(pool.length - 1, Math.floor(pool.length * r.next() * r.next()))];
      }
      const outgoing = r.chance(p.outShare);
      const startMs =
        o.startMs + d * DAY - 8 * HOUR + r.weighted(hourWeights) * HOUR + Math.floor(r.next() * HOUR);
      const answerMs = startMs + 3000 + Math.floor(r.next() * 12_000);
      const talkS = Math.max(1, Math.min(p.durMax, Math.round(r.lognormal(p.durMedian, sigma))));
      calls.push({
        call: `${subject}-k${seq++}`,
        caller: outgoing ? subject : cp,
        callee: outgoing ? cp : subject,
        subject,
        outgoing,
        fraud: p.fraud,
        startMs,
        answerMs,
        endMs: answerMs + talkS * 1000,
        talkS,
        device: r.pick(devices),
        activeDay,
      });
    }
  }
  return calls.sort((a, b) => a.startMs - b.startMs);
}
