import { Inject, Injectable, Optional } from '@nestjs/common';
import { Pool } from 'pg';
import { AlertView, CallEndedJob, SuspectNumberJob, VictimOnCallJob } from '@eagle-eye/contracts';
import { PG_POOL } from '@eagle-eye/db';
import { traceIdOf } from '@eagle-eye/observability';
import { FEATURE_COUNT, FEATURE_NAMES } from '@eagle-eye/scoring';
import { alertWriteBatchSize } from './alert-worker.metrics';
import { MAX_WRITE_BATCH } from './config';

/** Provider of the most writes one transaction takes (ALERT_WORKER_WRITE_BATCH). */
export const ALERT_WRITE_BATCH = Symbol('ALERT_WRITE_BATCH');
const DEFAULT_WRITE_BATCH = 32;

/** What one job did to the alerts table: the alerts it created or changed, and whether it was new. */
export interface AlertChange {
  alertId: string;
  created: boolean;
}

/** A change as the write made it: with the alert as consoles receive it, read in the same statement. */
export interface AlertWrite extends AlertChange {
  view: AlertView;
}

export interface PublishableAlert {
  view: AlertView;
  created: boolean;
}

/**
 * Every write to the alerts table of the worker, one function call per job (migration 098), run as
 * a statement of its own (its own transaction). Each write takes the next change sequence first (a
 * transaction-scoped advisory lock: seq order is commit order), so a crash before the commit leaves
 * nothing and a retry of the same job finds the row it already wrote; the merge rules (an alert
 * never loses severity or score, a repeated or stale step changes nothing) are in the function.
 */
@Injectable()
export class AlertRepository {
  /** writes waiting for the next statement (see write) */
  private readonly pending: PendingWrite[] = [];
  private committing = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    /** at most this many writes share one statement (one transaction) */
    @Optional() @Inject(ALERT_WRITE_BATCH) maxBatch: number = DEFAULT_WRITE_BATCH,
  ) {
    // never more than the configuration allows, for a repository built outside it (tests, benchmarks)
    this.maxBatch = Math.max(1, Math.min(maxBatch, MAX_WRITE_BATCH));
  }

  private readonly maxBatch: number;

  async upsertCallAlert(j: VictimOnCallJob): Promise<AlertWrite[]> {
    return this.write('call', [
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
      traceIdOf(j.traceparent) ?? null,
      featureSnapshot(j.callerFeatures),
    ]);
  }

  async upsertSuspectAlert(j: SuspectNumberJob): Promise<AlertWrite[]> {
    return this.write('suspect', [
      j.carrierId,
      j.suspect,
      j.region ?? null,
      j.severity,
      j.score,
      JSON.stringify(j.reasons),
      j.eventTimeMs,
      j.raisedAt,
      traceIdOf(j.traceparent) ?? null,
      featureSnapshot(j.callerFeatures),
    ]);
  }

  /** Records the end (kept for an alert still to come) and stamps every open-call alert of the call. */
  async recordCallEnded(j: CallEndedJob): Promise<AlertWrite[]> {
    return this.write('call_end', [
      j.carrierId,
      j.callId,
      j.callEndedAt,
      j.talkTimeS,
      traceIdOf(j.traceparent) ?? null,
    ]);
  }

  /**
   * Routes an alert nobody claimed to police; a no-op once it was claimed, escalated or closed. (The
   * timer job of a worker before the escalation sweep: such jobs may still be queued after an upgrade.)
   */
  async escalateUnclaimed(alertId: string): Promise<AlertWrite[]> {
    return this.write('escalation', [alertId]);
  }

  /**
   * The escalation sweep (migration 100): routes to police, oldest first, at most `limit` open alerts
   * raised `afterS` seconds ago or more, in one statement of its own (its own transaction), and
   * returns them as consoles receive them. Nothing due costs one index read and takes no lock.
   */
  async escalateDue(afterS: number, limit: number): Promise<AlertWrite[]> {
    const { rows } = await this.pool.query<{ alert_id: string; created: boolean; view: AlertView }>({
      name: 'alert_write_escalation_due',
      text: `SELECT alert_id, created, alert_view_of(alert_id) AS view FROM alert_write_escalation_due($1, $2)`,
      values: [afterS, limit],
    });
    return rows.map((r) => ({ alertId: r.alert_id, created: r.created, view: r.view }));
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

  /**
   * Queues one write for the next statement (group commit). Each write is one call of its job
   * kind's function (migration 098), which takes the change seq, writes the alert, its history entry
   * and its evidence inside PostgreSQL: one round trip, where the statements one by one were about
   * six, each made while holding the change-sequence lock.
   *
   * That lock (030) is held to the commit's WAL flush, so a transaction per job would cap a worker
   * at one flush per job. Writes that arrive while a statement is running wait, then share the next
   * one (`alert_write_batch`, up to maxBatch): each in a block of its own (a failing write rolls back
   * alone and its job retries, the others commit), all under one lock and one flush, the statement
   * its own transaction. A write arriving when none is running starts once the writes made in the
   * same turn of the event loop have joined it (the items of an alert-batch job).
   */
  private write(kind: WriteKind, args: unknown[]): Promise<AlertWrite[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ kind, args, resolve, reject });
      if (this.committing) return;
      this.committing = true;
      // after the microtasks of this turn: the writes a batch job's items make at the same moment
      // share the first statement instead of one going alone and the rest waiting for its flush
      setImmediate(() => void this.commitPending());
    });
  }

  private async commitPending(): Promise<void> {
    try {
      while (this.pending.length) await this.commitBatch(this.pending.splice(0, this.maxBatch));
    } finally {
      this.committing = false;
    }
  }

  private async commitBatch(batch: PendingWrite[]): Promise<void> {
    alertWriteBatchSize.observe(batch.length);
    if (batch.length === 1) {
      // alone: the job kind's function itself, the database's error as it raised it
      const [w] = batch;
      try {
        const { rows } = await this.pool.query<{ alert_id: string; created: boolean; view: AlertView }>({
          name: WRITE_FUNCTIONS[w.kind],
          text: writeSql(w.kind, w.args.length),
          values: w.args,
        });
        w.resolve(rows.map((r) => ({ alertId: r.alert_id, created: r.created, view: r.view })));
      } catch (e) {
        w.reject(e);
      }
      return;
    }
    let rows: BatchRow[];
    try {
      ({ rows } = await this.pool.query<BatchRow>({
        name: 'alert_write_batch',
        text: `SELECT write_no, alert_id, created, error_code, error_message,
                      CASE WHEN alert_id IS NOT NULL THEN alert_view_of(alert_id) END AS view
                 FROM alert_write_batch($1::jsonb)`,
        values: [JSON.stringify(batch.map((w) => ({ f: w.kind, a: w.args })))],
      }));
    } catch (e) {
      // the statement failed as a whole (the connection, the commit): nothing of it was written,
      // and every job retries
      for (const w of batch) w.reject(e);
      return;
    }
    const changes = batch.map((): AlertWrite[] => []);
    const errors = new Map<number, Error>();
    for (const r of rows) {
      const i = r.write_no - 1;
      if (r.error_code !== null) errors.set(i, writeError(r.error_code, r.error_message ?? ''));
      else changes[i].push({ alertId: r.alert_id!, created: r.created!, view: r.view! });
    }
    batch.forEach((w, i) => {
      const error = errors.get(i);
      if (error) w.reject(error);
      else w.resolve(changes[i]);
    });
  }
}

/** The write function of each job kind (migration 098). */
const WRITE_FUNCTIONS = {
  call: 'alert_write_call',
  suspect: 'alert_write_suspect',
  call_end: 'alert_write_call_end',
  escalation: 'alert_write_escalation',
} as const;
type WriteKind = keyof typeof WRITE_FUNCTIONS;

function writeSql(kind: WriteKind, arity: number): string {
  const params = Array.from({ length: arity }, (_, i) => `$${i + 1}`).join(', ');
  // the view read after the write, in the same statement (migration 099)
  return `SELECT alert_id, created, alert_view_of(alert_id) AS view FROM ${WRITE_FUNCTIONS[kind]}(${params})`;
}

/** A write's failure inside a shared statement, with its SQLSTATE as `code` (as pg's errors carry it). */
function writeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

interface BatchRow {
  write_no: number;
  alert_id: string | null;
  created: boolean | null;
  error_code: string | null;
  error_message: string | null;
  view: AlertView | null;
}

interface PendingWrite {
  kind: WriteKind;
  args: unknown[];
  resolve: (changes: AlertWrite[]) => void;
  reject: (e: unknown) => void;
}

/** The features as stored (migration 095): name -> value, so a reader never depends on their order. */
function featureSnapshot(x: number[] | undefined): string | null {
  if (!x || x.length !== FEATURE_COUNT) return null;
  return JSON.stringify(Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, x[i]])));
}
