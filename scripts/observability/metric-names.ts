import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The metric names that deploy/grafana/eagle-eye.json and deploy/prometheus/eagle-eye.rules.yml
 * use, read from their PromQL. Eagle Eye's own metrics start with `eagleeye_`, Node's default
 * ones with `process_` or `nodejs_`; `up` is made by Prometheus itself for every target.
 */
const METRIC = /\b((?:eagleeye|process|nodejs)_[A-Za-z0-9_]+|up(?=\s*\{))/g;

export function metricNamesIn(promql: string): string[] {
  return [...new Set([...promql.matchAll(METRIC)].map((m) => m[1]))];
}

type Dashboard = {
  panels: { targets?: { expr: string }[]; panels?: Dashboard['panels'] }[];
  templating?: { list: { query?: string | { query?: string }; definition?: string }[] };
};

export function dashboardExpressions(file: string): string[] {
  const d = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q && /\(/.test(q)) exprs.push(q);
  }
  return exprs;
}

type Rules = { groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };

export function ruleExpressions(file: string): string[] {
  const r = parse(readFileSync(file, 'utf8')) as Rules;
  return r.groups.flatMap((g) => g.rules.map((rule) => rule.expr));
}

/** The metric families an app's /metrics text declares (`# TYPE name type`). */
export function declaredMetrics(exposition: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

/** Whether `name` is served: a declared family, or a histogram's/summary's _bucket/_sum/_count. */
export function isServed(name: string, declared: Map<string, string>): boolean {
  if (name === 'up') return true; // Prometheus adds it to every scrape
  if (declared.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  return !!m && ['histogram', 'summary'].includes(declared.get(m[1]) ?? '');
}

export const DASHBOARD = (root: string): string => join(root, 'deploy/grafana/eagle-eye.json');
export const RULES = (root: string): string => join(root, 'deploy/prometheus/eagle-eye.rules.yml');
