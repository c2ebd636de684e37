import { Inject, Injectable, Optional } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import {
  AlertReason,
  AlertView,
  CallEndedJob,
  Severity,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { PG_POOL } from '@eagle-eye/db';
import { traceIdOf } from '@eagle-eye/observability';
import { FEATURE_COUNT, FEATURE_NAMES } from '@eagle-eye/scoring';
import { alertWriteBatchSize } from './alert-worker.metrics';

/** Provider of the most writes one transaction takes (ALERT_WORKER_WRITE_BATCH). */
export const ALERT_WRITE_BATCH = Symbol('ALERT_WRITE_BATCH');
const DEFAULT_WRITE_BATCH = 32;

/** What one job did to the alerts table: the alerts it created or changed, and whether it was new. */
export interface AlertChange {
  alertId: string;
  created: boolean;
}

interface AlertFacts {
  id: string;
  severity: Severity;
  score: number;
  reasons: AlertReason[];
  step_s: number;
  call_ended_at: Date | null;
  talk_time_s: number | null;
  police: boolean;
  police_reason: string | null;
}

export interface PublishableAlert {
  view: AlertView;
  created: boolean;
}

/**
 * Every write to the alerts table of the worker. Each write runs in one transaction that takes the
 * next change sequence first (a transaction-scoped advisory lock: seq order is commit order), so a
 * crash before COMMIT leaves nothing and a retry of the same job finds the row it already wrote.
 */
@Injectable()
export class AlertRepository {
  /** writes waiting for the next transaction (see tx) */
  private readonly pending: PendingWrite[] = [];
  private committing = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    /** at most this many writes share one transaction */
    @Optional() @Inject(ALERT_WRITE_BATCH) private readonly maxBatch: number = DEFAULT_WRITE_BATCH,
  ) {}

  async upsertCallAlert(j: VictimOnCallJob): Promise<AlertChange[]> {
    return this.tx(async (c, seq) => {
      const existing = await c.query<AlertFacts>(
        `SELECT id, severity, score, reasons, step_s, call_ended_at, talk_time_s, police, police_reason
           FROM alerts WHERE carrier_id = $1 AND call_id = $2 AND kind = $3 FOR UPDATE`,
        [j.carrierId, j.callId, j.kind],
      );
      if (!existing.rows[0]) {
        const police = j.severity === 'critical';
        const { rows } = await c.query<{ id: string }>(
          `INSERT INTO alerts (kind, carrier_id, call_id, victim, suspect, region, severity, score, reasons,
              step_s, call_answered_at, call_ended_at, talk_time_s, event_time, raised_at, police, police_reason,
              created_seq, seq, trace_id)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, to_timestamp($11 / 1000.0),
                  COALESCE(to_timestamp($12 / 1000.0), e.call_ended_at), COALESCE($13, e.talk_time_s),
                  to_timestamp($14 / 1000.0), to_timestamp($15 / 1000.0), $16, $17, $18, $18, $19
             FROM (SELECT 1) one
             LEFT JOIN alert_call_ends e ON e.carrier_id = $2 AND e.call_id = $3
           RETURNING id`,
          [
            j.kind,
            j.carrierId,
            j.callId,
            j.victim,
            j.suspect,
            j.region,
            j.severity,
            j.score,
            JSON.stringify(j.reasons),
            j.stepS,
            j.callAnsweredAt,
            j.callEndedAt ?? null,
            j.talkTimeS ?? null,
            j.eventTimeMs,
            j.raisedAt,
            police,
            police ? 'critical' : null,
            seq,
            traceIdOf(j.traceparent) ?? null,
          ],
        );
        await this.history(c, seq, rows[0].id, 'created', {
          severity: j.severity,
          score: j.score,
          stepS: j.stepS,
          ...traced(j),
        });
        await this.evidence(c, seq, rows[0].id, 'created', j);
        return [{ alertId: rows[0].id, created: true }];
      }
      const r = existing.rows[0];
      const next = mergeFacts(r, j);
      if (!next) return [];
      await c.query(
        `UPDATE alerts SET severity = $2, score = $3, reasons = $4, step_s = $5,
                call_ended_at = COALESCE(call_ended_at, to_timestamp($6 / 1000.0)),
                talk_time_s = COALESCE(talk_time_s, $7), police = $8, police_reason = $9,
                updated_at = now(), seq = $10, trace_id = COALESCE($11, trace_id)
          WHERE id = $1`,
        [
          r.id,
          next.severity,
          next.score,
          JSON.stringify(next.reasons),
          next.stepS,
          j.callEndedAt ?? null,
          j.talkTimeS ?? null,
          next.police,
          next.policeReason,
          seq,
          traceIdOf(j.traceparent) ?? null,
        ],
      );
      const action = next.severity !== r.severity ? 'upgraded' : 'updated';
      await this.history(c, seq, r.id, action, {
        severity: next.severity,
        score: next.score,
        stepS: next.stepS,
        ...traced(j),
      });
      await this.evidence(c, seq, r.id, action, j);
      return [{ alertId: r.id, created: false }];
    });
  }

  async upsertSuspectAlert(j: SuspectNumberJob): Promise<AlertChange[]> {
    return this.tx(async (c, seq) => {
      const existing = await c.query<AlertFacts>(
        `SELECT id, severity, score, reasons, step_s, call_ended_at, talk_time_s, police, police_reason
           FROM alerts WHERE carrier_id = $1 AND suspect = $2 AND kind = 'suspect_number' FOR UPDATE`,
        [j.carrierId, j.suspect],
      );
      if (!existing.rows[0]) {
        const { rows } = await c.query<{ id: string }>(
          `INSERT INTO alerts (kind, carrier_id, suspect, region, severity, score, reasons, event_time, raised_at,
              police, police_reason, created_seq, seq, trace_id)
           VALUES ('suspect_number', $1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0), to_timestamp($8 / 1000.0),
              true, 'suspect_number', $9, $9, $10)
           RETURNING id`,
          [
            j.carrierId,
            j.suspect,
            j.region ?? null,
            j.severity,
            j.score,
            JSON.stringify(j.reasons),
            j.eventTimeMs,
            j.raisedAt,
            seq,
            traceIdOf(j.traceparent) ?? null,
          ],
        );
        await this.history(c, seq, rows[0].id, 'created', {
          severity: j.severity,
          score: j.score,
          ...traced(j),
        });
        await this.evidence(c, seq, rows[0].id, 'created', j);
        return [{ alertId: rows[0].id, created: true }];
      }
      const r = existing.rows[0];
      const next = mergeFacts(r, { ...j, stepS: r.step_s });
      if (!next) return [];
      await c.query(
        `UPDATE alerts SET severity = $2, score = $3, reasons = $4, region = COALESCE(region, $5),
                updated_at = now(), seq = $6, trace_id = COALESCE($7, trace_id) WHERE id = $1`,
        [
          r.id,
          next.severity,
          next.score,
          JSON.stringify(next.reasons),
          j.region ?? null,
          seq,
          traceIdOf(j.traceparent) ?? null,
        ],
      );
      const action = next.severity !== r.severity ? 'upgraded' : 'updated';
      await this.history(c, seq, r.id, action, {
        severity: next.severity,
        score: next.score,
        ...traced(j),
      });
      await this.evidence(c, seq, r.id, action, j);
      return [{ alertId: r.id, created: false }];
    });
  }

  /** Records the end (kept for an alert still to come) and stamps every open-call alert of the call. */
  async recordCallEnded(j: CallEndedJob): Promise<AlertChange[]> {
    return this.tx(async (c, firstSeq) => {
      await c.query(
        `INSERT INTO alert_call_ends (carrier_id, call_id, call_ended_at, talk_time_s)
         VALUES ($1, $2, to_timestamp($3 / 1000.0), $4) ON CONFLICT DO NOTHING`,
        [j.carrierId, j.callId, j.callEndedAt, j.talkTimeS],
      );
      const { rows } = await c.query<{ id: string }>(
        `SELECT id FROM alerts WHERE carrier_id = $1 AND call_id = $2 AND kind <> 'suspect_number'
            AND call_ended_at IS NULL ORDER BY id FOR UPDATE`,
        [j.carrierId, j.callId],
      );
      const changes: AlertChange[] = [];
      for (const [i, row] of rows.entries()) {
        const seq = i === 0 ? firstSeq : await nextSeq(c);
        await c.query(
          `UPDATE alerts SET call_ended_at = to_timestamp($2 / 1000.0), talk_time_s = $3, updated_at = now(), seq = $4,
                  trace_id = COALESCE($5, trace_id)
            WHERE id = $1`,
          [row.id, j.callEndedAt, j.talkTimeS, seq, traceIdOf(j.traceparent) ?? null],
        );
        await this.history(c, seq, row.id, 'call_ended', { talkTimeS: j.talkTimeS, ...traced(j) });
        changes.push({ alertId: row.id, created: false });
      }
      return changes;
    }, true);
  }

  /** Routes an alert nobody claimed to police; a no-op once it was claimed, escalated or closed. */
  async escalateUnclaimed(alertId: string): Promise<AlertChange[]> {
    return this.tx(async (c, seq) => {
      const { rowCount } = await c.query(
        `UPDATE alerts SET state = 'escalated', police = true, police_reason = COALESCE(police_reason, 'unclaimed'),
                escalated_at = now(), updated_at = now(), seq = $2
          WHERE id = $1 AND state = 'open'`,
        [alertId, seq],
      );
      if (!rowCount) return [];
      await this.history(c, seq, alertId, 'escalated', { reason: 'unclaimed' }, 'system');
      return [{ alertId, created: false }];
    });
  }

  async findCallAlerts(carrierId: string, callId: string, kind?: string): Promise<AlertChange[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM alerts WHERE carrier_id = $1 AND call_id = $2 AND kind <> 'suspect_number'
          AND ($3::text IS NULL OR kind = $3) ORDER BY id`,
      [carrierId, callId, kind ?? null],
    );
    return rows.map((r) => ({ alertId: r.id, created: false }));
  }

  async findSuspectAlert(carrierId: string, suspect: string): Promise<AlertChange[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM alerts WHERE carrier_id = $1 AND suspect = $2 AND kind = 'suspect_number'`,
      [carrierId, suspect],
    );
    return rows.map((r) => ({ alertId: r.id, created: false }));
  }

  async loadForPublish(alertIds: string[]): Promise<PublishableAlert[]> {
    if (!alertIds.length) return [];
    const { rows } = await this.pool.query<{ view: AlertView; created: boolean }>(
      `SELECT view, (seq = created_seq) AS created FROM alert_views WHERE id = ANY($1::bigint[]) ORDER BY seq`,
      [alertIds],
    );
    return rows;
  }

  private async history(
    c: PoolClient,
    seq: number,
    alertId: string,
    action: string,
    detail: Record<string, unknown>,
    actor = 'detector',
  ): Promise<void> {
    await c.query(
      `INSERT INTO alert_history (seq, alert_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5)`,
      [seq, alertId, actor, action, JSON.stringify(detail)],
    );
  }

  /**
   * The detection step as the detector sent it (migration 090): the case timeline reads it after
   * the Redis windows behind its reasons have expired. Only what the job says, as it said it.
   */
  private async evidence(
    c: PoolClient,
    seq: number,
    alertId: string,
    action: 'created' | 'upgraded' | 'updated',
    j: VictimOnCallJob | SuspectNumberJob,
  ): Promise<void> {
    const call = j.kind === 'suspect_number' ? null : j;
    await c.query(
      `INSERT INTO alert_evidence (alert_id, seq, action, event_time, raised_at, step_s, severity, score, reasons,
          call_answered_at, call_ended_at, talk_time_s, caller_features)
       VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0), $6, $7, $8, $9,
          to_timestamp($10 / 1000.0), to_timestamp($11 / 1000.0), $12, $13)`,
      [
        alertId,
        seq,
        action,
        j.eventTimeMs,
        j.raisedAt,
        call?.stepS ?? 0,
        j.severity,
        j.score,
        JSON.stringify(j.reasons),
        call?.callAnsweredAt ?? null,
        call?.callEndedAt ?? null,
        call?.talkTimeS ?? null,
        featureSnapshot(j.callerFeatures),
      ],
    );
  }

  /**
   * Runs fn in a transaction holding the change-sequence lock. Nothing changed: rolled back (the
   * sequence number is skipped; gaps are harmless, clients resume with `>`).
   *
   * Group commit: the lock is held until COMMIT, including its WAL flush, so one transaction per
   * job would cap a worker at one flush per job (about 80 jobs/s on the development machine). Writes
   * that arrive while a transaction is running wait, then share the next one: each in a savepoint
   * of its own (a failing or empty write is rolled back alone, the others commit), all under one
   * lock and one flush. A write arriving when none is running starts at once, so a lone alert
   * waits for nothing.
   */
  private tx(
    fn: (c: PoolClient, seq: number) => Promise<AlertChange[]>,
    keepEmpty = false,
  ): Promise<AlertChange[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ fn, keepEmpty, resolve, reject });
      if (!this.committing) void this.commitPending();
    });
  }

  private async commitPending(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length) await this.commitBatch(this.pending.splice(0, this.maxBatch));
    } finally {
      this.committing = false;
    }
  }

  private async commitBatch(batch: PendingWrite[]): Promise<void> {
    alertWriteBatchSize.observe(batch.length);
    let c: PoolClient;
    try {
      c = await this.pool.connect();
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    // each write's outcome: its changes (kept), or its error (rolled back to its savepoint)
    const done: ({ changes: AlertChange[] } | { error: unknown })[] = [];
    const alone = batch.length === 1;
    let kept = 0;
    try {
      await c.query('BEGIN');
      for (const w of batch) {
        if (!alone) await c.query('SAVEPOINT write');
        try {
          const changes = await w.fn(c, await nextSeq(c));
          const keep = changes.length > 0 || w.keepEmpty;
          if (!alone) await c.query(keep ? 'RELEASE SAVEPOINT write' : 'ROLLBACK TO SAVEPOINT write');
          if (keep) kept++;
          done.push({ changes });
        } catch (error) {
          if (alone) throw error;
          await c.query('ROLLBACK TO SAVEPOINT write');
          done.push({ error });
        }
      }
      await c.query(kept ? 'COMMIT' : 'ROLLBACK');
    } catch (e) {
      // the transaction failed as a whole (BEGIN, a savepoint, the connection, COMMIT): nothing of
      // it was written, and every job retries
      await c.query('ROLLBACK').catch(() => undefined);
      c.release();
      for (const w of batch) w.reject(e);
      return;
    }
    c.release();
    batch.forEach((w, i) => {
      const d = done[i];
      if ('error' in d) w.reject(d.error);
      else w.resolve(d.changes);
    });
  }
}

interface PendingWrite {
  fn: (c: PoolClient, seq: number) => Promise<AlertChange[]>;
  keepEmpty: boolean;
  resolve: (changes: AlertChange[]) => void;
  reject: (e: unknown) => void;
}

/**
 * The change's trace id for its history entry (`detail.traceId`): from the history of an alert an
 * SRE finds the carrier batch's trace, and with it the logs of ingest, detector and worker.
 */
function traced(j: { traceparent?: string }): { traceId?: string } {
  const traceId = traceIdOf(j.traceparent);
  return traceId ? { traceId } : {};
}

/** The features as stored (migration 095): name -> value, so a reader never depends on their order. */
function featureSnapshot(x: number[] | undefined): string | null {
  if (!x || x.length !== FEATURE_COUNT) return null;
  return JSON.stringify(Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, x[i]])));
}

async function nextSeq(c: PoolClient): Promise<number> {
  const { rows } = await c.query<{ seq: string }>('SELECT alert_next_seq() AS seq');
  return Number(rows[0].seq);
}

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

/**
 * An alert never loses severity or score: a later job for the same call upgrades it (and takes its
 * reasons when it scores at least as high), a stale or repeated one changes nothing (null).
 */
export function mergeFacts(
  r: Pick<
    AlertFacts,
    'severity' | 'score' | 'reasons' | 'step_s' | 'call_ended_at' | 'police' | 'police_reason'
  >,
  j: { severity: Severity; score: number; reasons: AlertReason[]; stepS: number; callEndedAt?: number },
): {
  severity: Severity;
  score: number;
  reasons: AlertReason[];
  stepS: number;
  police: boolean;
  policeReason: string | null;
} | null {
  const severity = RANK[j.severity] > RANK[r.severity] ? j.severity : r.severity;
  const score = Math.max(r.score, j.score);
  const reasons = j.score >= r.score ? j.reasons : r.reasons;
  const stepS = Math.max(r.step_s, j.stepS);
  const police = r.police || severity === 'critical';
  const policeReason = r.police_reason ?? (police ? 'critical' : null);
  const endedNow = r.call_ended_at === null && j.callEndedAt !== undefined;
  const same =
    severity === r.severity &&
    score === r.score &&
    canonical(reasons) === canonical(r.reasons) &&
    stepS === r.step_s &&
    police === r.police &&
    !endedNow;
  return same ? null : { severity, score, reasons, stepS, police, policeReason };
}

/** JSON with sorted keys: jsonb does not keep key order, so compare canonical forms. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );
}
