import type { AlertReason } from '@eagle-eye/contracts/alerts';

/**
 * The scam types the detector's rules can point at, each with its own dissuasion script (what the
 * desk says to the victim; i18n `dissuasion.<type>`). Most specific first: a relay of fake officials
 * says more about the call than its caller dialling many people does.
 */
export const SCAM_TYPES = [
  'police_impersonation',
  'one_ring_callback',
  'spoofed_number',
  'listed_number',
  'minor_targeted',
  'elderly_targeted',
  'disposable_number',
  'call_centre',
] as const;
export type ScamType = (typeof SCAM_TYPES)[number];

/** Which scam type each detector rule (libs/rules RULE_CATALOG) points at; rules not here name none. */
const BY_RULE: Record<string, ScamType> = {
  ring_relay: 'police_impersonation',
  callback_to_one_ring: 'one_ring_callback',
  spoofed_origin: 'spoofed_number',
  display_mismatch: 'spoofed_number',
  unverified_caller_id: 'spoofed_number',
  blacklist: 'listed_number',
  graylist: 'listed_number',
  sim_farm: 'disposable_number',
  virtual_operator: 'disposable_number',
  new_number: 'disposable_number',
  fanout: 'call_centre',
  call_centre: 'call_centre',
  caller_model: 'call_centre',
};

function typesOf(r: AlertReason): ScamType[] {
  const out: ScamType[] = [];
  // a list entry's reason may name police impersonation outright (公检法: police, procuratorate, court)
  if (/police|impersonat|prosecutor|公检法|冒充/i.test(r.text)) out.push('police_impersonation');
  if (r.rule === 'vulnerable_age')
    out.push(/under 18|未成年/i.test(r.text) ? 'minor_targeted' : 'elderly_targeted');
  else if (BY_RULE[r.rule]) out.push(BY_RULE[r.rule]);
  return out;
}

/**
 * The scripts for an alert, most specific first, each once; rules that only report (report-only)
 * count after those that decided. Always at least the general call-centre script.
 */
export function scamTypes(reasons: readonly AlertReason[]): ScamType[] {
  const deciding = new Set(reasons.filter((r) => !r.reportOnly).flatMap(typesOf));
  const any = new Set(reasons.flatMap(typesOf));
  const out = [
    ...SCAM_TYPES.filter((t) => deciding.has(t)),
    ...SCAM_TYPES.filter((t) => any.has(t) && !deciding.has(t)),
  ];
  return out.length ? out : ['call_centre'];
}
