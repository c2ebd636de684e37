import { FEATURE_COUNT, FEATURE_NAMES } from '@eagle-eye/scoring';
import { classifyPseudonym } from '@eagle-eye/pseudonym';
import { foldOf } from '../sichuan/profile';

/**
 * A human decision about a number: an alert outcome a desk recorded (confirmed fraud / false
 * positive) or a supervisor's review of public and police reports (confirmed / dismissed).
 */
export interface FeedbackDecision {
  source: 'alert' | 'report';
  /** alert id or report id */
  id: string;
  token: string;
  fraud: boolean;
  /** confirmed_fraud, false_positive, confirmed or dismissed */
  decision: string;
  by: string | null;
  at: Date;
}

/** One detection step's caller-model features of a number (alert_evidence.caller_features). */
export interface FeedbackEvidence {
  token: string;
  alertId: string;
  seq: string;
  eventTime: Date;
  features: Record<string, unknown>;
}

/** Feedback numbers are numbered from here, apart from the published rows (0 .. rows - 1). */
export const FEEDBACK_NUMBER_BASE = 1_000_000;

export interface FeedbackNumber {
  /** the number column of its samples */
  number: number;
  token: string;
  label: 0 | 1;
  /** its decisions disagree (the latest decided) */
  conflict: boolean;
  decisions: FeedbackDecision[];
  /** the alerts and evidence steps its samples come from */
  evidence: { alertId: string; seq: string; eventTime: string }[];
  samples: number;
}

export interface FeedbackStats {
  decisions: number;
  /** numbers with a label and at least one feature snapshot */
  numbers: number;
  fraud: number;
  samples: number;
  /** labelled numbers the model never judged (no snapshot): nothing to learn from yet */
  withoutFeatures: number;
  /** numbers whose decisions disagree */
  conflicts: number;
  /** snapshots of another feature set (an older model generation) */
  incomplete: number;
  /** same features as an earlier step of the same number */
  duplicates: number;
  /** tokens that are not pseudonyms: never exported */
  refused: number;
}

export interface FeedbackSet {
  /** number, fold, label, active day (0), weight, then FEATURE_NAMES: the training samples' format */
  rows: Float64Array[];
  numbers: FeedbackNumber[];
  stats: FeedbackStats;
}

export interface FeedbackOptions {
  folds: number;
  seed: number;
  /** most samples kept per number (evenly spaced over its steps), like the published data's per day */
  perNumber: number;
}

/**
 * Labelled training samples from reviewed decisions and the alerts' feature snapshots. One label
 * per number: its latest decision (a supervisor confirming reports after a desk called an alert a
 * false positive is the newer knowledge, and the reverse); disagreements are counted and named in
 * the provenance. A number's samples are its distinct snapshots, at most `perNumber`, weighing 1
 * together: each number counts as much as one published number, whatever its alert count. Folds
 * come from the token the way the published rows' come from their pseudonym.
 */
export function feedbackSet(
  decisions: FeedbackDecision[],
  evidence: FeedbackEvidence[],
  o: FeedbackOptions,
): FeedbackSet {
  const stats: FeedbackStats = {
    decisions: decisions.length,
    numbers: 0,
    fraud: 0,
    samples: 0,
    withoutFeatures: 0,
    conflicts: 0,
    incomplete: 0,
    duplicates: 0,
    refused: 0,
  };
  const byToken = new Map<string, FeedbackDecision[]>();
  for (const d of decisions) {
    if (classifyPseudonym(d.token) !== 'ok') {
      stats.refused++;
      continue;
    }
    const l = byToken.get(d.token) ?? [];
    l.push(d);
    byToken.set(d.token, l);
  }
  const steps = new Map<string, FeedbackEvidence[]>();
  for (const e of evidence) {
    const l = steps.get(e.token) ?? [];
    l.push(e);
    steps.set(e.token, l);
  }
  const rows: Float64Array[] = [];
  const numbers: FeedbackNumber[] = [];
  for (const token of [...byToken.keys()].sort()) {
    const ds = byToken
      .get(token)!
      .sort(
        (a, b) => a.at.getTime() - b.at.getTime() || a.source.localeCompare(b.source) || cmpId(a.id, b.id),
      );
    const label = ds[ds.length - 1].fraud ? 1 : 0;
    const conflict = ds.some((d) => d.fraud !== ds[0].fraud);
    const seen = new Set<string>();
    const kept: { x: Float64Array; e: FeedbackEvidence }[] = [];
    const ordered = (steps.get(token) ?? []).sort(
      (a, b) => a.eventTime.getTime() - b.eventTime.getTime() || cmpId(a.seq, b.seq),
    );
    for (const e of ordered) {
      const x = vectorOf(e.features);
      if (!x) {
        stats.incomplete++;
        continue;
      }
      const key = x.join(',');
      if (seen.has(key)) {
        stats.duplicates++;
        continue;
      }
      seen.add(key);
      kept.push({ x, e });
    }
    if (!kept.length) {
      stats.withoutFeatures++;
      continue;
    }
    const n = Math.min(o.perNumber, kept.length);
    const step = kept.length / n;
    const chosen = Array.from({ length: n }, (_, i) => kept[Math.floor(i * step)]);
    const number = FEEDBACK_NUMBER_BASE + numbers.length;
    const fold = foldOf(token, o.folds, o.seed);
    for (const { x } of chosen) {
      const row = new Float64Array(5 + FEATURE_COUNT);
      row.set([number, fold, label, 0, 1 / n]);
      row.set(x, 5);
      rows.push(row);
    }
    if (conflict) stats.conflicts++;
    stats.numbers++;
    stats.fraud += label;
    stats.samples += n;
    numbers.push({
      number,
      token,
      label,
      conflict,
      decisions: ds,
      evidence: chosen.map(({ e }) => ({
        alertId: e.alertId,
        seq: e.seq,
        eventTime: e.eventTime.toISOString(),
      })),
      samples: n,
    });
  }
  return { rows, numbers, stats };
}

function cmpId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** The snapshot in FEATURE_NAMES order; null when any feature is missing or not a finite number. */
function vectorOf(f: Record<string, unknown>): Float64Array | null {
  const x = new Float64Array(FEATURE_COUNT);
  for (const [i, name] of FEATURE_NAMES.entries()) {
    const v = f[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    x[i] = v;
  }
  return x;
}
