import {
  defaultRule,
  isRuleId,
  ResolvedRules,
  resolveRules,
  RuleConfig,
  RuleId,
  RuleSet,
  validateParams,
} from '@eagle-eye/rules';
import type { RuleSource } from '../detection/detection.service';

/**
 * A candidate rule change for a backtest: the same fields an operator changes through the console
 * (rule, scope, enabled, report-only, points, parameters), applied on top of the active rule set
 * instead of written to it. Nothing here ever reaches PostgreSQL.
 */
export interface CandidateChange {
  ruleId: RuleId;
  /** '*' for the global rule, or a carrier id for its override */
  scope: string;
  enabled?: boolean;
  reportOnly?: boolean;
  points?: number;
  params?: Record<string, unknown>;
}

const SCOPE = /^(\*|[a-z0-9][a-z0-9-]{1,31})$/;
const FIELDS = new Set(['ruleId', 'scope', 'enabled', 'reportOnly', 'points', 'params']);

export class CandidateRulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CandidateRulesError';
  }
}

/**
 * Parses candidate changes: a JSON array of changes, or `{"changes": [...]}`. Every problem is named
 * with the change's position, so an operator can fix the file; nothing is half-applied.
 */
export function parseCandidateChanges(json: string): CandidateChange[] {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch (e) {
    throw new CandidateRulesError(`the rule changes are not JSON: ${(e as Error).message}`);
  }
  const list =
    v && typeof v === 'object' && !Array.isArray(v) && 'changes' in v
      ? (v as { changes: unknown }).changes
      : v;
  if (!Array.isArray(list))
    throw new CandidateRulesError('the rule changes must be a JSON array (or {"changes": [...]})');
  return list.map((c: unknown, i) => {
    const at = `change ${i + 1}`;
    if (!c || typeof c !== 'object' || Array.isArray(c))
      throw new CandidateRulesError(`${at} is not an object`);
    const o = c as Record<string, unknown>;
    const unknown = Object.keys(o).filter((k) => !FIELDS.has(k));
    if (unknown.length) throw new CandidateRulesError(`${at} has unknown field(s) ${unknown.join(', ')}`);
    if (typeof o.ruleId !== 'string' || !isRuleId(o.ruleId))
      throw new CandidateRulesError(`${at}: unknown rule ${JSON.stringify(o.ruleId)}`);
    const scope = o.scope ?? '*';
    if (typeof scope !== 'string' || !SCOPE.test(scope))
      throw new CandidateRulesError(`${at}: scope must be '*' or a carrier id`);
    for (const k of ['enabled', 'reportOnly'] as const)
      if (o[k] !== undefined && typeof o[k] !== 'boolean')
        throw new CandidateRulesError(`${at}: ${k} must be true or false`);
    if (o.points !== undefined && !(Number.isInteger(o.points) && Math.abs(o.points as number) <= 1000))
      throw new CandidateRulesError(`${at}: points must be an integer between -1000 and 1000`);
    if (o.params !== undefined && (!o.params || typeof o.params !== 'object' || Array.isArray(o.params)))
      throw new CandidateRulesError(`${at}: params must be an object`);
    const out: CandidateChange = { ruleId: o.ruleId, scope };
    if (o.enabled !== undefined) out.enabled = o.enabled as boolean;
    if (o.reportOnly !== undefined) out.reportOnly = o.reportOnly as boolean;
    if (o.points !== undefined) out.points = o.points as number;
    if (o.params !== undefined) {
      try {
        validateParams(o.ruleId, o.params as Record<string, unknown>);
      } catch (e) {
        throw new CandidateRulesError(`${at}: ${(e as Error).message}`);
      }
      out.params = o.params as Record<string, unknown>;
    }
    return out;
  });
}

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
