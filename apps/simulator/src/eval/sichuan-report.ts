import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SichuanFigures } from './evaluate-sichuan';

/** Targets of issue 12 for the Sichuan replay. */
export const SICHUAN_TARGETS = {
  recallOnCall: 0.8,
  medianAnswerToAlertS: 60,
  victimPrecision: 0.95,
  falseVictimAlertsPerMillion: 10,
  callerF1: 0.85,
};

export interface SichuanMeta {
  runId: string;
  seed: number;
  fold: number;
  folds: number;
  days: number;
  warp: number;
  data: string;
  dataSha256: string;
  model: { path: string; version: string; sha256: string; excludedFold: number | null } | null;
  /** the replay's behaviour fingerprint (the same for every run with this data, seed, fold and days) */
  fingerprint: string;
  numbers: number;
  fraudNumbers: number;
  calls: number;
  replayBase: string;
  startedAt: string;
  wallSeconds: number;
  eventsSent: number;
  eventsAccepted: number;
  eventsRejected: number;
  /** alerts of this run that reached the evaluation only through the REST listing */
  restOnlyAlerts: number;
}

/** The two ways an alert's moment is placed in event time. */
export interface SichuanResult {
  /** the event time the detector stamped on the alert (the event it decided on) */
  detector: SichuanFigures | null;
  /** when the alert reached the console, mapped through the time warp (includes pipeline latency x warp) */
  console: SichuanFigures;
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)} %`);
const secs = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} s`);
const numf = (x: number | null, d = 1): string => (x === null ? 'n/a' : x.toFixed(d));
const mark = (ok: boolean | null): string => (ok === null ? '' : ok ? 'met' : 'missed');

function rows(f: SichuanFigures): [string, string, string][] {
  const T = SICHUAN_TARGETS;
  return [
    [
      'hooked victims alerted on the call',
      `${pct(f.recallOnCall)} (${f.alertedOnCall}/${f.hookedVictims})`,
      mark(f.recallOnCall === null ? null : f.recallOnCall >= T.recallOnCall),
    ],
    [
      'median answer-to-alert (p90)',
      `${secs(f.medianAnswerToAlertS)} (${secs(f.p90AnswerToAlertS)})`,
      mark(f.medianAnswerToAlertS === null ? null : f.medianAnswerToAlertS <= T.medianAnswerToAlertS),
    ],
    ['hooked victims alerted at all', `${f.alertedAtAll}/${f.hookedVictims}`, ''],
    [
      'victim-alert precision',
      `${pct(f.victimPrecision)} (${f.victimAlertsTrue}/${f.victimAlerts})`,
      mark(f.victimPrecision === null ? null : f.victimPrecision >= T.victimPrecision),
    ],
    [
      'false victim alerts per million legit calls',
      `${numf(f.falseVictimAlertsPerMillion)} (${f.falseVictimAlerts} of ${f.legitAnsweredCalls})`,
      mark(
        f.falseVictimAlertsPerMillion === null
          ? null
          : f.falseVictimAlertsPerMillion <= T.falseVictimAlertsPerMillion,
      ),
    ],
    [
      'caller precision, first active day',
      `${pct(f.caller.precision)} (${f.caller.flaggedFraud}/${f.caller.flagged + f.caller.flaggedCounterparts})`,
      '',
    ],
    [
      'caller recall, first active day',
      `${pct(f.caller.recall)} (${f.caller.flaggedFraud}/${f.caller.fraudNumbers})`,
      '',
    ],
    [
      'caller F1, first active day',
      numf(f.caller.f1, 3),
      mark(f.caller.f1 === null ? null : f.caller.f1 >= T.callerF1),
    ],
    ['fraud callers flagged only later', String(f.caller.fraudFlaggedLater), ''],
    [
      'alerts per operator-hour',
      `${numf(f.alertsPerOperatorHour, 2)} (${f.alertsTotal} alerts, ${f.operators} x ${numf(f.hours, 1)} h)`,
      '',
    ],
  ];
}

/** The figures as a plain-text table: one column per way of timing the alerts. */
export function formatSichuanReport(r: SichuanResult, meta: SichuanMeta): string {
  const det = r.detector ? rows(r.detector) : null;
  const con = rows(r.console);
  const head = ['figure', 'detector event time', 'target', 'console arrival (warped)', 'target'];
  const body = con.map((c, i) => [c[0], det ? det[i][1] : 'n/a', det ? det[i][2] : '', c[1], c[2]]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const pad = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const f = r.detector ?? r.console;
  const m = meta.model;
  return [
    `Sichuan replay: fold ${meta.fold} of ${meta.folds} (seed ${meta.seed}), ${meta.numbers} held-out numbers ` +
      `(${meta.fraudNumbers} fraud), ${meta.days} days from ${meta.replayBase} at warp ${meta.warp}, run ${meta.runId} ` +
      `(${meta.wallSeconds.toFixed(0)} s wall)`,
    `model: ${m ? `${m.version} (${m.path}, trained without fold ${m.excludedFold ?? 'none'})` : 'the rules as they were (not changed)'}`,
    `replay fingerprint ${meta.fingerprint.slice(0, 16)}; ${meta.calls} answered calls; events sent ${meta.eventsSent}, ` +
      `accepted ${meta.eventsAccepted}, rejected ${meta.eventsRejected}`,
    `numbers without outgoing calls (not counted as callers): ${f.withoutOutgoing.fraud} fraud, ` +
      `${f.withoutOutgoing.normal} normal, ${f.withoutOutgoing.flagged} of them flagged; ` +
      `counterparts flagged: ${f.caller.flaggedCounterparts}`,
    `alerts by kind: ${
      Object.entries(f.alertsByKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }; by rule: ${
      Object.entries(f.alertsByRule)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    '',
    pad(head),
    pad(head.map((h) => '-'.repeat(h.length))),
    ...body.map(pad),
  ].join('\n');
}

export function writeSichuanReport(dir: string, r: SichuanResult, meta: SichuanMeta, text: string): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `eval-sichuan-${meta.runId}.json`);
  const txt = join(dir, `eval-sichuan-${meta.runId}.txt`);
  writeFileSync(json, JSON.stringify({ meta, targets: SICHUAN_TARGETS, figures: r }, null, 2));
  writeFileSync(txt, text + '\n');
  return [json, txt];
}
