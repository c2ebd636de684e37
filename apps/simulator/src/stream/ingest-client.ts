import { ClientDuplexStream, credentials, Metadata, ServiceError, status } from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';

type CallEvent = ingestV1.CallEvent;
type BatchAck = ingestV1.BatchAck;

export const MAX_BATCH_EVENTS = 500;

export interface IngestStreamOptions {
  /** host:port of the ingest gRPC server */
  address: string;
  carrierId: string;
  /** `eek_<keyId>_<secret>` */
  apiKey: string;
  /** batches sent and not yet acked; send() waits beyond this (back-pressure) */
  maxInFlight?: number;
  /** called for every ack with the batch it answers */
  onAck?: (ack: BatchAck, batch: PendingBatch) => void;
  /** called on a stream failure before the reconnect */
  onStreamError?: (e: Error, willRetry: boolean) => void;
}

export interface PendingBatch {
  sequence: number;
  events: CallEvent[];
  /** wall time of the first send, ms */
  firstSentAt: number;
}

export class IngestAuthError extends Error {}

/** gRPC status codes that retrying cannot fix. */
const FATAL = new Set<number>([
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.UNIMPLEMENTED,
  status.INVALID_ARGUMENT,
]);

/**
 * A carrier's side of `StreamCallEvents`: numbered batches, one ack per batch in order, a window of
 * unacked batches. When the stream breaks, it reconnects with back-off and resends every unacked
 * batch with its original sequence; ingest recognises redelivered events by event_id, so nothing
 * is lost and nothing counts twice.
 */
export class IngestStream {
  private client: ingestV1.CallRecordIngestClient;
  private call?: ClientDuplexStream<ingestV1.CallEventBatch, BatchAck>;
  private readonly pending: PendingBatch[] = [];
  private sequence = 0;
  private closed = false;
  private fatal?: Error;
  private reconnectTimer?: NodeJS.Timeout;
  private backoffMs = 200;
  private waiters: (() => void)[] = [];
  readonly stats = {
    batchesSent: 0,
    eventsSent: 0,
    acks: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    reconnects: 0,
    rejectedByReason: new Map<string, number>(),
    /** wall ms from first send to ack of the last acked batch */
    lastAckLatencyMs: 0,
  };
  private readonly maxInFlight: number;

  constructor(private readonly opts: IngestStreamOptions) {
    this.maxInFlight = opts.maxInFlight ?? 16;
    this.client = new ingestV1.CallRecordIngestClient(opts.address, credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
    });
  }

  get unacked(): number {
    return this.pending.length;
  }

  /** Sends one batch (at most 500 events); waits while the window of unacked batches is full. */
  async send(events: CallEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (events.length > MAX_BATCH_EVENTS) throw new Error(`a batch holds at most ${MAX_BATCH_EVENTS} events`);
    while (this.pending.length >= this.maxInFlight && !this.fatal && !this.closed) await this.wait();
    if (this.fatal) throw this.fatal;
    if (this.closed) throw new Error('the ingest stream is closed');
    const batch: PendingBatch = { sequence: ++this.sequence, events, firstSentAt: Date.now() };
    this.pending.push(batch);
    this.ensureStream();
    this.write(batch);
  }

  /** Resolves once every batch sent so far is acked. */
  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length && !this.fatal) {
      if (Date.now() > deadline)
        throw new Error(`${this.pending.length} batches still unacked by ingest after ${timeoutMs} ms`);
      await Promise.race([this.wait(), new Promise((r) => setTimeout(r, 200))]);
    }
    if (this.fatal) throw this.fatal;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.call?.end();
    this.call = undefined;
    this.client.close();
    this.wake();
  }

  private wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private write(batch: PendingBatch): void {
    if (!this.call) return; // resent on reconnect
    this.stats.batchesSent++;
    this.stats.eventsSent += batch.events.length;
    this.call.write({ sequence: batch.sequence, events: batch.events });
  }

  private ensureStream(): void {
    if (this.call || this.closed || this.reconnectTimer) return;
    const md = new Metadata();
    md.set('authorization', `Bearer ${this.opts.apiKey}`);
    const call = this.client.streamCallEvents(md);
    this.call = call;
    call.on('data', (ack: BatchAck) => this.onAck(ack));
    call.on('error', (e: ServiceError) => this.onBroken(call, e));
    call.on('end', () => this.onBroken(call, new Error('ingest ended the stream')));
    // anything unacked from a previous stream goes again, with its original sequence
    for (const b of this.pending) this.write(b);
  }

  private onAck(ack: BatchAck): void {
    const i = this.pending.findIndex((b) => b.sequence === ack.sequence);
    if (i < 0) return; // an ack for a batch already acked on an earlier stream
    const [batch] = this.pending.splice(i, 1);
    this.backoffMs = 200;
    this.stats.acks++;
    this.stats.accepted += ack.accepted;
    this.stats.duplicates += ack.duplicates;
    this.stats.rejected += ack.rejected.length;
    for (const r of ack.rejected) {
      const reason = ingestV1.rejectionReasonToJSON(r.code);
      this.stats.rejectedByReason.set(reason, (this.stats.rejectedByReason.get(reason) ?? 0) + 1);
    }
    this.stats.lastAckLatencyMs = Date.now() - batch.firstSentAt;
    this.opts.onAck?.(ack, batch);
    this.wake();
  }

  private onBroken(call: ClientDuplexStream<ingestV1.CallEventBatch, BatchAck>, e: Error): void {
    if (this.call !== call) return;
    this.call = undefined;
    call.removeAllListeners('data');
    if (this.closed) return;
    const code = (e as ServiceError).code;
    if (code !== undefined && FATAL.has(code)) {
      this.fatal = new IngestAuthError(
        `ingest refused carrier ${this.opts.carrierId}: ${e.message} (check the API key)`,
      );
      this.opts.onStreamError?.(this.fatal, false);
      this.wake();
      return;
    }
    this.opts.onStreamError?.(e, true);
    if (!this.pending.length) return; // reconnect lazily with the next batch
    this.stats.reconnects++;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(5000, this.backoffMs * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.ensureStream();
    }, delay);
  }
}
