import { createHash } from 'node:crypto';
import { AlertJobName, AlertJobPayloads, alertJobId } from './alerts';

/**
 * Several alert jobs of one detector round in one queue job (apps/detector -> apps/alert-worker).
 *
 * A BullMQ job costs Redis about the same whatever it carries: an add, moves to active, a finish,
 * its events, each a script call and for a job arriving alone an fsync'd write of its own. So the
 * detector sends a round's alerts as one `alert-batch` job when there are two or more (a round with
 * one alert still sends that alert as its own job, with its own id). The worker applies the items
 * in the order given, one write each, exactly as it would apply them as separate jobs: every write
 * is exactly once by the alerts table's unique keys, so a batch added twice changes nothing the
 * second time. An item the worker cannot apply for good (malformed, refused by the database) goes
 * to the dead-letter queue alone, under its own job id, and the rest of the batch goes on; an
 * error a retry may cure retries the whole batch.
 */
export const ALERT_BATCH_JOB = 'alert-batch';

/** Items per batch job at most: a round with more alerts sends several batches. */
export const ALERT_BATCH_MAX_ITEMS = 200;

export type AlertBatchItem = {
  [N in AlertJobName]: {
    name: N;
    /** the item's own job id (alertJobId): its dead letter's, and the job a retry of it adds */
    id: string;
    data: AlertJobPayloads[N];
  };
}[AlertJobName];

export interface AlertBatchJob {
  items: AlertBatchItem[];
}

/** A batch item for a job (its id as the job would have alone). */
export function alertBatchItem<N extends AlertJobName>(name: N, data: AlertJobPayloads[N]): AlertBatchItem {
  return { name, id: alertJobId(name, data), data } as AlertBatchItem;
}

/**
 * A batch's job id: the count and a SHA-256 of its items' ids, so a re-add of the same round's
 * alerts (a round redelivered after a crash) is ignored while BullMQ remembers the id, and any other
 * set of alerts gets another id. (A 32-bit hash would collide among the day of completed jobs BullMQ
 * keeps, and a colliding batch would be dropped.)
 */
export function alertBatchJobId(items: readonly { id: string }[]): string {
  const h = createHash('sha256');
  for (const it of items) h.update(it.id).update('\n');
  return `batch|${items.length}|${h.digest('base64url')}`;
}

/**
 * The alert jobs a queue job carries: a batch's items, or the job itself as one item (its own id).
 * Jobs of other names (the worker's timers) carry none.
 */
export function alertJobItems(job: { name: string; id?: string; data: unknown }): AlertBatchItem[] {
  if (job.name === ALERT_BATCH_JOB) return (job.data as AlertBatchJob).items;
  if ((Object.values(AlertJobName) as string[]).includes(job.name))
    return [{ name: job.name, id: job.id ?? '', data: job.data } as AlertBatchItem];
  return [];
}
