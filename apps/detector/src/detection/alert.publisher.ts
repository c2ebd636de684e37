import { Queue } from 'bullmq';
import { RedisClient } from '@eagle-eye/redis';
import {
  ALERT_BATCH_JOB,
  ALERT_BATCH_MAX_ITEMS,
  ALERT_JOB_OPTIONS,
  AlertBatchJob,
  AlertJobName,
  AlertJobPayloads,
  alertBatchItem,
  alertBatchJobId,
  QueueName,
} from '@eagle-eye/contracts';
import { alertQueueJobsAdded } from '../metrics';

export type AlertJob = {
  [N in AlertJobName]: { name: N; data: AlertJobPayloads[N] };
}[AlertJobName];

/**
 * The alert queue as the detector sees it: add jobs with deterministic ids (a re-add of the same
 * fact is ignored while BullMQ remembers the id, which removeOnComplete keeps for a day). A round's
 * alerts go as one `alert-batch` job when there are two or more (libs/contracts alert-batch.ts):
 * a queue job costs Redis about 2 ms of CPU and 7 round trips whatever it carries, the alerts in it
 * far less. A lone alert still goes as its own job, under its own id.
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

  /** Adds the jobs in the order given (the most urgent first), in one call to Redis. */
  async publish(jobs: AlertJob[]): Promise<void> {
    if (!jobs.length) return;
    const adds: { name: string; data: unknown; opts: { jobId: string } }[] = [];
    for (let i = 0; i < jobs.length; i += ALERT_BATCH_MAX_ITEMS) {
      const items = jobs.slice(i, i + ALERT_BATCH_MAX_ITEMS).map((j) => alertBatchItem(j.name, j.data));
      if (items.length === 1) {
        adds.push({ name: items[0].name, data: items[0].data, opts: { jobId: items[0].id } });
      } else {
        const data: AlertBatchJob = { items };
        adds.push({ name: ALERT_BATCH_JOB, data, opts: { jobId: alertBatchJobId(items) } });
      }
    }
    await this.queue.addBulk(adds);
    for (const a of adds) alertQueueJobsAdded.inc({ job: a.name === ALERT_BATCH_JOB ? 'batch' : 'single' });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
