import type { ParamValue, RuleParams } from '../../../../libs/rules/src/rule-catalog';

/** What a rule change can touch: the switches, the points and each parameter. */
export interface RuleFields {
  enabled: boolean;
  reportOnly: boolean;
  points: number;
  params: RuleParams;
}

export type RuleChange =
  | { kind: 'enabled' | 'reportOnly'; before: boolean; after: boolean }
  | { kind: 'points'; before: number; after: number }
  | { kind: 'param'; name: string; before: string; after: string };

/** A parameter as a person reads and types it: lists comma-separated. */
export function formatParam(v: ParamValue | undefined): string {
  if (v === undefined) return '—';
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/**
 * A typed parameter back in the kind of its current value (a number, a string, a list of either);
 * null when it is not one (a letter in a number, an empty entry in a list). The server checks again.
 */
export function parseParam(like: ParamValue, text: string): ParamValue | null {
  const number = (s: string): number | null => {
    const t = s.trim();
    if (t === '') return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : null;
  };
  if (Array.isArray(like)) {
    const parts = text.trim() === '' ? [] : text.split(/[,，、]/).map((s) => s.trim());
    if (parts.some((s) => s === '')) return null;
    // a list's kind is its first element's (an empty default list holds strings)
    if (typeof like[0] === 'number') {
      const nums = parts.map(number);
      return nums.some((n) => n === null) ? null : (nums as number[]);
    }
    return parts;
  }
  if (typeof like === 'number') return number(text);
  return text.trim();
}

const same = (a: ParamValue | undefined, b: ParamValue | undefined) =>
  JSON.stringify(a) === JSON.stringify(b);

/** Every field that differs between two versions of a rule, in a stable order. */
export function ruleChanges(before: RuleFields, after: RuleFields): RuleChange[] {
  const out: RuleChange[] = [];
  if (before.enabled !== after.enabled)
    out.push({ kind: 'enabled', before: before.enabled, after: after.enabled });
  if (before.reportOnly !== after.reportOnly)
    out.push({ kind: 'reportOnly', before: before.reportOnly, after: after.reportOnly });
  if (before.points !== after.points)
    out.push({ kind: 'points', before: before.points, after: after.points });
  const names = [...new Set([...Object.keys(before.params), ...Object.keys(after.params)])];
  for (const name of names) {
    if (!same(before.params[name], after.params[name]))
      out.push({
        kind: 'param',
        name,
        before: formatParam(before.params[name]),
        after: formatParam(after.params[name]),
      });
  }
  return out;
}

/** Only the parameters that changed, as the PATCH body's `params` (the server merges them). */
export function changedParams(before: RuleParams, after: RuleParams): RuleParams {
  const out: RuleParams = {};
  for (const [k, v] of Object.entries(after)) if (!same(before[k], v)) out[k] = v;
  return out;
}
