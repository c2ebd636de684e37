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

const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** A feature in plain words, for an alert's reasons ("called 31 different people in 24 hours"). */
export function describeFeature(name: FeatureName, w: CallerWindows): string {
  switch (name) {
    case 'attempts10m':
      return `${w.attempts10m} calls in the last 10 minutes`;
    case 'attempts1h':
      return `${w.attempts1h} calls in the last hour`;
    case 'distinct1h':
      return `called ${w.distinct1h} different people in the last hour`;
    case 'attempts24h':
      return `${w.attempts24h} calls in 24 hours`;
    case 'distinct24h':
      return `called ${w.distinct24h} different people in 24 hours`;
    case 'callsPerCallee24h':
      return `${ratio(w.attempts24h, w.distinct24h).toFixed(2)} calls per person in 24 hours`;
    case 'newShare24h':
      return `${pct(ratio(w.newEver24h, w.attempts24h))} of today's calls to people it never called before`;
    case 'answeredShare24h':
      return `${pct(ratio(w.answered24h, w.attempts24h))} of its calls answered`;
    case 'talkMean24h':
      return `talks ${Math.round(ratio(w.talk24h, w.ended24h))} s per answered call`;
    case 'shortShare24h':
      return `${pct(ratio(w.short24h, w.ended24h))} of answered calls hung up within seconds`;
    case 'longShare24h':
      return `${pct(ratio(w.long24h, w.ended24h))} of answered calls last over 3 minutes`;
    case 'slots24h':
      return `calling in ${w.slots24h} of the last twelve 2-hour slots`;
    case 'attempts7d':
      return `${w.attempts7d} calls in 7 days`;
    case 'distinct7d':
      return `called ${w.distinct7d} different people in 7 days`;
    case 'callsPerCallee7d':
      return `${ratio(w.attempts7d, w.distinct7d).toFixed(2)} calls per person in 7 days`;
    case 'newShare7d':
      return `${pct(ratio(w.newEver7d, w.attempts7d))} of the week's calls to people it never called before`;
    case 'days7d':
      return `active on ${w.days7d} of the last 7 days`;
    case 'talkMean7d':
      return `talks ${Math.round(ratio(w.talk7d, w.ended7d))} s per answered call this week`;
    case 'inShare24h':
      return `${pct(1 - ratio(w.in24h, w.attempts24h + w.in24h))} of today's calls outgoing`;
    case 'inShare7d':
      return `${pct(1 - ratio(w.in7d, w.attempts7d + w.in7d))} of the week's calls outgoing`;
    case 'calledBack7d':
      return w.calledBack7d === 0
        ? 'nobody it called has called back'
        : `${w.calledBack7d} calls back from people it called this week`;
    case 'calledBackShare7d':
      return `${pct(Math.max(0, ratio(w.calledBack7d, w.distinct7d)))} of the people it called this week called back`;
    case 'handsets':
      return `calls from ${w.handsets} different handset${w.handsets === 1 ? '' : 's'}`;
  }
}
