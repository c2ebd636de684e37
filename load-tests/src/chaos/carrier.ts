import * as grpc from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';
import { loopbackTarget } from '../loopback';
import { nowMs } from '../open-loop';
import { TrafficModel, TrafficOptions } from '../traffic';

const { CallEventBatch, BatchAck, CallRecordIngestService } = ingestV1;
type BatchAckT = ingestV1.BatchAck;
type CallEvent = ingestV1.CallEvent;

/** One event as the ledger needs it: what the detector must show for it once acknowledged. */
export interface SentEvent {
  id: string;
  callId: string;
  caller: string;
  type: ingestV1.CallEventType;
  /** event time, epoch ms */
  t: number;
}

interface Batch {
  seq: number;
  intendedMs: number;
  buf: Buffer;
  events: SentEvent[];
  sends: number;
}

export interface CarrierOptions {
  target: string;
  apiKey: string;
  ratePerS: number;
  batchSize: number;
  durationS: number;
  traffic: TrafficOptions;
  /** batches sent and not acknowledged at most (a real carrier's window); the rest wait their turn */
  window?: number;
  /** duplicate every n-th batch on the wire (the same batch sent twice in a row), 0 = never */
  duplicateEvery?: number;
  /** shifts event times by this much (a carrier whose clock is off) */
  clockOffsetMs?: number;
  /** a hook that may rewrite a batch's events before it is encoded (reordering, late events) */
  mutate?: (events: CallEvent[], intendedMs: number) => CallEvent[];
}

export interface CarrierResult {
  scheduledBatches: number;
  ackedBatches: number;
  /** batches never acknowledged before the carrier gave up (the stack never came back) */
  unackedBatches: number;
  /** batch sends beyond the first (resends after a broken stream, wire duplicates) */
  resends: number;
  reconnects: number;
  accepted: number;
  duplicates: number;
  rejected: Record<string, number>;
  /** acknowledged events (accepted or recognised as duplicates) */
  acked: SentEvent[];
  /** sent but never acknowledged: the ledger allows these either way */
  unacked: SentEvent[];
  /** intended send time to ack, per acknowledged batch, ms */
  ackLatencyMs: number[];
  /** when each of those acks arrived (nowMs), in the same order */
  ackAtMs: number[];
  errors: string[];
}

/**
 * A carrier as the wire contract asks it to behave: it keeps every batch until its ack arrives,
 * and after a broken stream reconnects and resends from the first unacknowledged one. Batches are
 * produced on a fixed schedule (open loop) whatever the server does; while the server is away they
 * queue up here, as they would at a carrier's switch.
 */
export class ChaosCarrier {
  private readonly traffic: TrafficModel;
  private readonly queue: Batch[] = [];
  private inFlight: Batch[] = [];
  private client?: grpc.Client;
  private call?: grpc.ClientDuplexStream<Buffer, BatchAckT>;
  private connecting = false;
  private generation = 0;
  private nextSeq = 1;
  private stopped = false;
  private readonly r: CarrierResult = {
    scheduledBatches: 0,
    ackedBatches: 0,
    unackedBatches: 0,
    resends: 0,
    reconnects: 0,
    accepted: 0,
    duplicates: 0,
    rejected: {},
    acked: [],
    unacked: [],
    ackLatencyMs: [],
    ackAtMs: [],
    errors: [],
  };
  /** called when an ack arrives (recovery time) */
  onAck?: (atMs: number) => void;

  constructor(private readonly o: CarrierOptions) {
    loopbackTarget(o.target);
    this.traffic = new TrafficModel(o.traffic);
  }

  get probeSends(): TrafficModel['probeSends'] {
    return this.traffic.probeSends;
  }

  get outstanding(): number {
    return this.queue.length + this.inFlight.length;
  }

  progress(): string {
    return `acked ${this.r.ackedBatches}/${this.r.scheduledBatches} batches, ${this.outstanding} waiting, ${this.r.reconnects} reconnects`;
  }

  /** Sends on schedule for durationS, then waits up to drainMs for the remaining acks. */
  async run(drainMs: number): Promise<CarrierResult> {
    this.connect();
    const interval = (this.o.batchSize / this.o.ratePerS) * 1000;
    const start = nowMs();
    const end = start + this.o.durationS * 1000;
    let k = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = nowMs();
        while (start + k * interval <= now && start + k * interval < end) {
          this.schedule(start + k * interval, k);
          k++;
        }
        this.pump();
        if (start + k * interval >= end) return resolve();
        setTimeout(tick, Math.max(1, start + k * interval - nowMs()));
      };
      tick();
    });
    const deadline = Date.now() + drainMs;
    while (this.outstanding > 0 && Date.now() < deadline) await sleep(100);
    this.stopped = true;
    for (const b of [...this.inFlight, ...this.queue]) {
      this.r.unackedBatches++;
      this.r.unacked.push(...b.events);
    }
    this.call?.end();
    this.client?.close();
    return this.r;
  }

  private schedule(intendedMs: number, k: number): void {
    const t = intendedMs + (this.o.clockOffsetMs ?? 0);
    let events = this.traffic.batch(this.o.batchSize, t);
    if (this.o.mutate) events = this.o.mutate(events, t);
    const seq = this.nextSeq++;
    const batch: Batch = {
      seq,
      intendedMs,
      buf: Buffer.from(CallEventBatch.encode({ sequence: seq, events }).finish()),
      events: events.map((e) => ({
        id: e.eventId,
        callId: e.callId,
        caller: e.caller,
        type: e.type,
        t: e.eventTimeMs,
      })),
      sends: 0,
    };
    this.r.scheduledBatches++;
    this.queue.push(batch);
    const every = this.o.duplicateEvery ?? 0;
    // the same batch again under the next sequence number: a carrier's retry after a lost ack
    if (every > 0 && k % every === every - 1) {
      this.queue.push({ ...batch, seq: this.nextSeq++, buf: reencode(batch.buf, this.nextSeq - 1) });
      this.r.scheduledBatches++;
    }
  }

  private pump(): void {
    if (!this.call || this.connecting) return;
    const window = this.o.window ?? 16;
    while (this.queue.length && this.inFlight.length < window) {
      const b = this.queue.shift() as Batch;
      this.write(b);
    }
  }

  private write(b: Batch): void {
    if (b.sends++ > 0) this.r.resends++;
    this.inFlight.push(b);
    this.call?.write(b.buf);
  }

  private connect(): void {
    if (this.stopped) return;
    this.connecting = true;
    const gen = ++this.generation;
    this.client?.close();
    const client = new grpc.Client(this.o.target, grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
      // reconnect quickly once the server is back (the default backoff grows to two minutes)
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    this.client = client;
    client.waitForReady(Date.now() + 5000, (e) => {
      if (gen !== this.generation || this.stopped) return;
      if (e) {
        this.retry(gen, 250);
        return;
      }
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${this.o.apiKey}`);
      const call = client.makeBidiStreamRequest<Buffer, BatchAckT>(
        CallRecordIngestService.streamCallEvents.path,
        (b: Buffer) => b,
        (b: Buffer) => BatchAck.decode(b),
        md,
      );
      this.call = call;
      call.on('data', (ack: BatchAckT) => this.onAckMsg(gen, ack));
      call.on('error', (err: grpc.ServiceError) => this.onBroken(gen, err));
      call.on('end', () => this.onBroken(gen, new Error('server ended the stream')));
      this.connecting = false;
      // resend every unacknowledged batch first, in order
      const again = this.inFlight;
      this.inFlight = [];
      this.queue.unshift(...again);
      this.pump();
    });
  }

  private retry(gen: number, delayMs: number): void {
    if (gen !== this.generation) return;
    this.generation++;
    this.r.reconnects++;
    this.connecting = true;
    setTimeout(() => this.connect(), delayMs);
  }

  private onBroken(gen: number, e: Error & { code?: number; metadata?: grpc.Metadata }): void {
    if (gen !== this.generation || this.stopped) return;
    const code = e.code !== undefined ? (grpc.status[e.code] ?? String(e.code)) : e.message;
    if (this.r.errors.length < 50) this.r.errors.push(`stream broken: ${code}`);
    const retryAfter = Number(e.metadata?.get('retry-after-ms')?.[0] ?? 0);
    this.retry(gen, Math.max(200, retryAfter));
  }

  private onAckMsg(gen: number, ack: BatchAckT): void {
    if (gen !== this.generation) return;
    const at = this.inFlight.findIndex((b) => b.seq === Number(ack.sequence));
    if (at < 0) {
      this.r.errors.push(`an ack for sequence ${ack.sequence} without that batch in flight`);
      return;
    }
    const [b] = this.inFlight.splice(at, 1);
    const now = nowMs();
    this.r.ackedBatches++;
    this.r.accepted += ack.accepted;
    this.r.duplicates += ack.duplicates;
    this.r.ackLatencyMs.push(now - b.intendedMs);
    this.r.ackAtMs.push(now);
    const refused = new Set<number>();
    for (const rj of ack.rejected) {
      refused.add(rj.index);
      const code = ingestV1.rejectionReasonToJSON(rj.code);
      this.r.rejected[code] = (this.r.rejected[code] ?? 0) + 1;
    }
    b.events.forEach((ev, i) => {
      if (!refused.has(i)) this.r.acked.push(ev);
    });
    this.onAck?.(now);
    this.pump();
  }
}

/** The same batch under another sequence number (only the sequence field changes). */
function reencode(buf: Buffer, seq: number): Buffer {
  const b = CallEventBatch.decode(buf);
  return Buffer.from(CallEventBatch.encode({ ...b, sequence: seq }).finish());
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
