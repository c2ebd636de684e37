import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AlertJobName,
  AlertTimerJobName,
  CallEndedJob,
  EscalateUnclaimedJob,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { AlertChange, AlertRepository, AlertWrite, PublishableAlert } from './alert.repository';
import { AlertPublisher } from './alert.publisher';
import { ALERT_WORKER_CONFIG, AlertWorkerConfig } from './config';
import {
  alertEndToEndSeconds,
  alertJobStageSeconds,
  alertEscalations,
  alertPublishSeconds,
  alertsPersisted,
} from './alert-worker.metrics';

/** Whether this run of a job is a retry (after an error or a crash), when a publication may have been lost. */
export interface JobRun {
  retry: boolean;
  /** the job's trace id (its span's): on the published alert event and in the history */
  traceId?: string;
}

/**
 * One method per job: persist (exactly once, by the table's unique keys), then publish the alert as
 * the write left it (returned by the same statement). A retry whose write finds nothing to change
 * still publishes what the database holds, because the run that wrote it may have died before
 * doing so (consoles drop an event whose seq they already have). Escalation of alerts nobody
 * claimed is the sweep's (escalation.sweep.ts), not a timer per alert.
 */
@Injectable()
export class AlertService {
  private readonly logger = new Logger('AlertService');

  constructor(
    private readonly repo: AlertRepository,
    private readonly publisher: AlertPublisher,
    @Inject(ALERT_WORKER_CONFIG) private readonly config: AlertWorkerConfig,
  ) {}

  async victimOnCall(job: VictimOnCallJob, run: JobRun): Promise<number> {
    const changes = await timedDb(AlertJobName.VictimOnCall, this.repo.upsertCallAlert(job));
    const touched =
      changes.length || !run.retry
        ? changes
        : await this.repo.findCallAlerts(job.carrierId, job.callId, job.kind);
    return this.afterCommit(
      touched,
      changes,
      { eventTimeMs: job.eventTimeMs, ingestedAtMs: job.ingestedAtMs },
      run,
    );
  }

  async suspectNumber(job: SuspectNumberJob, run: JobRun): Promise<number> {
    const changes = await timedDb(AlertJobName.SuspectNumber, this.repo.upsertSuspectAlert(job));
    const touched =
      changes.length || !run.retry ? changes : await this.repo.findSuspectAlert(job.carrierId, job.suspect);
    return this.afterCommit(touched, changes, { eventTimeMs: job.eventTimeMs }, run);
  }

  async callEnded(job: CallEndedJob, run: JobRun): Promise<number> {
    const changes = await timedDb(AlertJobName.CallEnded, this.repo.recordCallEnded(job));
    const touched =
      changes.length || !run.retry ? changes : await this.repo.findCallAlerts(job.carrierId, job.callId);
    return this.afterCommit(touched, changes, {}, run);
  }

  /**
   * The escalation timer job of a worker before the sweep (a delayed job per alert): those still
   * queued after an upgrade fire as they were due and escalate as the sweep would (or find the
   * alert escalated already and change nothing).
   */
  async escalateUnclaimed(job: EscalateUnclaimedJob, run: JobRun): Promise<number> {
    const changes = await timedDb(
      AlertTimerJobName.EscalateUnclaimed,
      this.repo.escalateUnclaimed(job.alertId),
    );
    if (changes.length) {
      alertEscalations.inc();
      this.logger.log(
        `alert ${job.alertId} unclaimed after ${this.config.ALERT_ESCALATE_AFTER_S} s: routed to police`,
      );
    }
    const touched = changes.length || !run.retry ? changes : [{ alertId: job.alertId, created: false }];
    return this.afterCommit(touched, changes, {}, run);
  }

  private async afterCommit(
    touched: AlertChange[],
    changes: AlertWrite[],
    times: { eventTimeMs?: number; ingestedAtMs?: number },
    run: JobRun,
  ): Promise<number> {
    for (const ch of changes) alertsPersisted.inc({ change: ch.created ? 'created' : 'updated' });
    const committedAt = Date.now();
    if (this.config.NODE_ENV === 'test' && this.config.ALERT_WORKER_TEST_PAUSE_AFTER_COMMIT_MS > 0) {
      await new Promise((r) => setTimeout(r, this.config.ALERT_WORKER_TEST_PAUSE_AFTER_COMMIT_MS));
    }
    // what this run wrote is published as the write read it back in its own statement; a retry
    // that found its change already made publishes what the database holds now
    const alerts: PublishableAlert[] =
      touched === changes
        ? changes.map((c) => ({ view: c.view, created: c.created }))
        : await this.repo.loadForPublish(touched.map((c) => c.alertId));
    for (const a of alerts) {
      this.publisher.publish(a, run.traceId);
      const what = `alert ${a.view.id} ${a.created ? 'created' : 'updated'} (${a.view.kind}, ${a.view.severity}, seq ${a.view.seq})`;
      if (a.created) this.logger.log(what);
      else this.logger.debug(what);
      const now = Date.now();
      alertPublishSeconds.observe((now - committedAt) / 1000);
      if (a.created && times.eventTimeMs !== undefined) {
        alertEndToEndSeconds.observe({ from: 'event_time' }, Math.max(0, now - times.eventTimeMs) / 1000);
      }
      if (a.created && times.ingestedAtMs !== undefined) {
        alertEndToEndSeconds.observe({ from: 'ingested' }, Math.max(0, now - times.ingestedAtMs) / 1000);
      }
    }
    return changes.length;
  }
}

/** Observes the database stage of a job (the transaction writing its change). */
function timedDb<T>(job: string, work: Promise<T>): Promise<T> {
  const end = alertJobStageSeconds.startTimer({ stage: 'postgres', job });
  return work.finally(() => end());
}
