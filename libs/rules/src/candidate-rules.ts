import { isRuleId, RuleId, validateParams } from './rule-catalog';

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
