import type { Pool } from 'pg';

/**
 * What the purge deletes, as named to retention_purge_batch (migrations 060 and 065), and the
 * partner reports (075), which are not append-only: the worker deletes those itself.
 */
export const RETENTION_DATA = ['alerts', 'notes', 'history', 'audit', 'call_ends', 'reports'] as const;
export type RetentionData = (typeof RETENTION_DATA)[number];

export interface RetentionPolicy {
  /** days kept, per kind of data; 0 = forever */
  days: Record<RetentionData, number>;
  batchRows: number;
  /** batches per kind of data and run at most, so one run cannot hold the worker for hours */
  maxBatches: number;
}

export interface RetentionRunResult {
  result: 'ok' | 'skipped';
  /** rows deleted per table (alerts, notes, history, audit, call_ends, reports) */
  purged: Record<string, number>;
}

const LOCK_ID = 0x45_52_45_54; // 'ERET': one purger at a time per database

/**
 * One retention run: for each kind of data with a retention period, delete batch after batch of
 * rows older than now - period through retention_purge_batch (each batch its own transaction),
 * until a batch comes back short. Alerts go first, so that their notes and history go with them.
 * Only one replica purges at a time (a session advisory lock); the others return `skipped`.
 */
export async function runRetention(
  pool: Pool,
  policy: RetentionPolicy,
  now = new Date(),
  onBatch: (tbl: string, purged: number) => void = () => undefined,
): Promise<RetentionRunResult> {
  const purged: Record<string, number> = {};
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      LOCK_ID,
    ]);
    if (!rows[0].locked) return { result: 'skipped', purged };
    try {
      for (const what of RETENTION_DATA) {
        const days = policy.days[what];
        if (!days) continue;
        const cutoff = new Date(now.getTime() - days * 86_400_000);
        for (let batch = 0; batch < policy.maxBatches; batch++) {
          const res = await client.query<{ tbl: string; purged: string }>(
            what === 'reports'
              ? `WITH gone AS (DELETE FROM number_reports WHERE id IN (
                   SELECT id FROM number_reports WHERE reported_at < $1 ORDER BY id LIMIT $2) RETURNING 1)
                 SELECT 'reports' AS tbl, count(*) AS purged FROM gone`
              : 'SELECT tbl, purged FROM retention_purge_batch($1, $2, $3)',
            what === 'reports' ? [cutoff, policy.batchRows] : [what, cutoff, policy.batchRows],
          );
          let main = 0;
          for (const r of res.rows) {
            const n = Number(r.purged);
            purged[r.tbl] = (purged[r.tbl] ?? 0) + n;
            if (n) onBatch(r.tbl, n);
            if (r.tbl === what) main = n;
          }
          if (main < policy.batchRows) break;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]);
    }
  } finally {
    client.release();
  }
  return { result: 'ok', purged };
}
