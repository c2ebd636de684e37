import { englishReason, featureMessage } from '@eagle-eye/contracts';
import type { CallerWindows } from './windows';

/**
 * The caller-risk model's inputs: one definition, computed from the windows by the detector (live,
 * from Redis) and by the trainer (offline, from the reference windows over generated calls).
 * Ratios whose denominator is zero are -1 ("not defined yet"), never a guess.
 *
 * Behaviour builds over hours and days (see DOMAIN.md): volume and distinct counterparts per hour,
 * day and week; how rarely the number calls the same person twice; how new its counterparts are;
 * answered share, talk time, short and long calls; how many 2-hour slots and days it is active in;
 * how many of its answered calls it received rather than placed, and whether anyone it called ever
 * called it back (a scam SIM is almost never called back).
 */
export const FEATURE_NAMES = [
  'attempts10m',
  'attempts1h',
  'distinct1h',
  'attempts24h',
  'distinct24h',
  'callsPerCallee24h',
  'newShare24h',
  'answeredShare24h',
  'talkMean24h',
  'shortShare24h',
  'longShare24h',
  'slots24h',
  'attempts7d',
  'distinct7d',
  'callsPerCallee7d',
  'newShare7d',
  'days7d',
  'talkMean7d',
  'inShare24h',
  'inShare7d',
  'calledBack7d',
  'calledBackShare7d',
  'handsets',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

const ratio = (a: number, b: number): number => (b > 0 ? a / b : -1);

/** Feature vector of a number's windows, in FEATURE_NAMES order (writes into `out` when given). */
export function callerFeatures(w: CallerWindows, out = new Float64Array(FEATURE_COUNT)): Float64Array {
  out[0] = w.attempts10m;
  out[1] = w.attempts1h;
  out[2] = w.distinct1h;
  out[3] = w.attempts24h;
  out[4] = w.distinct24h;
  out[5] = ratio(w.attempts24h, w.distinct24h);
  out[6] = ratio(w.newEver24h, w.attempts24h);
  out[7] = ratio(w.answered24h, w.attempts24h);
  out[8] = ratio(w.talk24h, w.ended24h);
  out[9] = ratio(w.short24h, w.ended24h);
  out[10] = ratio(w.long24h, w.ended24h);
  out[11] = w.slots24h;
  out[12] = w.attempts7d;
  out[13] = w.distinct7d;
  out[14] = ratio(w.attempts7d, w.distinct7d);
  out[15] = ratio(w.newEver7d, w.attempts7d);
  out[16] = w.days7d;
  out[17] = ratio(w.talk7d, w.ended7d);
  out[18] = ratio(w.in24h, w.attempts24h + w.in24h);
  out[19] = ratio(w.in7d, w.attempts7d + w.in7d);
  out[20] = w.calledBack7d;
  out[21] = ratio(w.calledBack7d, w.distinct7d);
  out[22] = w.handsets;
  return out;
}

const pct = (x: number): number => Math.round(x * 100);

/**
 * A feature's figure as an alert's reason shows it (a count, a percentage, calls per person with
 * two decimals): the parameter of its message in libs/contracts (REASON_MESSAGES_EN.features).
 */
export function featureFigure(name: FeatureName, w: CallerWindows): number | string {
  switch (name) {
    case 'attempts10m':
    case 'attempts1h':
    case 'distinct1h':
    case 'attempts24h':
    case 'distinct24h':
    case 'slots24h':
    case 'attempts7d':
    case 'distinct7d':
    case 'days7d':
    case 'calledBack7d':
    case 'handsets':
      return w[name];
    case 'callsPerCallee24h':
      return ratio(w.attempts24h, w.distinct24h).toFixed(2);
    case 'newShare24h':
      return pct(ratio(w.newEver24h, w.attempts24h));
    case 'answeredShare24h':
      return pct(ratio(w.answered24h, w.attempts24h));
    case 'talkMean24h':
      return Math.round(ratio(w.talk24h, w.ended24h));
    case 'shortShare24h':
      return pct(ratio(w.short24h, w.ended24h));
    case 'longShare24h':
      return pct(ratio(w.long24h, w.ended24h));
    case 'callsPerCallee7d':
      return ratio(w.attempts7d, w.distinct7d).toFixed(2);
    case 'newShare7d':
      return pct(ratio(w.newEver7d, w.attempts7d));
    case 'talkMean7d':
      return Math.round(ratio(w.talk7d, w.ended7d));
    case 'inShare24h':
      return pct(1 - ratio(w.in24h, w.attempts24h + w.in24h));
    case 'inShare7d':
      return pct(1 - ratio(w.in7d, w.attempts7d + w.in7d));
    case 'calledBackShare7d':
      return pct(Math.max(0, ratio(w.calledBack7d, w.distinct7d)));
  }
}

/** A feature in plain English, for an alert's reasons ("called 31 different people in 24 hours"). */
export function describeFeature(name: FeatureName, w: CallerWindows): string {
  const v = featureFigure(name, w);
  return englishReason(`features.${featureMessage(name, v)}`, { [name]: v });
}
