import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/**
 * One labelled subscriber of the Sichuan fraud-number data (shared/data/sichuan, one row per
 * subscriber aggregated over eight months), reduced to what shapes its calls. See the data's
 * README for the columns; medians fraud vs normal: 1.24 vs 6.76 calls per counterpart, 97 % vs
 * 52 % outgoing, active on 6 vs 31 distinct days of the month.
 */
export interface NumberProfile {
  /** the organiser's pseudonym (128 hex) */
  id: string;
  fraud: boolean;
  /** calls in the eight months, in and out */
  calls: number;
  /** distinct counterparts */
  counterparts: number;
  /** share of calls that are outgoing */
  outShare: number;
  /** distinct days of the month with calls (at most 31) */
  dayOfMonthCount: number;
  /** calls on the busiest day of the month (summed over the months) */
  busiestDayCalls: number;
  /** months with records (at least 1) */
  months: number;
  durMean: number;
  durMedian: number;
  durMax: number;
  /** distinct hours of the day with calls, and the busiest one */
  hourCount: number;
  hourMode: number;
  /** distinct handsets */
  imeis: number;
}

const num = (v: string | undefined): number => (v === undefined || v === '' ? NaN : Number(v));

/** Profiles of the rows with voice records (rows without any call cannot be replayed), in file order. */
export function readProfiles(path: string): { profiles: NumberProfile[]; skipped: number; sha256: string } {
  const raw = readFileSync(path);
  const rows = parse(raw, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const profiles: NumberProfile[] = [];
  let skipped = 0;
  for (const r of rows) {
    const calls = num(r.opposite_count);
    if (!(calls > 0)) {
      skipped++;
      continue;
    }
    const out = num(r.voc_calltype1);
    profiles.push({
      id: r.phone_no_m,
      fraud: r.label === '1',
      calls,
      counterparts: Math.max(1, num(r.opposite_unique) || 1),
      outShare: Number.isFinite(out) ? Math.min(1, Math.max(0, out)) : 0.5,
      dayOfMonthCount: Math.max(1, num(r.voc_day_nunique) || 1),
      busiestDayCalls: Math.max(1, num(r.voc_day_mode_count) || 1),
      months: Math.max(1, num(r.month_ids) || 1),
      durMean: Math.max(1, num(r.call_dur_mean) || 60),
      durMedian: Math.max(1, num(r.call_dur_median) || 30),
      durMax: Math.max(1, num(r.call_dur_max) || 3600),
      hourCount: Math.min(24, Math.max(1, num(r.voc_hour_nunique) || 1)),
      hourMode: Number.isFinite(num(r.voc_hour_mode)) ? num(r.voc_hour_mode) : 10,
      imeis: Math.max(1, Math.round(num(r.imeis) || 1)),
    });
  }
  return { profiles, skipped, sha256: createHash('sha256').update(raw).digest('hex') };
}

/**
 * Active days in the eight months and calls per active day. Days of the month repeat across
 * months, so a number seen on 31 distinct days of the month over 8 months may have up to 248
 * active days; one seen on 6 distinct days in one month had about 6.
 */
export function activity(p: NumberProfile): { activeDays: number; callsPerDay: number; busiestDay: number } {
  const activeDays = Math.max(1, Math.min(p.dayOfMonthCount * p.months, p.calls));
  const callsPerDay = p.calls / activeDays;
  // the busiest day of the month summed over the months it was active in
  const busiestDay = Math.max(
    callsPerDay,
    p.busiestDayCalls / Math.min(p.months, Math.ceil(activeDays / p.dayOfMonthCount)),
  );
  return { activeDays, callsPerDay, busiestDay };
}

/** Deterministic fold of a number (0..k-1) from its pseudonym: the same number is always in the same fold. */
export function foldOf(id: string, k: number, seed: number): number {
  return createHash('sha256').update(`${seed}:${id}`).digest().readUInt32BE(0) % k;
}
