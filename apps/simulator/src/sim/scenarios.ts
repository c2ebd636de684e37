import { ScamKind } from './ground-truth';

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
  /** investment/romance scammers, each with 1-3 victims called daily */
  romanceScammers: number;
  /** multiplies the calibrated attempt rate of fan-out numbers (the CSV median is ~8 an hour) */
  attemptRateScale: number;
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
  attemptRateScale: 4,
  hookRate: 0.05,
  numberLifetimeAttempts: 150,
  workingHoursOnly: false,
  traps: true,
};

export const SCENARIOS: Record<string, ScenarioConfig> = {
  default: {
    ...base,
    name: 'default',
    description: 'every scam kind at once inside a normal city with its legitimate bulk callers',
  },
  fanout: {
    ...base,
    name: 'fanout',
    description: 'call-centre rings only (police impersonation with hand-over)',
    overseasGroups: 0,
    simFarms: 0,
    wangiriNumbers: 0,
    romanceScammers: 0,
    fanoutRings: 16,
  },
  overseas: {
    ...base,
    name: 'overseas',
    description: 'spoofed displays from overseas call centres only',
    fanoutRings: 0,
    simFarms: 0,
    wangiriNumbers: 0,
    romanceScammers: 0,
    overseasGroups: 10,
  },
  simfarm: {
    ...base,
    name: 'simfarm',
    description: 'SIM farms only (one handset, many SIMs)',
    fanoutRings: 0,
    overseasGroups: 0,
    wangiriNumbers: 0,
    romanceScammers: 0,
    simFarms: 6,
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
  demo: {
    ...base,
    name: 'demo',
    description: 'the live demo: busy rings and a victim on the line within the first minute',
    // busy enough that alerts keep arriving, calm enough that a desk could follow them
    fanoutRings: 3,
    overseasGroups: 2,
    simFarms: 1,
    wangiriNumbers: 1,
    romanceScammers: 2,
    attemptRateScale: 1.5,
    forcedHooks: { firstAtS: 20, everyS: 45, kinds: ['overseas', 'fanout', 'simfarm', 'fanout'] },
  },
};

export function scenarioByName(name: string): ScenarioConfig {
  const s = SCENARIOS[name];
  if (!s) throw new Error(`unknown scenario "${name}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return s;
}
