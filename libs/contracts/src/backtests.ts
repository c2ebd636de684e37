import type { AlertKind, AlertOutcome, Severity } from './alerts';

/**
 * A backtest's report, as the detector's backtest runner stores it (table `backtests`) and the
 * console shows it: the alerts a candidate rule set or model would have raised over recorded
 * traffic, against the alerts raised live and the outcomes desks recorded on them.
 */

/**
 * One alert as both sides know it, keyed the way PostgreSQL keeps alerts unique: one per carrier,
 * call and kind, one per carrier and suspect number (migration 030). Severity is the highest the
 * alert reached (the worker only ever upgrades one).
 */
export interface BacktestAlert {
  kind: AlertKind;
  carrierId: string;
  /** call alerts only */
  callId?: string;
  suspect: string;
  severity: Severity;
  /** event time the alert was first raised at, epoch ms */
  eventTimeMs: number;
}

/** An alert raised live: its id, and the outcome recorded on it (null: none yet). */
export interface LiveAlert extends BacktestAlert {
  id: string;
  outcome: AlertOutcome | null;
}

/** Outcome as counted: the recorded one, or `open` when nobody has recorded one yet. */
export type OutcomeBucket = AlertOutcome | 'open';

export interface BacktestCounts {
  live: number;
  backtest: number;
  matched: number;
  missed: number;
  new: number;
  severityChanged: number;
  /** per outcome recorded on the live alerts: how many the candidate kept and how many it dropped */
  byOutcome: Record<OutcomeBucket, { live: number; kept: number; dropped: number }>;
  byKind: Record<AlertKind, { live: number; backtest: number; matched: number; missed: number; new: number }>;
}

/** The stored report: the period, the candidate changes, the counts and the first alerts of each list. */
export interface BacktestReport {
  /** ISO times of the replayed period */
  from: string;
  to: string;
  carriers: string[];
  changes: unknown[];
  counts: BacktestCounts;
  missed: LiveAlert[];
  added: BacktestAlert[];
  severityChanged: { live: LiveAlert; backtest: BacktestAlert }[];
  /** the report as the command printed it */
  text: string;
}
