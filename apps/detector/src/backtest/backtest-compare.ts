import { AlertKind, BacktestAlert, BacktestCounts, LiveAlert, OutcomeBucket } from '@eagle-eye/contracts';

// the report's types are a contract with the console (libs/contracts backtests.ts)
export type { AlertKind, BacktestAlert, LiveAlert, OutcomeBucket };

export function alertKey(a: Pick<BacktestAlert, 'kind' | 'carrierId' | 'callId' | 'suspect'>): string {
  return a.kind === 'suspect_number'
    ? `${a.carrierId}|suspect|${a.suspect}`
    : `${a.carrierId}|${a.kind}|${a.callId ?? ''}`;
}

export const OUTCOME_BUCKETS: readonly OutcomeBucket[] = [
  'confirmed_fraud',
  'dissuaded',
  'victim_unreachable',
  'false_positive',
  'open',
];

export interface Comparison {
  /** raised by both (severity may differ) */
  matched: { live: LiveAlert; backtest: BacktestAlert }[];
  /** raised live, not by the candidate */
  missed: LiveAlert[];
  /** raised only by the candidate */
  added: BacktestAlert[];
  /** matched alerts whose highest severity differs */
  severityChanged: { live: LiveAlert; backtest: BacktestAlert }[];
  counts: BacktestCounts;
}

const KINDS: AlertKind[] = ['victim_on_call', 'post_call', 'suspect_number'];

/** Matches the candidate's alerts against the live ones, by alert key. Pure, order-independent. */
export function compareAlerts(live: LiveAlert[], backtest: BacktestAlert[]): Comparison {
  const byKey = new Map(backtest.map((b) => [alertKey(b), b]));
  const liveKeys = new Set<string>();
  const out: Comparison = {
    matched: [],
    missed: [],
    added: [],
    severityChanged: [],
    counts: {
      live: live.length,
      backtest: backtest.length,
      matched: 0,
      missed: 0,
      new: 0,
      severityChanged: 0,
      byOutcome: Object.fromEntries(
        OUTCOME_BUCKETS.map((o) => [o, { live: 0, kept: 0, dropped: 0 }]),
      ) as Comparison['counts']['byOutcome'],
      byKind: Object.fromEntries(
        KINDS.map((k) => [k, { live: 0, backtest: 0, matched: 0, missed: 0, new: 0 }]),
      ) as Comparison['counts']['byKind'],
    },
  };
  const c = out.counts;
  for (const l of live) {
    const key = alertKey(l);
    liveKeys.add(key);
    const b = byKey.get(key);
    const o = c.byOutcome[l.outcome ?? 'open'];
    o.live++;
    c.byKind[l.kind].live++;
    if (b) {
      out.matched.push({ live: l, backtest: b });
      o.kept++;
      c.byKind[l.kind].matched++;
      if (b.severity !== l.severity) out.severityChanged.push({ live: l, backtest: b });
    } else {
      out.missed.push(l);
      o.dropped++;
      c.byKind[l.kind].missed++;
    }
  }
  for (const b of backtest) {
    c.byKind[b.kind].backtest++;
    if (!liveKeys.has(alertKey(b))) {
      out.added.push(b);
      c.byKind[b.kind].new++;
    }
  }
  c.matched = out.matched.length;
  c.missed = out.missed.length;
  c.new = out.added.length;
  c.severityChanged = out.severityChanged.length;
  return out;
}

const OUTCOME_WORDS: Record<OutcomeBucket, string> = {
  confirmed_fraud: 'confirmed as fraud',
  dissuaded: 'dissuaded',
  victim_unreachable: 'victim unreachable',
  false_positive: 'false positive',
  open: 'no outcome yet',
};

/**
 * What a supervisor reads: the totals, then per outcome what the candidate keeps and drops, with the
 * sentence that matters first ("would have dropped 3 alerts desks confirmed as fraud").
 */
export function formatComparison(cmp: Comparison): string[] {
  const c = cmp.counts;
  const lines = [
    `  alerts: live ${c.live}, backtest ${c.backtest}`,
    `  matched ${c.matched} (severity differs on ${c.severityChanged}), missed ${c.missed} (live only), new ${c.new} (backtest only)`,
    '  by kind:',
  ];
  for (const k of KINDS) {
    const x = c.byKind[k];
    lines.push(
      `    ${k.padEnd(15)} live ${x.live}, backtest ${x.backtest}, matched ${x.matched}, missed ${x.missed}, new ${x.new}`,
    );
  }
  lines.push('  live alerts by recorded outcome (kept / dropped by the candidate):');
  for (const o of OUTCOME_BUCKETS) {
    const x = c.byOutcome[o];
    lines.push(`    ${OUTCOME_WORDS[o].padEnd(20)} ${x.live} (kept ${x.kept}, dropped ${x.dropped})`);
  }
  const fraud = c.byOutcome.confirmed_fraud.dropped;
  const fp = c.byOutcome.false_positive.dropped;
  if (fraud)
    lines.push(`  WARNING: this change would have dropped ${fraud} alert(s) that desks confirmed as fraud`);
  if (fp) lines.push(`  this change would have spared desks ${fp} alert(s) they marked as false positives`);
  if (!c.missed && !c.new && !c.severityChanged) lines.push('  the candidate raises exactly the live alerts');
  return lines;
}
