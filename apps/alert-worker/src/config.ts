import { baseSchema, env, z } from '@eagle-eye/config';

/**
 * The most alert writes one statement (one transaction) takes: each write of a shared statement
 * runs in a block of its own, a subtransaction, and PostgreSQL caches 64 subtransaction ids per
 * backend (PGPROC_MAX_CACHED_SUBXIDS); past that the cache overflows and every snapshot taken
 * meanwhile, in every session, has to look subtransactions up in pg_subtrans.
 */
export const MAX_WRITE_BATCH = 64;

/** Days of retention: 0 keeps forever; otherwise no less than the database's floor for that data. */
const retentionDays = (def: number, floor: number) =>
  env.int(def, 0, 36500).refine((v) => v === 0 || v >= floor, {
    message: `must be 0 (keep forever) or at least ${floor}: the database refuses to purge younger rows (retention_floors)`,
  });

export const AlertWorkerConfigSchema = baseSchema.extend({
  ALERT_WORKER_HTTP_PORT: env.port(9103),
  ALERT_WORKER_HTTP_HOST: env.string('127.0.0.1'),
  REDIS_KEY_PREFIX: env.string('ee'),
  /**
   * jobs processed at once; their writes share transactions (group commit: the change sequence
   * serialises transactions, not writes), so more jobs at once commit more per WAL flush
   */
  ALERT_WORKER_CONCURRENCY: env.int(32, 1, 256),
  /**
   * at most this many alert writes share one transaction; at most 64: each write in a shared
   * transaction is a subtransaction of its own, and past 64 PostgreSQL's per-backend subtransaction
   * cache overflows, which slows every session's snapshots until the transaction ends
   */
  ALERT_WORKER_WRITE_BATCH: env.int(32, 1, MAX_WRITE_BATCH),
  /** an alert no carrier operator has claimed within this time goes to the police of its region */
  ALERT_ESCALATE_AFTER_S: env.int(300, 1, 86400),
  /** how often the worker looks for alerts due for that escalation (one indexed statement), ms */
  ALERT_ESCALATION_SWEEP_MS: env.int(1000, 100, 60000),
  /** how long a job stays locked to a worker; a killed worker's jobs are retried after it */
  ALERT_WORKER_LOCK_MS: env.int(30000, 1000, 600000),
  ALERT_WORKER_STALLED_INTERVAL_MS: env.int(15000, 500, 600000),
  // Retention (PIPL), in days; 0 keeps the data forever. The purge (src/retention) deletes in batches.
  // The database refuses younger cutoffs (migration 065, retention_floors): the limits below match.
  /** alerts whose last change is older than this are deleted, with their notes and history; 0 = keep */
  RETENTION_ALERTS_DAYS: retentionDays(180, 30),
  /** operator notes older than this are deleted (free text: may name people); 0 = keep */
  RETENTION_NOTES_DAYS: retentionDays(180, 30),
  /** alert history entries older than this are deleted; 0 = keep */
  RETENTION_HISTORY_DAYS: retentionDays(180, 30),
  /**
   * audit entries older than this are deleted; three years by default (records of
   * personal-information processing); 0 = keep
   */
  RETENTION_AUDIT_DAYS: retentionDays(1095, 365),
  /** reports of numbers from partner apps (free-text evidence) older than this are deleted; 0 = keep */
  RETENTION_REPORTS_DAYS: env.int(365, 0, 36500),
  /** how often the purge runs (one replica at a time, under an advisory lock), seconds */
  RETENTION_INTERVAL_S: env.int(3600, 10, 7 * 86400),
  /** rows deleted per batch (one short transaction each) */
  RETENTION_BATCH_ROWS: env.int(1000, 1, 100000),
  /** fault injection for the crash test (NODE_ENV=test only): wait this long between commit and publish */
  ALERT_WORKER_TEST_PAUSE_AFTER_COMMIT_MS: env.int(0, 0, 60000),
});
export type AlertWorkerConfig = z.infer<typeof AlertWorkerConfigSchema>;
export const ALERT_WORKER_CONFIG = Symbol('ALERT_WORKER_CONFIG');
