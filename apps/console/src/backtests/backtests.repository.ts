import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL } from '@eagle-eye/db';
import { CandidateChange } from '@eagle-eye/rules';

export type BacktestStatus = 'queued' | 'running' | 'done' | 'failed';

/** A backtest as the console lists it (the report only on the detail). */
export interface BacktestSummary {
  id: string;
  requestedBy: string;
  requestedAt: string;
  carrierScope: string | null;
  carriers: string[];
  from: string;
  to: string;
  changes: CandidateChange[];
  note: string;
  status: BacktestStatus;
  startedAt: string | null;
  finishedAt: string | null;
  progress: string | null;
  error: string | null;
  counts: Record<string, unknown> | null;
}

export interface BacktestDetail extends BacktestSummary {
  report: Record<string, unknown> | null;
}

interface Row {
  id: string;
  requested_by: string;
  requested_at: Date;
  carrier_scope: string | null;
  carriers: string[];
  period_from: Date;
  period_to: Date;
  changes: CandidateChange[];
  note: string;
  status: BacktestStatus;
  started_at: Date | null;
  finished_at: Date | null;
  progress: string | null;
  error: string | null;
  counts: Record<string, unknown> | null;
  report?: Record<string, unknown> | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function summary(r: Row): BacktestSummary {
  return {
    id: r.id,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at.toISOString(),
    carrierScope: r.carrier_scope,
    carriers: r.carriers,
    from: r.period_from.toISOString(),
    to: r.period_to.toISOString(),
    changes: r.changes,
    note: r.note,
    status: r.status,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    progress: r.progress,
    error: r.error,
    counts: r.counts,
  };
}

const COLUMNS = `id, requested_by, requested_at, carrier_scope, carriers, period_from, period_to, changes,
  note, status, started_at, finished_at, progress, error, counts`;

/**
 * Backtest requests (migration 097). `scope` is the reader's carrier: a supervisor of one carrier
 * sees that carrier's requests only (another's is not found); null sees every request.
 */
@Injectable()
export class BacktestsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async create(r: {
    requestedBy: string;
    carrierScope: string | null;
    carriers: string[];
    from: Date;
    to: Date;
    changes: CandidateChange[];
    note: string;
  }): Promise<BacktestSummary> {
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO backtests (requested_by, carrier_scope, carriers, period_from, period_to, changes, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [r.requestedBy, r.carrierScope, r.carriers, r.from, r.to, JSON.stringify(r.changes), r.note],
    );
    return summary(rows[0]);
  }

  async list(scope: string | null, limit: number): Promise<BacktestSummary[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS} FROM backtests WHERE ($1::text IS NULL OR carrier_scope = $1)
        ORDER BY id DESC LIMIT $2`,
      [scope, limit],
    );
    return rows.map(summary);
  }

  async get(scope: string | null, id: string): Promise<BacktestDetail | null> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLUMNS}, report FROM backtests WHERE id = $1 AND ($2::text IS NULL OR carrier_scope = $2)`,
      [id, scope],
    );
    return rows[0] ? { ...summary(rows[0]), report: rows[0].report ?? null } : null;
  }
}
