/**
 * Behavioural constants of the synthetic city, calibrated against the Sichuan labelled data
 * (`npm run calibrate` prints the comparison). Sources: ../shared/data/README.md and the CSV itself.
 */
import { lognormalSigma } from './prng';

export const CARRIERS = [
  { id: 'carrier-a', share: 0.6, keyId: 'sima' },
  { id: 'carrier-b', share: 0.4, keyId: 'simb' },
] as const;
export type CarrierId = (typeof CARRIERS)[number]['id'];

/** Sichuan prefectures; Chengdu and Mianyang are the demo police regions. Weights ~ population. */
export const REGIONS: readonly (readonly [string, number])[] = [
  ['510100', 0.36], // Chengdu
  ['510700', 0.1], // Mianyang
  ['510600', 0.07], // Deyang
  ['511300', 0.11], // Nanchong
  ['510500', 0.08], // Luzhou
  ['511100', 0.06], // Leshan
  ['510900', 0.06], // Suining
  ['511000', 0.06], // Neijiang
  ['510300', 0.05], // Zigong
  ['510800', 0.05], // Guangyuan
];

export type AgeBandName = 'UNDER_18' | '18_28' | '29_45' | '46_64' | '65_PLUS' | 'UNKNOWN';
export const AGE_BANDS: readonly (readonly [AgeBandName, number])[] = [
  ['UNDER_18', 0.07],
  ['18_28', 0.18],
  ['29_45', 0.31],
  ['46_64', 0.28],
  ['65_PLUS', 0.12],
  ['UNKNOWN', 0.04],
];
/** How much more likely a band is to stay on a scam call (18-28 most often, older people lose most). */
export const HOOK_SUSCEPTIBILITY: Record<AgeBandName, number> = {
  UNDER_18: 0.8,
  '18_28': 1.6,
  '29_45': 0.8,
  '46_64': 1.0,
  '65_PLUS': 1.4,
  UNKNOWN: 1.0,
};

/** Share of calls per local hour (Asia/Shanghai), a day-shaped curve with lunch and evening peaks. */
const HOUR_WEIGHTS = [
  0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 1, 2.5, 4.5, 6, 6.5, 6.2, 5, 4.8, 5.8, 6.2, 6.2, 6.2, 5.5, 5.5, 5.5, 4.8,
  3.2, 1.6,
];
const HOUR_MEAN = HOUR_WEIGHTS.reduce((a, b) => a + b, 0) / 24;
/** hour-of-day intensity relative to the daily mean (mean 1 over a day) */
export const HOUR_PROFILE = HOUR_WEIGHTS.map((w) => w / HOUR_MEAN);
export const HOUR_PROFILE_MAX = Math.max(...HOUR_PROFILE);
export const LOCAL_UTC_OFFSET_MS = 8 * 3600_000;

export function localHour(tMs: number): number {
  return Math.floor(((tMs + LOCAL_UTC_OFFSET_MS) % 86_400_000) / 3_600_000);
}

/** Normal subscribers (label 0 in the CSV). */
export const NORMAL = {
  /** outgoing calls per day of a subscriber of median activity (CSV: 463 calls in ~243 days, in+out) */
  outgoingPerDay: 1.0,
  /** log-normal spread of personal activity, capped so rejection sampling stays cheap */
  activitySigma: 0.55,
  activityCap: 6,
  /** answered share of call attempts */
  answerRate: 0.86,
  /** talk time of answered calls: median 34 s, mean 81 s (raw voice table) */
  talkMedianS: 34,
  talkSigma: lognormalSigma(34, 81),
  /** contacts are ranked; rank k is called with weight 1/(k+1)^zipf */
  contactsMedian: 28,
  contactsSigma: 0.6,
  contactsMax: 220,
  zipf: 1.15,
  /** share of calls to someone outside the contact list */
  strangerShare: 0.03,
  /** share of subscribers with a second handset (CSV imeis: median 1) */
  secondDeviceShare: 0.2,
};

/**
 * Scam numbers (label 1 in the CSV): lifetime, volume and durations of fan-out numbers.
 *
 * Calibration (../shared/data/README.md): fraud numbers make a median 36 calls per active day to
 * 22 distinct callees, 1.24 calls per counterpart over their life, 97 % outgoing, on a median 6
 * days; the source holds answered calls only, so the attempts behind them are not a flood. A number
 * of median activity here makes 38 first attempts per active day (call-centre hours), 70 % of them
 * answered, and redials 34 % of the people who answered (1 + 0.7 x 0.34 = 1.24 answered calls per
 * answered counterpart): ~33 answered calls a day to ~27 distinct people, 47 attempts in all, about
 * 4 an hour. The exaggerated profile the project used before (90 attempts a day, 40 % answered, at
 * four times the rate) lives on as the `stress-*` scenarios.
 */
export interface FanoutProfile {
  /** first attempts to a new person per active day (call-centre hours), median over numbers */
  attemptsPerDayMedian: number;
  attemptsPerDaySigma: number;
  /** answered share of attempts */
  answerRate: number;
  /** share of answered calls the same number dials again later ("we were cut off") */
  redialShare: number;
}

export const FRAUD = {
  /** distinct active days, median 6 */
  activeDaysMedian: 6,
  activeDaysSigma: 0.8,
  /** see FanoutProfile: 38 first attempts a day, 70 % answered, 34 % redialled */
  attemptsPerDayMedian: 38,
  attemptsPerDaySigma: 0.7,
  answerRate: 0.7,
  /** answered calls the callee hangs up quickly: median 35 s */
  nuisanceTalkMedianS: 35,
  nuisanceTalkSigma: 1.1,
  /** working hours of a call centre (local) */
  firstHour: 9,
  lastHour: 20,
  /** share of answered calls followed by the callee calling back (CSV: 96-97 % outgoing) */
  callbackShare: 0.05,
  /** share of answered calls the same number dials again later (CSV: 1.24 calls per counterpart) */
  redialShare: 0.34,
  /** share of answered calls that turn into a long scam call in the wild (the evaluation boosts it) */
  hookRate: 0.01,
  /** handsets per fan-out number (CSV imeis: median 2) */
  devicesPerRing: [1, 2] as const,
};

/** The calibrated fan-out profile (the `default` scenario and every scenario that does not override it). */
export const FRAUD_PROFILE: FanoutProfile = {
  attemptsPerDayMedian: FRAUD.attemptsPerDayMedian,
  attemptsPerDaySigma: FRAUD.attemptsPerDaySigma,
  answerRate: FRAUD.answerRate,
  redialShare: FRAUD.redialShare,
};

/** The project's earlier, exaggerated profile: flood-like attempts (the `stress-*` scenarios). */
export const STRESS_PROFILE: FanoutProfile = {
  attemptsPerDayMedian: 90,
  attemptsPerDaySigma: 0.7,
  answerRate: 0.4,
  redialShare: 0.35,
};

/** Legitimate high-volume callers: the false-positive traps. */
export interface TrapKind {
  kind: 'courier' | 'bank' | 'hospital' | 'hotline' | 'telemarketing' | 'ride_hailing';
  /** numbers of this kind per 100k subscribers */
  per100k: number;
  callsPerDay: number;
  callerClass: 'MOBILE' | 'FIXED' | 'SERVICE' | 'VIRTUAL_OPERATOR';
  attestation: 'A' | 'B';
  answerRate: number;
  talkMedianS: number;
  talkSigma: number;
  /** verified service numbers that realistic deployments whitelist */
  whitelisted: boolean;
  firstHour: number;
  lastHour: number;
}

export const TRAPS: readonly TrapKind[] = [
  {
    kind: 'courier',
    per100k: 120,
    callsPerDay: 80,
    callerClass: 'MOBILE',
    attestation: 'A',
    answerRate: 0.8,
    talkMedianS: 22,
    talkSigma: 0.7,
    whitelisted: false,
    firstHour: 8,
    lastHour: 20,
  },
  {
    kind: 'bank',
    per100k: 8,
    callsPerDay: 500,
    callerClass: 'SERVICE',
    attestation: 'A',
    answerRate: 0.6,
    talkMedianS: 70,
    talkSigma: 0.9,
    whitelisted: true,
    firstHour: 9,
    lastHour: 18,
  },
  {
    kind: 'hospital',
    per100k: 6,
    callsPerDay: 150,
    callerClass: 'FIXED',
    attestation: 'A',
    answerRate: 0.75,
    talkMedianS: 50,
    talkSigma: 0.8,
    whitelisted: true,
    firstHour: 8,
    lastHour: 18,
  },
  {
    kind: 'hotline',
    per100k: 4,
    callsPerDay: 300,
    callerClass: 'SERVICE',
    attestation: 'A',
    answerRate: 0.7,
    talkMedianS: 90,
    talkSigma: 1.0,
    whitelisted: true,
    firstHour: 8,
    lastHour: 21,
  },
  {
    kind: 'telemarketing',
    per100k: 25,
    callsPerDay: 300,
    callerClass: 'FIXED',
    attestation: 'B',
    answerRate: 0.3,
    talkMedianS: 15,
    talkSigma: 0.9,
    whitelisted: false,
    firstHour: 9,
    lastHour: 20,
  },
  {
    kind: 'ride_hailing',
    per100k: 20,
    callsPerDay: 200,
    callerClass: 'VIRTUAL_OPERATOR',
    attestation: 'A',
    answerRate: 0.85,
    talkMedianS: 30,
    talkSigma: 0.6,
    whitelisted: true,
    firstHour: 6,
    lastHour: 23,
  },
];
