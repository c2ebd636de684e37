import { Inject, Injectable } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import { AlertOutcome, AlertState, AlertView, Severity, AlertKind } from '@eagle-eye/contracts';
import { PG_POOL } from '@eagle-eye/db';
import { alertScopeSql } from '../auth/access-policy';
import { Principal } from '../auth/principal';

export interface AlertFilter {
  state?: AlertState[];
  severity?: Severity;
  kind?: AlertKind;
  region?: string;
  carrierId?: string;
  /** a number token, as victim or suspect */
  number?: string;
  limit: number;
  offset: number;
}

export interface AlertPage {
  items: AlertView[];
  total: number;
  limit: number;
  offset: number;
  /** newest change seq in the caller's scope when the page was read: connect the socket with it */
  seq: number;
}

export type HistoryEntry = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
};
export type NoteEntry = { id: string; at: string; author: string; text: string };

/** History and notes come with the alert up to this many (the newest); older ones page by cursor. */
export const DETAIL_PAGE = 200;

export interface AlertDetail extends AlertView {
  /** oldest first: the newest DETAIL_PAGE entries */
  history: HistoryEntry[];
  /** older history entries exist: GET /api/alerts/:id/history?beforeSeq=<first seq> */
  moreHistory: boolean;
  notes: NoteEntry[];
  /** older notes exist: GET /api/alerts/:id/notes?beforeId=<first id> */
  moreNotes: boolean;
}

export interface ScopedRow {
  id: string;
  state: AlertState;
  claimed_by: string | null;
  police_claimed_by: string | null;
  police: boolean;
  suspect: string;
  carrier_id: string;
  reasons: { rule: string }[];
}

/**
 * The console's changes to one alert, inside the transaction `AlertsRepository.act` opened with
 * the alert's row locked. Each change method is one statement; `stamp` records it in the alert's
 * history under a new change seq.
 */
export class AlertTx {
  constructor(
    /** the transaction's connection (for the audit row written in the same transaction) */
    readonly client: PoolClient,
    private readonly id: string,
    private readonly actor: string,
  ) {}

  /** A new change seq on the alert and its history row. */
  async stamp(action: string, detail: Record<string, unknown>): Promise<number> {
    const c = this.client;
    const seq = Number((await c.query<{ seq: string }>('SELECT alert_next_seq() AS seq')).rows[0].seq);
    await c.query('UPDATE alerts SET seq = $2, updated_at = now() WHERE id = $1', [this.id, seq]);
    await c.query(
      'INSERT INTO alert_history (seq, alert_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5)',
      [seq, this.id, this.actor, action, JSON.stringify(detail)],
    );
    return seq;
  }

  /** The carrier desk's claim. */
  async claimForDesk(): Promise<void> {
    await this.client.query(
      `UPDATE alerts SET state = 'claimed', claimed_by = $2, claimed_at = now() WHERE id = $1`,
      [this.id, this.actor],
    );
  }

  /** The police claim, beside the desk's; the alert's state does not change. */
  async claimForPolice(): Promise<void> {
    await this.client.query(
      `UPDATE alerts SET police_claimed_by = $2, police_claimed_at = now() WHERE id = $1`,
      [this.id, this.actor],
    );
  }

  async close(outcome: AlertOutcome): Promise<void> {
    await this.client.query(
      `UPDATE alerts SET state = 'closed', outcome = $2, outcome_by = $3, outcome_at = now() WHERE id = $1`,
      [this.id, outcome, this.actor],
    );
  }

  /** Routes the alert to police by hand; the desk's claim (if any) is handed on with it. */
  async escalate(): Promise<void> {
    await this.client.query(
      `UPDATE alerts SET state = 'escalated', police = true, police_reason = COALESCE(police_reason, 'escalated'),
              escalated_at = now(), claimed_by = NULL, claimed_at = NULL WHERE id = $1`,
      [this.id],
    );
  }

  async addNote(text: string): Promise<string> {
    const { rows } = await this.client.query<{ id: string }>(
      'INSERT INTO alert_notes (alert_id, author, text) VALUES ($1, $2, $3) RETURNING id::text',
      [this.id, this.actor, text],
    );
    return rows[0].id;
  }

  /** A false positive makes the suspect a whitelist candidate for the alert's carrier. */
  async countFalsePositive(carrierId: string, suspect: string): Promise<void> {
    await this.client.query(
      `INSERT INTO whitelist_candidates (carrier_id, suspect, last_alert_id) VALUES ($1, $2, $3)
       ON CONFLICT (carrier_id, suspect) DO UPDATE
         SET false_positives = whitelist_candidates.false_positives + 1, last_alert_id = $3, updated_at = now()`,
      [carrierId, suspect, this.id],
    );
  }
}

/**
 * Alert reads and console-side writes. Every statement carries the caller's scope in its WHERE
 * clause (alertScopeSql), so an alert outside it is simply not found.
 */
@Injectable()
export class AlertsRepository {
  constructor(@Inject(PG_POOL) readonly pool: Pool) {}

  async list(p: Principal, f: AlertFilter): Promise<AlertPage> {
    const params: unknown[] = [];
    const where = [alertScopeSql(p, params)];
    if (f.state?.length) {
      params.push(f.state);
      where.push(`a.state = ANY($${params.length}::text[])`);
    }
    for (const [col, v] of [
      ['severity', f.severity],
      ['kind', f.kind],
      ['region', f.region],
      ['carrier_id', f.carrierId],
    ] as const) {
      if (v !== undefined) {
        params.push(v);
        where.push(`a.${col} = $${params.length}`);
      }
    }
    if (f.number !== undefined) {
      params.push(f.number);
      where.push(`(a.victim = $${params.length} OR a.suspect = $${params.length})`);
    }
    const cond = where.join(' AND ');
    const c = await this.pool.connect();
    try {
      // one snapshot for the page and the seq, so a socket resumed from it misses nothing
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const scopeParams: unknown[] = [];
      const seq = await c.query<{ seq: string | null }>(
        `SELECT max(a.seq) AS seq FROM alerts a WHERE ${alertScopeSql(p, scopeParams)}`,
        scopeParams,
      );
      const total = await c.query<{ n: string }>(`SELECT count(*) AS n FROM alerts a WHERE ${cond}`, params);
      const items = await c.query<{ view: AlertView }>(
        `SELECT a.view FROM alert_views a WHERE ${cond}
          ORDER BY (a.state = 'closed'), (a.severity = 'critical') DESC, a.raised_at DESC, a.id DESC
          LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, f.limit, f.offset],
      );
      await c.query('COMMIT');
      return {
        items: items.rows.map((r) => r.view),
        total: Number(total.rows[0].n),
        limit: f.limit,
        offset: f.offset,
        seq: Number(seq.rows[0].seq ?? 0),
      };
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async get(p: Principal, id: string): Promise<AlertDetail | null> {
    const params: unknown[] = [id];
    const { rows } = await this.pool.query<{ view: AlertView }>(
      `SELECT a.view FROM alert_views a WHERE a.id = $1 AND ${alertScopeSql(p, params)}`,
      params,
    );
    if (!rows[0]) return null;
    const [history, notes] = await Promise.all([
      this.historyPage(id, null, DETAIL_PAGE),
      this.notesPage(id, null, DETAIL_PAGE),
    ]);
    return {
      ...rows[0].view,
      history: history.items,
      moreHistory: history.more,
      notes: notes.items,
      moreNotes: notes.more,
    };
  }

  /** Whether the alert is in the principal's scope (for reads of its history and notes). */
  async inScope(p: Principal, id: string): Promise<boolean> {
    const params: unknown[] = [id];
    const { rows } = await this.pool.query(
      `SELECT 1 FROM alerts a WHERE a.id = $1 AND ${alertScopeSql(p, params)}`,
      params,
    );
    return rows.length > 0;
  }

  /** History entries older than `beforeSeq` (null: the newest), oldest first, at most `limit`. */
  async historyPage(
    id: string,
    beforeSeq: number | null,
    limit: number,
  ): Promise<{ items: HistoryEntry[]; more: boolean }> {
    const { rows } = await this.pool.query<HistoryEntry>(
      `SELECT seq::int8::float8 AS seq, alert_iso(at) AS at, actor, action, detail FROM alert_history
        WHERE alert_id = $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
      [id, beforeSeq, limit + 1],
    );
    return { items: rows.slice(0, limit).reverse(), more: rows.length > limit };
  }

  /** Notes older than `beforeId` (null: the newest), oldest first, at most `limit`. */
  async notesPage(
    id: string,
    beforeId: string | null,
    limit: number,
  ): Promise<{ items: NoteEntry[]; more: boolean }> {
    const { rows } = await this.pool.query<NoteEntry>(
      `SELECT id::text, alert_iso(at) AS at, author, text FROM alert_notes
        WHERE alert_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [id, beforeId, limit + 1],
    );
    return { items: rows.slice(0, limit).reverse(), more: rows.length > limit };
  }

  /** Changes in scope after `afterSeq`, oldest first (for a reconnecting client). */
  async changesSince(
    p: Principal,
    afterSeq: number,
    limit: number,
  ): Promise<{ view: AlertView; createdSeq: number }[]> {
    const params: unknown[] = [afterSeq, limit];
    const { rows } = await this.pool.query<{ view: AlertView; created_seq: string }>(
      `SELECT a.view, a.created_seq FROM alert_views a
        WHERE a.seq > $1 AND ${alertScopeSql(p, params)} ORDER BY a.seq LIMIT $2`,
      params,
    );
    return rows.map((r) => ({ view: r.view, createdSeq: Number(r.created_seq) }));
  }

  async viewOf(id: string, c?: PoolClient): Promise<AlertView> {
    const { rows } = await (c ?? this.pool).query<{ view: AlertView }>(
      'SELECT view FROM alert_views WHERE id = $1',
      [id],
    );
    return rows[0].view;
  }

  /**
   * Runs a console action on one alert in one transaction: locks the row in the caller's scope
   * (null: not found in scope), lets fn change it through `AlertTx`, which stamps each change
   * with a new change seq and a history row.
   */
  async act<T>(p: Principal, id: string, fn: (row: ScopedRow, tx: AlertTx) => Promise<T>): Promise<T | null> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const params: unknown[] = [id];
      const { rows } = await c.query<ScopedRow>(
        `SELECT a.id, a.state, a.claimed_by, a.police_claimed_by, a.police, a.suspect, a.carrier_id, a.reasons
           FROM alerts a WHERE a.id = $1 AND ${alertScopeSql(p, params)} FOR UPDATE`,
        params,
      );
      if (!rows[0]) {
        await c.query('ROLLBACK');
        return null;
      }
      const result = await fn(rows[0], new AlertTx(c, id, p.username));
      await c.query('COMMIT');
      return result;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** Outcomes per rule that contributed to closed alerts: what share of them were real fraud. */
  async rulePrecision(): Promise<
    {
      rule: string;
      closed: number;
      falsePositives: number;
      confirmed: number;
      dissuaded: number;
      precision: number | null;
    }[]
  > {
    const { rows } = await this.pool.query<{
      rule: string;
      closed: string;
      fp: string;
      confirmed: string;
      dissuaded: string;
    }>(
      `SELECT r->>'rule' AS rule, count(*) AS closed,
              count(*) FILTER (WHERE a.outcome = 'false_positive') AS fp,
              count(*) FILTER (WHERE a.outcome = 'confirmed_fraud') AS confirmed,
              count(*) FILTER (WHERE a.outcome = 'dissuaded') AS dissuaded
         FROM alerts a, jsonb_array_elements(a.reasons) r
        WHERE a.outcome IS NOT NULL AND a.outcome <> 'victim_unreachable'
          AND COALESCE((r->>'reportOnly')::boolean, false) = false
        GROUP BY 1 ORDER BY 1`,
    );
    return rows.map((r) => {
      const closed = Number(r.closed);
      const fp = Number(r.fp);
      return {
        rule: r.rule,
        closed,
        falsePositives: fp,
        confirmed: Number(r.confirmed),
        dissuaded: Number(r.dissuaded),
        precision: closed ? (closed - fp) / closed : null,
      };
    });
  }

  async whitelistCandidates(
    carrierId: string | null,
  ): Promise<
    { carrierId: string; suspect: string; falsePositives: number; lastAlertId: string; updatedAt: string }[]
  > {
    const { rows } = await this.pool.query(
      `SELECT carrier_id AS "carrierId", suspect, false_positives AS "falsePositives", last_alert_id::text AS "lastAlertId",
              alert_iso(updated_at) AS "updatedAt"
         FROM whitelist_candidates WHERE ($1::text IS NULL OR carrier_id = $1)
        ORDER BY false_positives DESC, updated_at DESC LIMIT 500`,
      [carrierId],
    );
    return rows;
  }
}

export type { AlertOutcome };
