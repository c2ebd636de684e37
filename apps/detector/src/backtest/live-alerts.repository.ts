import { Pool } from 'pg';
import { AlertOutcome, Severity } from '@eagle-eye/contracts';
import { AlertKind, LiveAlert } from './backtest-compare';

interface Row {
  id: string;
  kind: AlertKind;
  carrier_id: string;
  call_id: string | null;
  suspect: string;
  severity: Severity;
  event_ms: string;
  outcome: AlertOutcome | null;
}

/** The alerts the live system stored, as the backtest compares them (read only). */
export class LiveAlertsRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Alerts first raised in [fromMs, toMs] of event time, of the given carriers (all when empty),
   * with the outcome desks recorded on them.
   */
  async between(fromMs: number, toMs: number, carriers: string[]): Promise<LiveAlert[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT id::text, kind, carrier_id, call_id, suspect, severity,
              (extract(epoch FROM event_time) * 1000)::bigint::text AS event_ms, outcome
         FROM alerts
        WHERE event_time >= to_timestamp($1 / 1000.0) AND event_time <= to_timestamp($2 / 1000.0)
          AND (cardinality($3::text[]) = 0 OR carrier_id = ANY($3::text[]))
        ORDER BY event_time, id`,
      [fromMs, toMs, carriers],
    );
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      carrierId: r.carrier_id,
      ...(r.call_id !== null ? { callId: r.call_id } : {}),
      suspect: r.suspect,
      severity: r.severity,
      eventTimeMs: Number(r.event_ms),
      outcome: r.outcome,
    }));
  }

  /** One audit row per backtest run: who compared which alerts, with what, and what came out. */
  async audit(run: {
    actor: string;
    carriers: string[];
    from: number;
    to: number;
    input: string;
    changes: unknown[];
    model: string | null;
    counts: unknown;
  }): Promise<void> {
    await this.pool.query(
      `INSERT INTO audit_log (actor, actor_role, action, object_type, object_id, carrier_id, detail)
       VALUES ($1, 'operator-cli', 'backtest.run', 'backtest', NULL, $2, $3)`,
      [
        run.actor,
        run.carriers.length === 1 ? run.carriers[0] : null,
        JSON.stringify({
          carriers: run.carriers,
          from: new Date(run.from).toISOString(),
          to: new Date(run.to).toISOString(),
          input: run.input,
          changes: run.changes,
          model: run.model,
          counts: run.counts,
        }),
      ],
    );
  }
}
