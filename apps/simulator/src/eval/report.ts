import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EvaluationReport, ScenarioFigures } from './evaluate';

export interface ReportMeta {
  scenario: string;
  seed: number;
  runId: string;
  subscribers: number;
  minutes: number;
  /** simulated minutes streamed before the measured window */
  warmupMinutes: number;
  warp: number;
  startedAt: string;
  wallSeconds: number;
  eventsSent: number;
  eventsAccepted: number;
  eventsRejected: number;
  groundTruthFile: string;
}

export const TARGETS = {
  recallOnCall: 0.9,
  medianTimeToAlertS: 60,
  precision: 0.9,
  falseAlertsPerMillionLegitCalls: 20,
};

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)} %`);
const secs = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} s`);
const numf = (x: number | null, d = 1): string => (x === null ? 'n/a' : x.toFixed(d));

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

/** The figures as a plain-text table for the terminal. */
export function formatReport(r: EvaluationReport, meta: ReportMeta): string {
  const rows: ScenarioFigures[] = [...r.scenarios, r.overall];
  const head = [
    'scenario',
    'hooked',
    'on-call',
    'recall',
    'median',
    'p90',
    'alerted',
    'victim alerts',
    'scam nos',
    'flagged',
    'suspect recall',
  ];
  const body = rows.map((s) => [
    s.scenario,
    String(s.hookedVictims),
    String(s.alertedOnCall),
    pct(s.recallOnCall),
    secs(s.medianTimeToAlertS),
    secs(s.p90TimeToAlertS),
    String(s.alertedAtAll),
    String(s.victimAlerts),
    String(s.scamNumbers),
    String(s.scamNumbersFlagged),
    pct(s.suspectRecall),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const o = r.overall;
  const mark = (ok: boolean | null): string =>
    ok === null ? '' : ok ? '  [target met]' : '  [target missed]';
  const lines = [
    `Evaluation: scenario ${meta.scenario}, seed ${meta.seed}, run ${meta.runId}, ${meta.subscribers} subscribers, ` +
      `${meta.minutes} simulated minutes at warp ${meta.warp} (${meta.wallSeconds.toFixed(0)} s wall)`,
    r.warmupMinutes > 0
      ? `warm-up: ${numf(r.warmupMinutes, 0)} simulated minutes streamed before the measured window; ` +
        `${r.warmupHookedExcluded} hooked victims and ${r.warmupAlertsExcluded} alerts of the warm-up excluded`
      : 'warm-up: none (the detector starts empty)',
    `events sent ${meta.eventsSent}, accepted ${meta.eventsAccepted}, rejected ${meta.eventsRejected}; ` +
      `legitimate calls ${o.legitCalls}; alerts ${o.alertsTotal} (${
        Object.entries(r.alertsByKind)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      })`,
    '',
    pad(head, widths),
    pad(
      head.map((h) => '-'.repeat(h.length)),
      widths,
    ),
    ...body.map((b) => pad(b, widths)),
    '',
    `hooked victims alerted while on the call: ${pct(o.recallOnCall)} (${o.alertedOnCall}/${o.hookedVictims})` +
      mark(o.recallOnCall === null ? null : o.recallOnCall >= TARGETS.recallOnCall),
    `time from answer to first alert: median ${secs(o.medianTimeToAlertS)}, p90 ${secs(o.p90TimeToAlertS)}` +
      mark(o.medianTimeToAlertS === null ? null : o.medianTimeToAlertS <= TARGETS.medianTimeToAlertS),
    `precision of victim alerts: ${pct(o.precision)} (${o.truePositiveVictimAlerts}/${o.victimAlertsTotal})` +
      mark(o.precision === null ? null : o.precision >= TARGETS.precision),
    `false alerts per million legitimate calls: ${numf(o.falseAlertsPerMillionLegitCalls)} (${o.falseVictimAlerts} false of ${o.legitCalls} calls)` +
      mark(
        o.falseAlertsPerMillionLegitCalls === null
          ? null
          : o.falseAlertsPerMillionLegitCalls <= TARGETS.falseAlertsPerMillionLegitCalls,
      ),
    `suspect numbers: precision ${pct(o.suspectPrecision)} (${o.suspectAlertsTrue}/${o.suspectAlerts}), ` +
      `recall ${pct(o.suspectRecall)} (${o.scamNumbersFlagged}/${o.scamNumbers}); named in any alert ${o.scamNumbersNamedInAnyAlert}/${o.scamNumbers}`,
    `alerts per operator-hour: ${numf(o.alertsPerOperatorHour)} (${o.alertsTotal} alerts, ${o.operators} operators, ${numf(o.simulatedHours, 2)} simulated hours)`,
    `alert delivery (raise -> console), wall: median ${numf(r.deliveryLatencyMs.median, 0)} ms, p90 ${numf(r.deliveryLatencyMs.p90, 0)} ms`,
    `alerts by rule: ${
      Object.entries(r.alertsByRule)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    `false victim alerts by source: ${
      Object.entries(r.falseAlertsBySource)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
  ];
  return lines.join('\n');
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Horizontal bar chart as inline SVG. */
export function barChart(title: string, bars: [string, number][], unit = ''): string {
  const w = 640;
  const rowH = 22;
  const labelW = 190;
  const max = Math.max(1, ...bars.map(([, v]) => v));
  const h = 30 + bars.length * rowH;
  const rows = bars
    .map(([label, v], i) => {
      const y = 24 + i * rowH;
      const bw = ((w - labelW - 70) * v) / max;
      return (
        `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(label)}</text>` +
        `<rect x="${labelW}" y="${y + 2}" width="${bw.toFixed(1)}" height="${rowH - 6}" fill="#3b6ea5"/>` +
        `<text x="${(labelW + bw + 4).toFixed(1)}" y="${y + 14}">${v}${unit}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">` +
    `<text x="0" y="14" font-weight="bold">${esc(title)}</text>${rows}</svg>`
  );
}

/** Buckets of seconds from answer to first alert. */
export function timeToAlertHistogram(times: number[]): [string, number][] {
  const edges = [0, 10, 20, 30, 60, 120, 180, 300, 600];
  const out: [string, number][] = edges.map((e, i) => [
    i + 1 < edges.length ? `${e}-${edges[i + 1]} s` : `>= ${e} s`,
    0,
  ]);
  for (const t of times) {
    let i = edges.length - 1;
    while (i > 0 && t < edges[i]) i--;
    out[i][1]++;
  }
  return out;
}

export function renderHtml(r: EvaluationReport, meta: ReportMeta, text: string): string {
  const recallBars: [string, number][] = [...r.scenarios, r.overall].map((s) => [
    s.scenario,
    s.recallOnCall === null ? 0 : Math.round(s.recallOnCall * 1000) / 10,
  ]);
  const byRule = Object.entries(r.alertsByRule).sort((a, b) => b[1] - a[1]);
  const fp = Object.entries(r.falseAlertsBySource).sort((a, b) => b[1] - a[1]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Eagle Eye evaluation: ${esc(meta.scenario)}</title>
<style>body{font-family:sans-serif;max-width:980px;margin:24px auto;color:#222}pre{background:#f4f4f4;padding:12px;overflow:auto;font-size:12px}
section{margin:18px 0}</style></head><body>
<h1>Eagle Eye detection quality: scenario ${esc(meta.scenario)}</h1>
<p>Seed ${meta.seed}, run ${esc(meta.runId)}, ${meta.subscribers} subscribers, ${meta.minutes} simulated minutes at warp ${meta.warp}
(after a ${numf(r.warmupMinutes, 0)}-minute warm-up whose victims and alerts are excluded), started ${esc(meta.startedAt)}. Targets: recall on the call &ge; 90 %, median answer-to-alert &le; 60 s, precision &ge; 90 %,
&le; 20 false alerts per million legitimate calls.</p>
<section>${barChart('Time from answer to first alert (hooked victims)', timeToAlertHistogram(r.overall.timeToAlertS))}</section>
<section>${barChart('Alerts by rule (rules with positive points)', byRule.length ? byRule : [['none', 0]])}</section>
<section>${barChart('Hooked victims alerted while on the call, by scenario', recallBars, ' %')}</section>
<section>${barChart('False victim alerts by source', fp.length ? fp : [['none', 0]])}</section>
<section><h2>Figures</h2><pre>${esc(text)}</pre></section>
</body></html>
`;
}

export function writeReport(dir: string, r: EvaluationReport, meta: ReportMeta, text: string): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `eval-${meta.scenario}-${meta.runId}.json`);
  const html = join(dir, `eval-${meta.scenario}-${meta.runId}.html`);
  writeFileSync(json, JSON.stringify({ meta, targets: TARGETS, report: r }, null, 2));
  writeFileSync(html, renderHtml(r, meta, text));
  return [json, html];
}
