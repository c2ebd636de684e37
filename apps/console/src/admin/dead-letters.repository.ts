import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import {
  ALERT_JOB_OPTIONS,
  ALERTS_DEAD_LETTER_QUEUE,
  ALERT_BATCH_JOB,
  AlertJobName,
  AlertTimerJobName,
  DeadLetterJob,
  QueueName,
} from '@eagle-eye/contracts';
import { ReadinessRegistry } from '@eagle-eye/observability';
import { createQueueConnection, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { CONSOLE_CONFIG, ConsoleConfig } from '../config';

export type DeadLetter = DeadLetterJob & { id: string };

/**
 * How a retry put the job back on the alerts queue:
 * - `retried`: the original job, still kept as failed in the alerts queue, moved back to waiting
 *   with its attempts reset (its id, options and history stay);
 * - `added`: the original was gone (failed jobs are kept 7 days), so it was added again under the
 *   same id with the producer's options;
 * - `already_queued` / `already_done`: the original was already waiting, running or completed (an
 *   earlier retry whose dead letter could not be removed); only the dead letter was removed.
 */
export type RetryHow = 'retried' | 'added' | 'already_queued' | 'already_done';
export interface RetryResult {
  id: string;
  name: string;
  jobId: string;
  how: RetryHow;
}

/** Job names the alert worker has a handler for: only these are worth putting back. */
const WORKER_JOB_NAMES: readonly string[] = [
  ...Object.values(AlertJobName),
  ...Object.values(AlertTimerJobName),
  ALERT_BATCH_JOB,
];

/** A dead letter that cannot be put back (no handler for its name, or its job changed meanwhile). */
export class DeadLetterRetryRefused extends Error {}

/** The alert worker's dead-letter queue (alerts-dead-letter) and the way back to the alerts queue. */
@Injectable()
export class DeadLettersRepository implements OnApplicationShutdown {
  private readonly connection: RedisClient;
  private readonly deadLetters: Queue;
  private readonly alerts: Queue;

  constructor(@Inject(CONSOLE_CONFIG) config: ConsoleConfig, keys: RedisKeys, readiness: ReadinessRegistry) {
    // the queue Redis (QUEUE_REDIS_URL, else the state Redis)
    const connection = (this.connection = createQueueConnection(config, readiness));
    const prefix = keys.bullPrefix();
    this.deadLetters = new Queue(ALERTS_DEAD_LETTER_QUEUE, { connection, prefix });
    this.alerts = new Queue(QueueName.Alerts, { connection, prefix });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.deadLetters.close();
    await this.alerts.close();
    await this.connection.quit().catch(() => this.connection.disconnect());
  }

  /** The oldest `limit` dead letters and how many there are. */
  async page(limit: number): Promise<{ total: number; items: DeadLetter[] }> {
    const [counts, jobs] = await Promise.all([
      this.deadLetters.getJobCounts('waiting'),
      this.deadLetters.getJobs(['waiting'], 0, limit - 1),
    ]);
    return { total: counts.waiting ?? 0, items: jobs.map(toDeadLetter) };
  }

  async get(id: string): Promise<DeadLetter | null> {
    const job = (await this.deadLetters.getJob(id)) as Job<DeadLetterJob> | undefined;
    return job ? toDeadLetter(job) : null;
  }

  /**
   * Puts a dead letter's job back on the alerts queue, then removes the dead letter (in that order:
   * a crash in between leaves a dead letter whose job is queued, which a second retry clears, never
   * a job lost from both queues). Null when there is no such dead letter; DeadLetterRetryRefused
   * when the worker has no handler for its job name or the job changed state meanwhile.
   */
  async retry(id: string): Promise<RetryResult | null> {
    const dead = (await this.deadLetters.getJob(id)) as Job<DeadLetterJob> | undefined;
    if (!dead) return null;
    const { name, data, originalJobId } = dead.data;
    if (!WORKER_JOB_NAMES.includes(name)) throw new DeadLetterRetryRefused(`no worker handles job "${name}"`);
    const original = originalJobId ? await this.alerts.getJob(originalJobId) : undefined;
    let how: RetryHow;
    let jobId: string;
    if (original) {
      jobId = String(original.id);
      const state = await original.getState();
      if (state === 'failed') {
        await original
          .retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true })
          .catch((e: Error) => {
            throw new DeadLetterRetryRefused(`job ${jobId} changed meanwhile (${e.message}); try again`);
          });
        how = 'retried';
      } else {
        how = state === 'completed' ? 'already_done' : 'already_queued';
      }
    } else {
      const added = await this.alerts.add(name, data, {
        ...ALERT_JOB_OPTIONS,
        ...(originalJobId ? { jobId: originalJobId } : {}),
      });
      jobId = String(added.id);
      how = 'added';
    }
    // by id, not dead.remove(): a concurrent retry may have removed it already
    await this.deadLetters.remove(id);
    return { id, name, jobId, how };
  }
}

function toDeadLetter(j: Job<DeadLetterJob>): DeadLetter {
  return { id: String(j.id), ...j.data };
}
