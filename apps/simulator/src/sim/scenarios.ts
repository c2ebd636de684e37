import { ScamKind } from './ground-truth';
import { FanoutProfile, FRAUD, STRESS_PROFILE } from './model';

/** How many scam groups of each kind run, how hard they work, and how often victims stay on. */
export interface ScenarioConfig {
  name: string;
  description: string;
  /** call-centre rings of 3-6 numbers dialling strangers, police impersonation with hand-over */
  fanoutRings: number;
  /** overseas call centres behind spoofed domestic displays */
  overseasGroups: number;
  /** one handset, many SIMs */
  simFarms: number;
  /** one-ring numbers abroad waiting for call-backs */
  wangiriNumbers: number;
  /** one-ring attempts an hour of each such number, drawn uniformly in [lo, hi] (default 120-400) */
  wangiriAttemptsPerHour?: readonly [number, number];
  /** investment/romance scammers, each with 1-3 victims called daily */
  romanceScammers: number;
  /**
   * multiplies the attempt rate of fan-out numbers: 1 is a number of median activity on an active
   * day (model.ts FRAUD: ~4 attempts an hour in call-centre hours, ~27 distinct people a day)
   */
  attemptRateScale: number;
  /** the fan-out numbers' volume and answer profile; model.ts FRAUD_PROFILE (the data) when unset */
  fanoutProfile?: FanoutProfile;
  /** share of answered scam calls that turn into a long call (before age susceptibility) */
  hookRate: number;
  /** median attempts a fan-out number makes before it is dropped and replaced */
  numberLifetimeAttempts: number;
  /** scam numbers call only in call-centre hours (9-20 local); off for short windows */
  workingHoursOnly: boolean;
  /** legitimate high-volume callers (the false-positive traps) */
  traps: boolean;
  /** ordinary subscribers calling each other (off only for the calibration of scam numbers) */
  normalTraffic?: boolean;
  /** force a hooked call at these offsets from the start, then every `everyS` (the demo) */
  forcedHooks?: { firstAtS: number; everyS: number; kinds: ScamKind[] };
}

const base: Omit<ScenarioConfig, 'name' | 'description'> = {
  fanoutRings: 12,
  overseasGroups: 4,
  simFarms: 2,
  wangiriNumbers: 3,
  romanceScammers: 6,
  attemptRateScale: 1,
  hookRate: 0.05,
  // a number lives a median 6 active days (the CSV) at its daily volume
  numberLifetimeAttempts: FRAUD.activeDaysMedian * FRAUD.attemptsPerDayMedian,
  workingHoursOnly: false,
  traps: true,
};

/**
 * The project's earlier settings, kept as stress scenarios: fan-out numbers at four times a flood-like
 * profile (90 attempts a day, 40 % answered: ~33 attempts and ~13 distinct people an hour, hundreds a
 * day), numbers dropped after a median 150 attempts. Real labelled fraud does not look like this.
 */
const stress: Pick<ScenarioConfig, 'attemptRateScale' | 'fanoutProfile' | 'numberLifetimeAttempts'> = {
  attemptRateScale: 4,
  fanoutProfile: STRESS_PROFILE,
  numberLifetimeAttempts: 150,
};

const onlyFanout = { overseasGroups: 0, simFarms: 0, wangiriNumbers: 0, romanceScammers: 0, fanoutRings: 16 };
const onlyOverseas = {
  fanoutRings: 0,
  simFarms: 0,
  wangiriNumbers: 0,
  romanceScammers: 0,
  overseasGroups: 10,
};
const onlySimfarm = { fanoutRings: 0, overseasGroups: 0, wangiriNumbers: 0, romanceScammers: 0, simFarms: 6 };

export const SCENARIOS: Record<string, ScenarioConfig> = {
  default: {
    ...base,
    name: 'default',
    description:
      'every scam kind at once inside a normal city with its legitimate bulk callers, fan-out at the rates of the labelled data',
  },
  fanout: {
    ...base,
    ...onlyFanout,
    name: 'fanout',
    description: 'call-centre rings only (police impersonation with hand-over)',
  },
  overseas: {
    ...base,
    ...onlyOverseas,
    name: 'overseas',
    description: 'spoofed displays from overseas call centres only',
  },
  simfarm: {
    ...base,
    ...onlySimfarm,
    name: 'simfarm',
    description: 'SIM farms only (one handset, many SIMs)',
  },
  callback: {
    ...base,
    name: 'callback',
    description: 'one-ring call-back numbers only',
    fanoutRings: 0,
    overseasGroups: 0,
    simFarms: 0,
    romanceScammers: 0,
    wangiriNumbers: 8,
  },
  romance: {
    ...base,
    name: 'romance',
    description: 'investment/romance scammers only (repeated long calls to few victims)',
    fanoutRings: 0,
    overseasGroups: 0,
    simFarms: 0,
    wangiriNumbers: 0,
    romanceScammers: 20,
  },
  traps: {
    ...base,
    name: 'traps',
    description: 'no scams at all: normal city and legitimate bulk callers (false alerts only)',
    fanoutRings: 0,
    overseasGroups: 0,
    simFarms: 0,
    wangiriNumbers: 0,
    romanceScammers: 0,
  },
  stress: {
    ...base,
    ...stress,
    name: 'stress',
    description:
      'the earlier default: every scam kind, fan-out numbers flooding (4x a 90-attempt, 40 %-answered day)',
  },
  'stress-fanout': {
    ...base,
    ...stress,
    ...onlyFanout,
    name: 'stress-fanout',
    description: 'the earlier fanout scenario: call-centre rings only, flooding',
  },
  'stress-overseas': {
    ...base,
    ...stress,
    ...onlyOverseas,
    name: 'stress-overseas',
    description: 'the earlier overseas scenario: spoofed overseas centres only, flooding',
  },
  'stress-simfarm': {
    ...base,
    ...stress,
    ...onlySimfarm,
    name: 'stress-simfarm',
    description: 'the earlier simfarm scenario: SIM farms only, flooding',
  },
  demo: {
    ...base,
    name: 'demo',
    description:
      'the live demo: a busy active day of the rings (twice the median number, the CSV busiest-day median is 71 calls), after a history import, and a victim on the line within the first minute',
    // busy enough that alerts keep arriving, calm enough that a desk could follow them
    fanoutRings: 3,
    overseasGroups: 2,
    simFarms: 1,
    wangiriNumbers: 1,
    romanceScammers: 2,
    attemptRateScale: 2,
    wangiriAttemptsPerHour: [45, 150],
    forcedHooks: { firstAtS: 20, everyS: 45, kinds: ['overseas', 'fanout', 'simfarm', 'fanout'] },
  },
  'stress-demo': {
    ...base,
    ...stress,
    name: 'stress-demo',
    description: 'the earlier demo: busy flooding rings and a victim on the line within the first minute',
    fanoutRings: 3,
    overseasGroups: 2,
    simFarms: 1,
    wangiriNumbers: 1,
    romanceScammers: 2,
    attemptRateScale: 1.5,
    wangiriAttemptsPerHour: [45, 150],
    forcedHooks: { firstAtS: 20, everyS: 45, kinds: ['overseas', 'fanout', 'simfarm', 'fanout'] },
  },
};

export function scenarioByName(name: string): ScenarioConfig {
  const s = SCENARIOS[name];
  if (!s) throw new Error(`unknown scenario "${name}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return s;
}
