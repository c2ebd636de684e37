import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL } from '@eagle-eye/db';
import { retentionLastSuccess, retentionPurged, retentionRuns } from '../alert-worker.metrics';
import { ALERT_WORKER_CONFIG, AlertWorkerConfig } from '../config';
import { RetentionPolicy, runRetention } from './retention';

/**
 * Runs the retention purge every RETENTION_INTERVAL_S (the first run shortly after start), counts
 * what it deleted in eagleeye_retention_purged_total{table} and its runs in
 * eagleeye_retention_runs_total{result}. A failed run is logged and tried again next interval.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Retention');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(ALERT_WORKER_CONFIG) private readonly config: AlertWorkerConfig,
  ) {}

  get policy(): RetentionPolicy {
    const c = this.config;
    return {
      days: {
        alerts: c.RETENTION_ALERTS_DAYS,
        notes: c.RETENTION_NOTES_DAYS,
        history: c.RETENTION_HISTORY_DAYS,
        audit: c.RETENTION_AUDIT_DAYS,
        // call ends wait for their alert at most as long as alerts are kept
        call_ends: c.RETENTION_ALERTS_DAYS,
        reports: c.RETENTION_REPORTS_DAYS,
      },
      batchRows: c.RETENTION_BATCH_ROWS,
      maxBatches: 1000,
    };
  }

  onApplicationBootstrap(): void {
    const schedule = (ms: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.runOnce().finally(() => schedule(this.config.RETENTION_INTERVAL_S * 1000));
      }, ms);
      this.timer.unref();
    };
    schedule(Math.min(30_000, this.config.RETENTION_INTERVAL_S * 1000));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One run; never throws (the outcome is in the metrics and the log). */
  async runOnce(now = new Date()): Promise<void> {
    try {
      const r = await runRetention(this.pool, this.policy, now, (tbl, n) =>
        retentionPurged.inc({ table: tbl }, n),
      );
      retentionRuns.inc({ result: r.result });
      if (r.result === 'ok') {
        retentionLastSuccess.set(Date.now() / 1000);
        const total = Object.values(r.purged).reduce((a, b) => a + b, 0);
        if (total) this.logger.log(`purged past retention: ${JSON.stringify(r.purged)}`);
      }
    } catch (e) {
      retentionRuns.inc({ result: 'error' });
      this.logger.error(`retention purge failed: ${(e as Error).message}`);
    }
  }
}
