import { Pool } from 'pg';
import type { FeedbackDecision, FeedbackEvidence } from './feedback-labels';

/**
 * What the model's feedback loop reads from PostgreSQL, for one carrier (the tenant) at a time:
 * the decisions people made and the feature snapshots kept with that carrier's alerts. Tokens
 * only; no clear number is stored anywhere to be read.
 */
export class FeedbackRepository {
  constructor(private readonly pool: Pool) {}

  async carrierExists(carrierId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(`SELECT 1 FROM carriers WHERE id = $1`, [carrierId]);
    return rowCount === 1;
  }

  /**
   * Outcomes recorded on the carrier's alerts (confirmed fraud / false positive), and reviewed
   * reports (confirmed / dismissed) of numbers the carrier's alerts name as suspect: a report is
   * not the carrier's own record, and only a number the carrier saw has that carrier's features.
   */
  async decisions(carrierId: string): Promise<FeedbackDecision[]> {
    const { rows } = await this.pool.query<{
      source: 'alert' | 'report';
      id: string;
      token: string;
      fraud: boolean;
      decision: string;
      by: string | null;
      at: Date;
    }>(
      `SELECT 'alert' AS source, a.id::text AS id, a.suspect AS token, a.outcome = 'confirmed_fraud' AS fraud,
              a.outcome AS decision, a.outcome_by AS by, COALESCE(a.outcome_at, a.updated_at) AS at
         FROM alerts a
        WHERE a.carrier_id = $1 AND a.outcome IN ('confirmed_fraud', 'false_positive')
       UNION ALL
       SELECT 'report', r.id::text, r.number_token, r.state = 'confirmed', r.state, r.reviewed_by,
              COALESCE(r.reviewed_at, r.reported_at)
         FROM number_reports r
        WHERE r.state IN ('confirmed', 'dismissed')
          AND EXISTS (SELECT 1 FROM alerts a WHERE a.carrier_id = $1 AND a.suspect = r.number_token)
        ORDER BY 2`,
      [carrierId],
    );
    return rows;
  }

  /** Every feature snapshot of the carrier's alerts on these numbers (as their suspect). */
  async evidence(carrierId: string, tokens: string[]): Promise<FeedbackEvidence[]> {
    if (!tokens.length) return [];
    const { rows } = await this.pool.query<{
      token: string;
      alert_id: string;
      seq: string;
      event_time: Date;
      caller_features: Record<string, unknown>;
    }>(
      `SELECT a.suspect AS token, a.id::text AS alert_id, e.seq::text AS seq, e.event_time, e.caller_features
         FROM alerts a JOIN alert_evidence e ON e.alert_id = a.id
        WHERE a.carrier_id = $1 AND a.suspect = ANY($2::text[]) AND e.caller_features IS NOT NULL
        ORDER BY a.suspect, e.event_time, e.seq`,
      [carrierId, tokens],
    );
    return rows.map((r) => ({
      token: r.token,
      alertId: r.alert_id,
      seq: r.seq,
      eventTime: r.event_time,
      features: r.caller_features,
    }));
  }

  /** The export is a read of labelled numbers across a carrier's alerts: audited like any other. */
  async audit(actor: string, carrierId: string, detail: Record<string, unknown>): Promise<void> {
    await this.pool.query(
      `INSERT INTO audit_log (actor, actor_role, action, object_type, object_id, carrier_id, detail)
       VALUES ($1, 'cli', 'feedback.export', 'training_feedback', $2, $2, $3)`,
      [actor, carrierId, JSON.stringify(detail)],
    );
  }
}
