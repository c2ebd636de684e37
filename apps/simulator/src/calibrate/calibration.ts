import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { City } from '../sim/city';
import { drawNormalCall, Generator, normalCandidatesPerMs } from '../sim/generator';
import { ingestV1 } from '@eagle-eye/contracts';
import { CARRIERS, FRAUD, localHour, LOCAL_UTC_OFFSET_MS } from '../sim/model';
import { mix32, Prng } from '../sim/prng';
import { SCENARIOS } from '../sim/scenarios';

/**
 * Per-subscriber aggregates of the Sichuan CSV (voice part), computed the same way from simulated
 * calls so the two can be compared column by column. Only answered calls count: the CSV's voice
 * records are connected calls (call_dur_min is 0 for 11 of 4,144 normal users).
 */
export const COLUMNS = [
  'opposite_count',
  'opposite_unique',
  'phone2opposite_mean',
  'voc_calltype1',
  'voc_day_nunique',
  'voc_day_mode_count',
  'voc_hour_nunique',
  'voc_hour_mode_count',
  'call_dur_mean',
  'call_dur_median',
  'imeis',
] as const;
export type Column = (typeof COLUMNS)[number];
export type Profile = Record<Column, number>;

export interface CsvMedians {
  normal: Profile;
  fraud: Profile;
  normalUsers: number;
  fraudUsers: number;
}

function medianOf(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function mediansOf(rows: Profile[]): Profile {
  const out = {} as Profile;
  for (const c of COLUMNS) out[c] = medianOf(rows.map((r) => r[c]));
  return out;
}

export async function csvMedians(path: string): Promise<CsvMedians> {
  const normal: Profile[] = [];
  const fraud: Profile[] = [];
  const parser = createReadStream(path).pipe(parse({ columns: true, skip_empty_lines: true }));
  for await (const row of parser as AsyncIterable<Record<string, string>>) {
    const p = {} as Profile;
    for (const c of COLUMNS) p[c] = row[c] === '' || row[c] === undefined ? NaN : Number(row[c]);
    (row.label === '1' ? fraud : normal).push(p);
  }
  if (!normal.length || !fraud.length) throw new Error(`${path}: no labelled rows (expected a label column)`);
  return {
    normal: mediansOf(normal),
    fraud: mediansOf(fraud),
    normalUsers: normal.length,
    fraudUsers: fraud.length,
  };
}

/** Accumulates one subscriber's calls the way the CSV's features are built. */
class Ego {
  calls = 0;
  outgoing = 0;
  counterparts = new Map<number | string, number>();
  days = new Map<number, number>();
  hours = new Map<number, number>();
  durations: number[] = [];
  devices = new Set<number | string>();

  add(tMs: number, other: number | string, out: boolean, talkS: number, device?: number | string): void {
    this.calls++;
    if (out) this.outgoing++;
    this.counterparts.set(other, (this.counterparts.get(other) ?? 0) + 1);
    const local = new Date(tMs + LOCAL_UTC_OFFSET_MS);
    const dom = local.getUTCDate();
    this.days.set(dom, (this.days.get(dom) ?? 0) + 1);
    const h = localHour(tMs);
    this.hours.set(h, (this.hours.get(h) ?? 0) + 1);
    this.durations.push(talkS);
    if (device !== undefined) this.devices.add(device);
  }

  profile(): Profile {
    const sum = this.durations.reduce((a, b) => a + b, 0);
    return {
      opposite_count: this.calls,
      opposite_unique: this.counterparts.size,
      phone2opposite_mean: this.calls / Math.max(1, this.counterparts.size),
      voc_calltype1: this.outgoing / Math.max(1, this.calls),
      voc_day_nunique: this.days.size,
      voc_day_mode_count: Math.max(0, ...this.days.values()),
      voc_hour_nunique: this.hours.size,
      voc_hour_mode_count: Math.max(0, ...this.hours.values()),
      call_dur_mean: sum / Math.max(1, this.durations.length),
      call_dur_median: medianOf(this.durations),
      imeis: Math.max(1, this.devices.size),
    };
  }
}

/**
 * Normal subscribers: the generator's own call decision (drawNormalCall) run over `days` days in a
 * city of `size`, every subscriber's calls aggregated like the CSV. Tokens are skipped (they do not
 * change behaviour and cost most of the time).
 */
export function simulateNormal(size: number, days: number, seed: number): Profile {
  const city = new City(size, seed, String(seed));
  const rng = new Prng(mix32(seed, 0xca11)).fork('normal');
  const egos = new Map<number, Ego>();
  const ego = (i: number): Ego => {
    let e = egos.get(i);
    if (!e) egos.set(i, (e = new Ego()));
    return e;
  };
  const start = Date.UTC(2019, 7, 1) - LOCAL_UTC_OFFSET_MS;
  const end = start + days * 86_400_000;
  const perMs = normalCandidatesPerMs(city);
  for (let t = start; t < end; t += rng.exp(1 / perMs)) {
    const c = drawNormalCall(city, rng, t);
    if (!c || c.talkS <= 0) continue;
    ego(c.caller.index).add(t, c.callee.index, true, c.talkS, c.device);
    ego(c.callee.index).add(t, c.caller.index, false, c.talkS);
  }
  // the CSV's users are subscribers with voice records: subscribers who never talked are not in it
  return mediansOf([...egos.values()].map((e) => e.profile()));
}

/**
 * Fan-out numbers: the generator's ring groups in call-centre hours over `days` days (no normal
 * traffic), each number's answered calls aggregated like the CSV. Numbers still alive at the end
 * are left out, so every profile covers a whole lifetime.
 */
export function simulateFraud(days: number, seed: number, rings = 20): { profile: Profile; numbers: number } {
  const scenario = {
    ...SCENARIOS.fanout,
    name: 'calibration',
    fanoutRings: rings,
    attemptRateScale: 1,
    hookRate: FRAUD.hookRate,
    numberLifetimeAttempts: FRAUD.activeDaysMedian * FRAUD.attemptsPerDayMedian, // 6 active days
    workingHoursOnly: true,
    traps: false,
    normalTraffic: false,
  };
  const start = Date.UTC(2019, 7, 1) - LOCAL_UTC_OFFSET_MS;
  const gen = new Generator({
    seed,
    runId: 'calib',
    subscribers: 100_000,
    scenario,
    startMs: start,
    durationMs: days * 86_400_000,
  });
  // tokens differ per carrier: map every carrier's token back to the ring number behind it
  const numberOf = new Map<string, number>();
  for (let g = 0; g < rings; g++)
    for (let n = 0; n < 200; n++) {
      const index = gen.scamBase + g * 1000 + n;
      for (const c of CARRIERS) numberOf.set(gen.city.token(c.id, index), index);
    }
  const deviceOf = new Map<string, string>();
  for (let g = 0; g < rings; g++)
    for (let d = 0; d < 3; d++)
      for (const c of CARRIERS)
        deviceOf.set(gen.city.deviceToken(c.id, gen.scamBase + 150_000 + g, d), `${g}/${d}`);
  const egos = new Map<number, Ego>();
  const last = new Map<number, number>();
  // aggregate from the emitted events themselves: answered calls are CALL_ENDED with talk > 0
  for (let e = gen.next(); e; e = gen.next()) {
    const ev = e.event;
    const out = numberOf.get(ev.caller);
    const n = out ?? numberOf.get(ev.callee);
    if (n === undefined) continue;
    if (ev.type === ingestV1.CallEventType.CALL_ATTEMPT) last.set(n, ev.eventTimeMs);
    if (ev.type !== ingestV1.CallEventType.CALL_ENDED || ev.talkDurationS <= 0) continue;
    let ego = egos.get(n);
    if (!ego) egos.set(n, (ego = new Ego()));
    const answeredMs = ev.eventTimeMs - ev.talkDurationS * 1000;
    if (out !== undefined)
      ego.add(
        answeredMs,
        ev.callee,
        true,
        ev.talkDurationS,
        deviceOf.get(ev.callerDevice) ?? ev.callerDevice,
      );
    else ego.add(answeredMs, ev.caller, false, ev.talkDurationS);
  }
  const end = start + days * 86_400_000;
  // numbers still dialling near the end have not lived their whole life: leave them out
  const complete = [...egos.entries()].filter(([n]) => (last.get(n) ?? end) < end - 3 * 86_400_000);
  return { profile: mediansOf(complete.map(([, e]) => e.profile())), numbers: complete.length };
}

export function formatComparison(
  csv: CsvMedians,
  normal: Profile,
  fraud: Profile,
  fraudNumbers: number,
  normalDesc: string,
): string {
  const f = (x: number): string =>
    Number.isFinite(x) ? (Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1)) : 'n/a';
  const head = ['column (median per subscriber)', 'CSV normal', 'sim normal', 'CSV fraud', 'sim fraud'];
  const rows = COLUMNS.map((c) => [c, f(csv.normal[c]), f(normal[c]), f(csv.fraud[c]), f(fraud[c])]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((x, i) => (i ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  ');
  return [
    `Calibration against the Sichuan CSV (${csv.normalUsers} normal, ${csv.fraudUsers} fraud users; medians over users)`,
    `sim normal: ${normalDesc}; sim fraud: ${fraudNumbers} fan-out numbers over whole lifetimes`,
    '',
    line(head),
    line(head.map((h) => '-'.repeat(h.length))),
    ...rows.map(line),
  ].join('\n');
}
