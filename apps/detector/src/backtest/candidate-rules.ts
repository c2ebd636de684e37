import {
  CandidateChange,
  defaultRule,
  ResolvedRules,
  resolveRules,
  RuleConfig,
  RuleSet,
  validateParams,
} from '@eagle-eye/rules';
import type { RuleSource } from '../pipeline/work';

// the parser lives in libs/rules (the console validates a requested backtest's changes with it)
export { type CandidateChange, CandidateRulesError, parseCandidateChanges } from '@eagle-eye/rules';

/**
 * The rule set a backtest scores with: the active set with the candidate changes applied in order
 * (a change to a carrier's override starts from that override, else from the global rule, as the
 * console's change does).
 */
export function applyCandidate(active: RuleSet, changes: CandidateChange[]): RuleSet {
  const set: RuleSet = {
    version: active.version,
    global: new Map(active.global),
    overrides: new Map([...active.overrides].map(([k, m]) => [k, new Map(m)])),
  };
  for (const c of changes) {
    const scoped = c.scope === '*' ? set.global : set.overrides.get(c.scope);
    const base: RuleConfig = scoped?.get(c.ruleId) ?? set.global.get(c.ruleId) ?? defaultRule(c.ruleId);
    const next: RuleConfig = {
      ...base,
      scope: c.scope,
      enabled: c.enabled ?? base.enabled,
      reportOnly: c.reportOnly ?? base.reportOnly,
      points: c.points ?? base.points,
      params: validateParams(c.ruleId, { ...base.params, ...(c.params ?? {}) }),
    };
    if (c.scope === '*') set.global.set(c.ruleId, next);
    else {
      let m = set.overrides.get(c.scope);
      if (!m) set.overrides.set(c.scope, (m = new Map()));
      m.set(c.ruleId, next);
    }
  }
  return set;
}

/** A fixed rule set as the detector's RuleSource (resolved once per carrier). */
export class FixedRules implements RuleSource {
  private readonly resolved = new Map<string, ResolvedRules>();
  constructor(readonly set: RuleSet) {}
  forCarrier(carrierId: string): ResolvedRules {
    let r = this.resolved.get(carrierId);
    if (!r) this.resolved.set(carrierId, (r = resolveRules(this.set, carrierId)));
    return r;
  }
}
