import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Pool } from 'pg';
import { FEATURE_NAMES } from '@eagle-eye/scoring';
import { feedbackSet, FeedbackOptions, FeedbackStats } from './feedback-labels';
import { FeedbackRepository } from './feedback.repository';

export interface ExportOptions extends FeedbackOptions {
  carrierId: string;
  /** the samples file; the provenance goes beside it (`<out>.provenance.ndjson`) */
  out: string;
  /** who ran it, for the audit log */
  actor: string;
}

export interface ExportResult {
  stats: FeedbackStats;
  out: string;
  provenance: string;
  sha256: string;
}

/** The provenance file beside a feedback samples file. */
export function provenancePath(out: string): string {
  return `${out}.provenance.ndjson`;
}

/**
 * Exports one carrier's reviewed decisions as training samples in the format of step 1 of
 * `npm run train` (number, fold, label, active day, weight, features; a `# feedback ...` line
 * first), and one provenance line per number: its token, label, every decision (alert or report,
 * id, who, when) and the evidence steps its samples come from. Audited. An empty set is a valid
 * file with no rows: training then gives exactly the model of the published data alone.
 */
export async function exportFeedback(pool: Pool, o: ExportOptions): Promise<ExportResult> {
  const repo = new FeedbackRepository(pool);
  if (!(await repo.carrierExists(o.carrierId))) throw new Error(`no carrier ${o.carrierId}`);
  const decisions = await repo.decisions(o.carrierId);
  const tokens = [...new Set(decisions.map((d) => d.token))];
  const set = feedbackSet(decisions, await repo.evidence(o.carrierId, tokens), o);
  const lines = [
    `# feedback carrier=${o.carrierId} seed=${o.seed} folds=${o.folds} numbers=${set.stats.numbers} fraud=${set.stats.fraud} samples=${set.stats.samples}`,
    ['number', 'fold', 'label', 'active_day', 'weight', ...FEATURE_NAMES].join(','),
    ...set.rows.map((r) =>
      Array.from(r, (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(12))).join(','),
    ),
  ];
  const body = lines.join('\n') + '\n';
  const out = resolve(o.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, body);
  const provenance = provenancePath(out);
  writeFileSync(
    provenance,
    set.numbers
      .map((n) =>
        JSON.stringify({
          number: n.number,
          carrierId: o.carrierId,
          token: n.token,
          label: n.label,
          conflict: n.conflict,
          samples: n.samples,
          decisions: n.decisions.map((d) => ({
            source: d.source,
            id: d.id,
            decision: d.decision,
            by: d.by,
            at: d.at.toISOString(),
          })),
          evidence: n.evidence,
        }),
      )
      .map((l) => l + '\n')
      .join(''),
  );
  const sha256 = createHash('sha256').update(body).digest('hex');
  await repo.audit(o.actor, o.carrierId, { ...set.stats, sha256 });
  return { stats: set.stats, out, provenance, sha256 };
}
