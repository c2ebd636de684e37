import { Queue } from 'bullmq';
import { RedisClient } from '@eagle-eye/redis';
import {
  ALERT_JOB_OPTIONS,
  AlertJobName,
  AlertJobPayloads,
  alertJobId,
  QueueName,
} from '@eagle-eye/contracts';

export type AlertJob = {
  [N in AlertJobName]: { name: N; data: AlertJobPayloads[N] };
}[AlertJobName];

/**
 * The alert queue as the detector sees it: add jobs with deterministic ids (a re-add of the same
 * fact is ignored while BullMQ remembers the id, which removeOnComplete keeps for a day).
 */
export class AlertPublisher {
  readonly queue: Queue;

  constructor(connection: RedisClient, prefix: string) {
    this.queue = new Queue(QueueName.Alerts, {
      connection,
      prefix,
      defaultJobOptions: ALERT_JOB_OPTIONS,
    });
  }

  async publish(jobs: AlertJob[]): Promise<void> {
    if (!jobs.length) return;
    await this.queue.addBulk(
      jobs.map((j) => ({
        name: j.name,
        data: j.data,
        opts: { jobId: alertJobId(j.name, j.data as never) },
      })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
