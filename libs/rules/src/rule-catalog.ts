/**
 * The detection rules Eagle Eye knows, with their default points and parameters. The defaults are
 * seeded into PostgreSQL by migration 021 (where operators change them, versioned); this catalog
 * validates changes and fills in a rule that has no row yet.
 *
 * Calibration (see README "Detection"): fraud numbers in the Sichuan data make a median 36 calls a
 * day to 22 distinct callees, 1.24 calls per counterpart (normal 6.76), 97 % outgoing; one carrier
 * flags > 100 calls an hour, mostly <= 10 s; people hang up a nuisance call after ~20-30 s.
 */
export type ParamValue = number | string | number[] | string[];
export type RuleParams = Record<string, ParamValue>;

export interface RuleDefault {
  points: number;
  params: RuleParams;
  /** what the rule looks at, for operators */
  description: string;
}

export const RULE_CATALOG = {
  fanout: {
    points: 30,
    params: { distinct1h: 15, distinct24h: 20, maxCallsPerCallee: 1.5 },
    description: 'caller dials many different people, rarely the same one twice',
  },
  call_centre: {
    points: 25,
    params: { attempts1h: 30, attempts10m: 10, maxAnswerRate: 0.3, minShortShare: 0.5 },
    description: 'many attempts with a low answer rate or mostly short answered calls',
  },
  blacklist: { points: 100, params: {}, description: 'caller is on the blacklist (confirmed fraud)' },
  graylist: { points: 40, params: {}, description: 'caller is on the graylist (reported or suspected)' },
  whitelist: { points: -100, params: {}, description: 'caller is whitelisted (courier, bank, hotline)' },
  spoofed_origin: {
    points: 35,
    params: { homeCountry: 'CN' },
    description: 'call entered from abroad but displays a domestic number',
  },
  unverified_caller_id: {
    points: 15,
    params: {},
    description: 'the network cannot vouch for the caller id (attestation C or none)',
  },
  display_mismatch: {
    points: 30,
    params: {},
    description: 'displayed number differs from the asserted one (number-changing software)',
  },
  virtual_operator: { points: 15, params: {}, description: 'caller number belongs to a virtual operator' },
  new_number: {
    points: 10,
    params: { maxAgeH: 48 },
    description: 'caller first seen recently (after an idle day a number counts as new again)',
  },
  sim_farm: {
    points: 30,
    params: { sims: 5 },
    description: 'caller handset seen with many SIMs in the last week',
  },
  ring_relay: {
    points: 35,
    params: { suspectCallers: 2, windowS: 3600 },
    description: 'several suspect numbers reached the same callee within the window',
  },
  callback_to_one_ring: {
    points: 60,
    params: { minAttempts24h: 30, minDistinct24h: 20, maxAnswerRate: 0.05 },
    description:
      'answered call TO a number that itself rang many people with almost none answered (one-ring call-back scam: the caller is the victim)',
  },
  caller_model: {
    points: 55,
    params: {
      model: '',
      shadowModel: '',
      minProbability: 0,
      minCallS: 60,
      classes: ['MOBILE', 'VIRTUAL_OPERATOR'],
    },
    description:
      "learned caller-risk model: the caller's calibrated fraud probability from its 1-hour, 24-hour and 7-day behaviour reaches the model's threshold (model: version that decides, '' = bundled; shadowModel: version scored in report-only; minProbability: 0 = the model's own 95 %-precision threshold; minCallS: a call counts the model's points once it lasts this long; classes: caller number classes the model was trained on)",
  },
  long_call: {
    points: 35,
    params: { stepsS: [60, 180, 600], stepPoints: [10, 20, 35], recheckS: 300 },
    description:
      'answered call with a suspect stranger that keeps running (points per duration step); recheckS: after the last step the call is re-scored this often while it runs, so a caller whose risk shows only during a long call still reaches the victim on the line (0 = off)',
  },
  vulnerable_age: {
    points: 10,
    params: { bands: ['UNDER_18', '46_64', '65_PLUS'] },
    description: 'callee in an age band scammers target or that loses the most',
  },
  familiar: {
    points: -60,
    params: { talkedPoints: -25, minTalkS: 60 },
    description: 'callee has called this number before (or they talked at length)',
  },
  alert_policy: {
    points: 0,
    params: {
      victimWarning: 60,
      victimCritical: 90,
      suspectCaller: 40,
      suspectWarning: 55,
      suspectCritical: 85,
      cooldownS: 1800,
      shortCallS: 10,
      postCallMinTalkS: 30,
    },
    description: 'thresholds: alert severities, who counts as a suspect caller, cooldown',
  },
} satisfies Record<string, RuleDefault>;

export type RuleId = keyof typeof RULE_CATALOG;
export const RULE_IDS = Object.keys(RULE_CATALOG) as RuleId[];

export function isRuleId(id: string): id is RuleId {
  return Object.prototype.hasOwnProperty.call(RULE_CATALOG, id);
}

/** One rule as it applies: global row or the carrier's override. */
export interface RuleConfig {
  id: RuleId;
  /** '*' = global, otherwise the carrier id of an override */
  scope: string;
  version: number;
  enabled: boolean;
  reportOnly: boolean;
  points: number;
  params: RuleParams;
}

export type ResolvedRules = Record<RuleId, RuleConfig>;

function sameKind(a: ParamValue, b: unknown): boolean {
  if (Array.isArray(a)) {
    if (!Array.isArray(b)) return false;
    const kind = typeof (a[0] ?? (typeof b[0] === 'string' ? '' : 0));
    return b.every((x) => typeof x === kind && (kind !== 'number' || Number.isFinite(x)));
  }
  return typeof a === typeof b && (typeof b !== 'number' || Number.isFinite(b));
}

/**
 * Checks a parameter change against the catalog: known names, same types as the defaults.
 * Returns the full parameter set (defaults, then the given values). Throws with a plain message.
 */
export function validateParams(id: RuleId, params: Record<string, unknown>): RuleParams {
  const defaults: RuleParams = RULE_CATALOG[id].params;
  const out: RuleParams = { ...defaults };
  for (const [k, v] of Object.entries(params)) {
    if (!(k in defaults)) throw new Error(`rule ${id} has no parameter ${k}`);
    if (!sameKind(defaults[k], v)) {
      throw new Error(
        `rule ${id} parameter ${k} must be ${Array.isArray(defaults[k]) ? 'a list like' : 'a'} ${JSON.stringify(defaults[k])}`,
      );
    }
    out[k] = v as ParamValue;
  }
  return out;
}

export function defaultRule(id: RuleId): RuleConfig {
  const d: RuleDefault = RULE_CATALOG[id];
  return {
    id,
    scope: '*',
    version: 0,
    enabled: true,
    reportOnly: false,
    points: d.points,
    params: { ...d.params },
  };
}

export function num(rule: RuleConfig, name: string): number {
  const v = rule.params[name] ?? (RULE_CATALOG[rule.id].params as RuleParams)[name];
  return typeof v === 'number' ? v : Number(v);
}

export function list<T extends number | string>(rule: RuleConfig, name: string): T[] {
  const v = rule.params[name] ?? (RULE_CATALOG[rule.id].params as RuleParams)[name];
  return (Array.isArray(v) ? v : []) as T[];
}

export function str(rule: RuleConfig, name: string): string {
  const v = rule.params[name] ?? (RULE_CATALOG[rule.id].params as RuleParams)[name];
  return String(v);
}
