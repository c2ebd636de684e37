import { Inject, Injectable } from '@nestjs/common';
import { AlertTimerJobName, EscalateUnclaimedJob, escalationJobId } from '@eagle-eye/contracts';
import { AlertQueues } from './alert.queues';
import { ALERT_WORKER_CONFIG, AlertWorkerConfig } from './config';

/**
 * The escalation timer of an alert: a delayed job with a deterministic id, so scheduling it again
 * (a retried job, a restarted worker) never makes a second timer. It fires ALERT_ESCALATE_AFTER_S
 * after the alert was raised; the handler does nothing if the alert was claimed meanwhile.
 */
@Injectable()
export class EscalationScheduler {
  constructor(
    private readonly queues: AlertQueues,
    @Inject(ALERT_WORKER_CONFIG) private readonly config: AlertWorkerConfig,
  ) {}

  async schedule(alertId: string, raisedAtIso: string): Promise<void> {
    const dueAt = Date.parse(raisedAtIso) + this.config.ALERT_ESCALATE_AFTER_S * 1000;
    const data: EscalateUnclaimedJob = { alertId };
    await this.queues.alerts.add(AlertTimerJobName.EscalateUnclaimed, data, {
      jobId: escalationJobId(alertId),
      delay: Math.max(0, dueAt - Date.now()),
      attempts: 8,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }
}
