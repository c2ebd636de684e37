import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import {
  ALERT_BATCH_JOB,
  AlertBatchItem,
  AlertJobName,
  AlertTimerJobName,
  DeadLetterJob,
  QueueName,
} from '@eagle-eye/contracts';
import { failSpan, ReadinessRegistry, SpanKind, startSpan, withSpan } from '@eagle-eye/observability';
import { isSpanContextValid } from '@opentelemetry/api';
import { duplicateClient, RedisKeys } from '@eagle-eye/redis';
import { z } from '@eagle-eye/config';
import {
  alertBatchSchema,
  callEndedSchema,
  describeIssues,
  escalateSchema,
  suspectNumberSchema,
  victimOnCallSchema,
  WORKER_JOB_NAMES,
  WorkerJobName,
} from './alert-job.schemas';
import { AlertQueues } from './alert.queues';
import { AlertService, JobRun } from './alert.service';
import { ALERT_WORKER_CONFIG, AlertWorkerConfig } from './config';
import { alertDeadLetters, alertJobs, alertJobStageSeconds, alertQueueJobs } from './alert-worker.metrics';

type Handler = (data: unknown, run: JobRun) => Promise<number>;

function validated<S extends z.ZodType>(
  schema: S,
  fn: (job: z.infer<S>, run: JobRun) => Promise<number>,
): Handler {
  return (data, run) => {
    const parsed = schema.safeParse(data);
    // a malformed payload will not get better on retry: straight to the dead-letter queue
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${describeIssues(parsed.error)}`);
    return fn(parsed.data, run);
  };
}

/** Postgres errors that a retry cannot fix (unknown carrier, a value out of range). */
function isPermanentDbError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23)/.test(code);
}

/**
 * The BullMQ consumer of the alerts queue. Handlers are registered by job name; a job name without
 * a handler stops start-up. Failed jobs retry with exponential backoff (the producer's options);
 * after the last attempt they are copied to the dead-letter queue for SREs.
 */
@Injectable()
export class AlertProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AlertProcessor');
  private worker?: Worker;
  private depthTimer?: NodeJS.Timeout;
  readonly handlers: Record<WorkerJobName, Handler>;

  constructor(
    private readonly service: AlertService,
    private readonly queues: AlertQueues,
    private readonly keys: RedisKeys,
    readiness: ReadinessRegistry,
    @Inject(ALERT_WORKER_CONFIG) private readonly config: AlertWorkerConfig,
  ) {
    this.handlers = {
      [AlertJobName.VictimOnCall]: validated(victimOnCallSchema, (j, r) => this.service.victimOnCall(j, r)),
      [AlertJobName.CallEnded]: validated(callEndedSchema, (j, r) => this.service.callEnded(j, r)),
      [AlertJobName.SuspectNumber]: validated(suspectNumberSchema, (j, r) =>
        this.service.suspectNumber(j, r),
      ),
      [AlertTimerJobName.EscalateUnclaimed]: validated(escalateSchema, (j, r) =>
        this.service.escalateUnclaimed(j, r),
      ),
    };
    assertEveryJobHasAHandler(this.handlers);
    readiness.register('alert-worker', () =>
      Promise.resolve().then(() => {
        if (!this.worker?.isRunning()) throw new Error('alerts worker not running');
      }),
    );
  }

  onApplicationBootstrap(): void {
    this.worker = new Worker(QueueName.Alerts, (job: Job) => this.process(job), {
      connection: duplicateClient(this.queues.connection),
      prefix: this.keys.bullPrefix(),
      concurrency: this.config.ALERT_WORKER_CONCURRENCY,
      lockDuration: this.config.ALERT_WORKER_LOCK_MS,
      stalledInterval: this.config.ALERT_WORKER_STALLED_INTERVAL_MS,
      // a job whose worker died twice in a row is retried, not failed: the write is idempotent
      maxStalledCount: 5,
    });
    this.worker.on('failed', (job, err) => {
      if (job) void this.onFailed(job, err);
    });
    this.worker.on('error', (err) => this.logger.error(`worker error: ${err.message}`));
    this.depthTimer = setInterval(() => void this.sampleDepth(), 5000);
    this.depthTimer.unref();
    void this.sampleDepth();
  }

  /** First in shutdown (before queues, Redis and Postgres close): finish the jobs in hand, take no new ones. */
  async onModuleDestroy(): Promise<void> {
    if (this.depthTimer) clearInterval(this.depthTimer);
    await this.worker?.close();
  }

  async process(job: Job): Promise<number> {
    if (job.name === ALERT_BATCH_JOB) return this.processBatch(job);
    const run: JobRun = { retry: isRetry(job) };
    if (!run.retry) observeQueueWait(job, job.name);
    try {
      return await this.apply(job.name, job.data, run, job.attemptsMade + 1);
    } catch (e) {
      if (isPermanentDbError(e))
        throw new UnrecoverableError(`rejected by the database: ${(e as Error).message}`);
      throw e;
    }
  }

  /**
   * A detector round's alert jobs in one queue job (libs/contracts alert-batch.ts). Items of one
   * call or one suspect number are applied in the batch's order, one after another; other items
   * at the same time, up to ALERT_WORKER_CONCURRENCY. An item that cannot be applied for good
   * (malformed, refused by the database) is dead-lettered alone under its own id and the others go
   * on. An error a retry may cure stops that item's call or number and, once the others are done,
   * fails the batch, which is retried whole (the items already applied change nothing again); on
   * the last attempt the items left are dead-lettered each instead.
   */
  private async processBatch(job: Job): Promise<number> {
    const parsed = alertBatchSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload: ${describeIssues(parsed.error)}`);
    const items = parsed.data.items as AlertBatchItem[];
    const retry = isRetry(job);
    if (!retry) for (const it of items) observeQueueWait(job, it.name);
    const attempt = job.attemptsMade + 1;
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    const groups = new Map<string, AlertBatchItem[]>();
    for (const it of items) {
      const k = orderKey(it);
      const g = groups.get(k);
      if (g) g.push(it);
      else groups.set(k, [it]);
    }
    let changed = 0;
    let transient: unknown;
    const left: AlertBatchItem[] = [];
    const queue = [...groups.values()];
    const lane = async (): Promise<void> => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        for (let i = 0; i < g.length; i++) {
          try {
            changed += await this.apply(g[i].name, g[i].data, { retry }, attempt);
          } catch (e) {
            if (isUnrecoverable(e) || isPermanentDbError(e)) {
              await this.deadLetterItem(job, g[i], e as Error);
              continue;
            }
            transient ??= e;
            left.push(...g.slice(i));
            break;
          }
        }
      }
    };
    const lanes = Math.min(groups.size, this.config.ALERT_WORKER_CONCURRENCY);
    await Promise.all(Array.from({ length: lanes }, lane));
    if (transient !== undefined) {
      if (!lastAttempt) throw transient;
      for (const it of left) await this.deadLetterItem(job, it, transient as Error);
    }
    return changed;
  }

  /** Applies one alert job under a span of its own, in the trace of the detector's span for it. */
  private async apply(name: string, data: unknown, run: JobRun, attempt: number): Promise<number> {
    const handler = this.handlers[name as WorkerJobName] as Handler | undefined;
    if (!handler) throw new UnrecoverableError(`no handler for alert job "${name}"`);
    // one span per job, in the trace of the detector's span for the alert (a new trace for timers)
    const tp = (data as { traceparent?: unknown } | null)?.traceparent;
    const span = startSpan('alert.job', {
      parent: typeof tp === 'string' ? tp : undefined,
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.destination.name': QueueName.Alerts,
        'messaging.operation': 'process',
        'eagleeye.job.name': name,
        'eagleeye.job.attempt': attempt,
      },
    });
    const sc = span.spanContext();
    if (isSpanContextValid(sc)) run.traceId = sc.traceId;
    return withSpan(span, async () => {
      try {
        const changed = await handler(data, run);
        alertJobs.inc({ name, result: changed ? 'ok' : 'noop' });
        span.setAttribute('eagleeye.alert.changes', changed);
        span.end();
        return changed;
      } catch (e) {
        failSpan(span, e);
        throw e;
      }
    });
  }

  /**
   * A batch item that failed for good, copied to the dead-letter queue as if it had been a job of
   * its own (its name, data and id: a retry from the console adds it alone). If that copy cannot be
   * made the batch fails and is retried, so the item is never dropped unrecorded.
   */
  private async deadLetterItem(job: Job, item: AlertBatchItem, err: Error): Promise<void> {
    const reason = isPermanentDbError(err) ? `rejected by the database: ${err.message}` : err.message;
    alertJobs.inc({ name: item.name, result: 'dead_letter' });
    alertDeadLetters.inc({ name: item.name });
    this.logger.error(
      `alert job ${item.id} (${item.name}, in batch ${job.id}) dead-lettered after ${job.attemptsMade + 1} attempts: ${reason}`,
    );
    const dead: DeadLetterJob = {
      name: item.name,
      data: item.data,
      originalJobId: item.id,
      failedReason: reason,
      attemptsMade: job.attemptsMade + 1,
      failedAt: Date.now(),
    };
    await this.queues.deadLetter.add(item.name, dead, { jobId: item.id });
  }

  private async onFailed(job: Job, err: Error): Promise<void> {
    const attempts = job.opts.attempts ?? 1;
    const final = isUnrecoverable(err) || job.attemptsMade >= attempts;
    if (!final) {
      alertJobs.inc({ name: job.name, result: 'retry' });
      this.logger.warn(`alert job ${job.id} (${job.name}) failed, will retry: ${err.message}`);
      return;
    }
    alertJobs.inc({ name: job.name, result: 'dead_letter' });
    alertDeadLetters.inc({ name: job.name });
    this.logger.error(
      `alert job ${job.id} (${job.name}) dead-lettered after ${job.attemptsMade} attempts: ${err.message}`,
    );
    const dead: DeadLetterJob = {
      name: job.name,
      data: job.data,
      originalJobId: job.id ?? null,
      failedReason: err.message,
      attemptsMade: job.attemptsMade,
      failedAt: Date.now(),
    };
    try {
      await this.queues.deadLetter.add(job.name, dead, job.id ? { jobId: job.id } : {});
    } catch (e) {
      this.logger.error(`cannot record dead letter ${job.id}: ${(e as Error).message}`);
    }
  }

  private async sampleDepth(): Promise<void> {
    try {
      const [alerts, dead] = await Promise.all([
        this.queues.alerts.getJobCounts('waiting', 'active', 'delayed', 'failed'),
        this.queues.deadLetter.getJobCounts('waiting'),
      ]);
      for (const [state, n] of Object.entries(alerts)) alertQueueJobs.set({ queue: 'alerts', state }, n);
      alertQueueJobs.set({ queue: 'dead_letter', state: 'waiting' }, dead.waiting ?? 0);
    } catch {
      // Redis away: readiness says so; the gauge keeps its last value
    }
  }
}

function isRetry(job: Job): boolean {
  return job.attemptsStarted > 1 || job.attemptsMade > 0 || job.stalledCounter > 0;
}

function isUnrecoverable(e: unknown): boolean {
  return e instanceof UnrecoverableError || (e as Error | undefined)?.name === 'UnrecoverableError';
}

/** How long a job waited in the queue (its first run only), under the name of each alert job it carries. */
function observeQueueWait(job: Job, name: string): void {
  const due = job.timestamp + (job.delay ?? 0);
  alertJobStageSeconds.observe({ stage: 'queue_wait', job: name }, Math.max(0, Date.now() - due) / 1000);
}

/** Items of one call, or of one suspect number, are applied in their batch's order. */
function orderKey(item: AlertBatchItem): string {
  const d = (item.data ?? {}) as { carrierId?: unknown; callId?: unknown; suspect?: unknown };
  return item.name === AlertJobName.SuspectNumber
    ? `s|${String(d.carrierId)}|${String(d.suspect)}`
    : `c|${String(d.carrierId)}|${String(d.callId)}`;
}

export function assertEveryJobHasAHandler(handlers: Partial<Record<string, unknown>>): void {
  const missing = WORKER_JOB_NAMES.filter((n) => typeof handlers[n] !== 'function');
  if (missing.length) throw new Error(`alert worker: no handler for job(s) ${missing.join(', ')}`);
}
