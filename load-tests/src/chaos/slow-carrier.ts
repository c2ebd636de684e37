import * as grpc from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';
import { loopbackTarget } from '../loopback';
import { randomTag, TrafficModel } from '../traffic';

const { CallEventBatch, BatchAck, CallRecordIngestService } = ingestV1;

export interface SlowCarrierResult {
  /** batches written to the stream */
  sent: number;
  /** ticks at which its own stream buffer was full: ingest had stopped reading from it */
  blocked: number;
  /** acks it let through before it stopped reading (grpc-js reads ahead a little) */
  acksRead: number;
  error?: string;
}

/**
 * A carrier that keeps sending and stops reading acks: a bidirectional StreamCallEvents call whose
 * response side is paused (grpc-js then stops granting the server HTTP/2 window for it). Each batch
 * carries one fresh event and `copies - 1` repeats of it, each refused in the ack with its
 * event_id and a message (about 100 bytes a repeat): what a carrier's broken retry loop sends, and
 * acks large enough that a server buffering them shows it. It writes only while its own stream
 * buffer has room (as grpc-js callers must), so what piles up, if anything, piles up at ingest.
 */
export class SlowCarrier {
  private readonly traffic: TrafficModel;
  private client?: grpc.Client;
  private call?: grpc.ClientDuplexStream<Buffer, ingestV1.BatchAck>;
  private timer?: NodeJS.Timeout;
  private seq = 1;
  readonly r: SlowCarrierResult = { sent: 0, blocked: 0, acksRead: 0 };

  constructor(
    private readonly target: string,
    private readonly apiKey: string,
    private readonly batchesPerS: number,
    private readonly copies: number,
  ) {
    loopbackTarget(target);
    const tag = randomTag(4);
    this.traffic = new TrafficModel({
      mode: 'fresh-pairs',
      keyId: 'lt',
      populationSpace: `${tag}Sc`,
      runTag: tag,
      population: 0,
    });
  }

  start(): void {
    const client = new grpc.Client(this.target, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': -1,
    });
    this.client = client;
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${this.apiKey}`);
    const call = client.makeBidiStreamRequest<Buffer, ingestV1.BatchAck>(
      CallRecordIngestService.streamCallEvents.path,
      (b: Buffer) => b,
      (b: Buffer) => BatchAck.decode(b),
      md,
    );
    this.call = call;
    call.on('error', (e: grpc.ServiceError) => (this.r.error ??= grpc.status[e.code] ?? e.message));
    // read nothing: a paused readable asks grpc-js for no message, so no window goes back to ingest
    call.on('data', () => this.r.acksRead++);
    call.pause();
    this.timer = setInterval(() => this.tick(), 1000 / this.batchesPerS);
  }

  private tick(): void {
    const call = this.call;
    if (!call || call.destroyed) return;
    if (call.writableNeedDrain) {
      this.r.blocked++;
      return;
    }
    // a fresh pair's call comes whole (attempt, answer, end): its attempt is the new event
    const [ev] = this.traffic.batch(3, Date.now());
    const events = Array.from({ length: this.copies }, () => ev);
    call.write(Buffer.from(CallEventBatch.encode({ sequence: this.seq++, events }).finish()));
    this.r.sent++;
  }

  stop(): SlowCarrierResult {
    clearInterval(this.timer);
    this.call?.cancel();
    this.client?.close();
    return this.r;
  }
}
