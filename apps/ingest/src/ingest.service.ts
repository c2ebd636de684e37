import { Metadata, status } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import { ingestV1, validateBatch } from '@eagle-eye/contracts';
import { IngestConfig, INGEST_CONFIG } from './config';
import { BacklogMonitor } from './handoff/backlog.monitor';
import { HandoffChunk, HandoffRepository } from './handoff/handoff.repository';
import { ingestMetrics } from './ingest.metrics';
import { TokenBucketLimiter } from './rate-limit';

/** A batch refused as a whole: the call ends with this gRPC status. */
export class BatchRefusedError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly trailers?: Metadata,
  ) {
    super(message);
    this.name = 'BatchRefusedError';
  }
}

/** A validated batch whose hand-off is planned but not yet run. */
export interface PreparedBatch {
  carrierId: string;
  sequence: number;
  receivedAt: number;
  chunks: HandoffChunk[];
  partitions: Set<number>;
  rejected: ingestV1.Rejection[];
  /** W3C traceparent of the batch's span: written once into each of its hand-off entries */
  traceparent?: string;
}

const REASON_NAME = ingestV1.rejectionReasonToJSON;

/**
 * The ingest pipeline of one batch: size and rate checks, validation, planning (synchronous, in
 * arrival order), then the backpressure wait and the durable hand-off, then the ack.
 */
@Injectable()
export class IngestService {
  private readonly limiter: TokenBucketLimiter;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly handoff: HandoffRepository,
    private readonly backlog: BacklogMonitor,
  ) {
    this.limiter = new TokenBucketLimiter(
      config.INGEST_RATE_LIMIT_EVENTS_PER_S,
      config.INGEST_RATE_LIMIT_BURST_EVENTS,
    );
  }

  /** Throws BatchRefusedError for a batch refused as a whole. */
  prepare(carrierId: string, batch: ingestV1.CallEventBatch, receivedAt = Date.now()): PreparedBatch {
    const n = batch.events.length;
    ingestMetrics.batchEvents.observe(n);
    if (n > this.config.INGEST_MAX_BATCH_EVENTS) {
      ingestMetrics.batchesRefused.inc({ code: 'INVALID_ARGUMENT' });
      throw new BatchRefusedError(
        status.INVALID_ARGUMENT,
        `batch ${batch.sequence} has ${n} events; at most ${this.config.INGEST_MAX_BATCH_EVENTS} per batch`,
      );
    }
    const taken = this.limiter.take(carrierId, n, receivedAt);
    if (!taken.ok) {
      ingestMetrics.rateLimited.inc({ carrier: carrierId });
      ingestMetrics.batchesRefused.inc({ code: 'RESOURCE_EXHAUSTED' });
      const trailers = new Metadata();
      trailers.set('retry-after-ms', String(taken.retryAfterMs));
      throw new BatchRefusedError(
        status.RESOURCE_EXHAUSTED,
        `rate limit of ${this.config.INGEST_RATE_LIMIT_EVENTS_PER_S} events/s exceeded; resend batch ${batch.sequence} after ${taken.retryAfterMs} ms (retry-after-ms)`,
        trailers,
      );
    }
    const { valid, rejected } = validateBatch(batch.events, receivedAt, {
      maxFutureSkewMs: this.config.INGEST_MAX_FUTURE_SKEW_MS,
      maxAgeMs: this.config.INGEST_MAX_EVENT_AGE_MS,
    });
    if (rejected.length) {
      const byReason = new Map<string, number>();
      for (const r of rejected)
        byReason.set(REASON_NAME(r.code), (byReason.get(REASON_NAME(r.code)) ?? 0) + 1);
      for (const [reason, count] of byReason)
        ingestMetrics.events.inc({ carrier: carrierId, result: 'rejected', reason }, count);
    }
    const chunks = this.handoff.plan(carrierId, valid);
    return {
      carrierId,
      sequence: batch.sequence,
      receivedAt,
      chunks,
      partitions: new Set(chunks.map((c) => c.partition)),
      rejected,
    };
  }

  /** Resolves when none of the batch's partitions is over its backlog limit. */
  awaitCapacity(p: PreparedBatch): Promise<void> {
    return this.backlog.waitFor(p.partitions);
  }

  /**
   * Runs the hand-off. The Redis calls are issued before this returns (synchronously), so callers
   * control the order in which batches reach Redis by the order in which they call it.
   */
  async handOff(p: PreparedBatch): Promise<ingestV1.BatchAck> {
    const outcome = p.chunks.length
      ? await this.handoff.execute(p.carrierId, p.chunks, p.traceparent)
      : { accepted: 0, duplicates: 0 };
    if (outcome.accepted)
      ingestMetrics.events.inc({ carrier: p.carrierId, result: 'accepted' }, outcome.accepted);
    if (outcome.duplicates)
      ingestMetrics.events.inc({ carrier: p.carrierId, result: 'duplicate' }, outcome.duplicates);
    return {
      sequence: p.sequence,
      accepted: outcome.accepted,
      duplicates: outcome.duplicates,
      rejected: p.rejected,
    };
  }
}
