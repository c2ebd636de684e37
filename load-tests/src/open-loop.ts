import * as grpc from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';
import { encodeHistogram, LatencySummary, newHistogram, recordMs, summarise } from './histogram';
import { loopbackTarget } from './loopback';
import { ProbeSend, TrafficModel, TrafficOptions } from './traffic';

const { CallEventBatch, BatchAck, CallRecordIngestService, rejectionReasonToJSON } = ingestV1;
type BatchAckT = ingestV1.BatchAck;

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface LoadgenOptions {
  /** host:port of a CallRecordIngest server on this machine */
  target: string;
  /** `eek_<keyId>_<secret>`, sent as `authorization: Bearer <key>` */
  apiKey?: string;
  /**
   * 'open': batches leave on a fixed schedule (ratePerS / batchSize apart) whatever the server
   * does; latency is measured from each batch's intended send time, so a stalled server shows up
   * as latency instead of as fewer requests (no coordinated omission).
   * 'max': each stream keeps `maxInFlightPerStream` batches outstanding, to find a ceiling.
   */
  mode: 'open' | 'max';
  /** open: events per second */
  ratePerS?: number;
  batchSize: number;
  /** stop scheduling after this many seconds ... */
  durationS?: number;
  /** ... or after this many batches (whichever comes first) */
  maxBatches?: number;
  /** concurrent gRPC streams, each on its own connection; batches go round-robin */
  streams?: number;
  /** open: a batch due on a stream with this many unacknowledged batches is dropped (and counted) */
  maxInFlightPerStream?: number;
  /** a batch sent more than this after its intended time counts as late */
  lateMs?: number;
  /** how long to wait for outstanding acks once sending stops */
  drainTimeoutMs?: number;
  traffic: TrafficOptions;
  /** resend this many pre-encoded batches round-robin (transport ceiling: no encoding cost, no unique ids) */
  preencodedBatches?: number;
  progressEveryMs?: number;
  /** batches per stream sent and acknowledged before the clock starts (default 2) */
  warmupBatchesPerStream?: number;
}

export interface LoadgenProgress {
  elapsedS: number;
  sentEvents: number;
  ackedEvents: number;
  droppedBatches: number;
  lateBatches: number;
  inFlightBatches: number;
  ackP99Ms: number;
}

export interface LoadgenResult {
  target: string;
  mode: 'open' | 'max';
  targetEventsPerS: number | null;
  batchSize: number;
  streams: number;
  startedAtMs: number;
  /** from the first intended send to the last ack */
  elapsedS: number;
  /** from the first to the last intended send */
  sendWindowS: number;
  batches: {
    scheduled: number;
    sent: number;
    acked: number;
    /** not sent: the stream already had maxInFlightPerStream batches unacknowledged */
    dropped: number;
    /** sent more than lateMs after the intended time (the generator itself fell behind) */
    late: number;
    /** lost to a stream error or never acknowledged within drainTimeoutMs */
    failed: number;
  };
  events: { sent: number; acked: number; accepted: number; duplicates: number; rejected: number };
  rejections: Record<string, number>;
  bytesSent: number;
  /** acknowledged events per second over elapsedS */
  achievedEventsPerS: number;
  /** ack time minus intended send time */
  ackLatency: LatencySummary;
  ackLatencyHdr: string;
  /** actual minus intended send time: how far the generator itself lagged */
  sendLag: LatencySummary;
  probesSent: number;
  /** events of the warm-up batches (sent before the clock started, not in the figures above) */
  warmupEvents: number;
  errors: string[];
}

interface InFlight {
  seq: number;
  intendedMs: number;
  events: number;
}

interface StreamState {
  id: number;
  client: grpc.Client;
  call: grpc.ClientDuplexStream<Buffer, BatchAckT>;
  seq: number;
  inFlight: InFlight[];
  dead: boolean;
  /** set while warm-up batches are outstanding: called when the stream has none left */
  warmup?: () => void;
}

/**
 * Sends call-event batches to a CallRecordIngest server over bidirectional streams and reports
 * throughput, ack latency and every batch it could not send on time. Stops by itself.
 */
export class LoadGenerator {
  private readonly ack = newHistogram();
  private readonly lag = newHistogram();
  private readonly traffic: TrafficModel;
  private readonly streams: StreamState[] = [];
  private readonly errors: string[] = [];
  private readonly rejections: Record<string, number> = {};
  private readonly preencoded: Buffer[] = [];
  private readonly r: LoadgenResult;
  private probeCursor = 0;
  private startMs = 0;
  private lastAckMs = 0;
  private lastIntendedMs = 0;
  private stopping = false;
  private finished!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(
    private readonly o: LoadgenOptions,
    private readonly hooks: {
      onProbe?: (p: ProbeSend) => void;
      onProgress?: (p: LoadgenProgress) => void;
    } = {},
  ) {
    loopbackTarget(o.target);
    if (!(o.batchSize >= 1 && o.batchSize <= 100000)) throw new Error('batchSize must be 1..100000');
    if (o.mode === 'open' && !(o.ratePerS && o.ratePerS > 0)) throw new Error('open mode needs ratePerS > 0');
    if (o.durationS === undefined && o.maxBatches === undefined && !(o.traffic.maxCalls !== undefined)) {
      throw new Error('give durationS or maxBatches (the generator must stop by itself)');
    }
    this.traffic = new TrafficModel(o.traffic);
    this.r = {
      target: o.target,
      mode: o.mode,
      targetEventsPerS: o.mode === 'open' ? (o.ratePerS ?? null) : null,
      batchSize: o.batchSize,
      streams: o.streams ?? 2,
      startedAtMs: 0,
      elapsedS: 0,
      sendWindowS: 0,
      batches: { scheduled: 0, sent: 0, acked: 0, dropped: 0, late: 0, failed: 0 },
      events: { sent: 0, acked: 0, accepted: 0, duplicates: 0, rejected: 0 },
      rejections: this.rejections,
      bytesSent: 0,
      achievedEventsPerS: 0,
      ackLatency: summarise(this.ack),
      ackLatencyHdr: '',
      sendLag: summarise(this.lag),
      probesSent: 0,
      warmupEvents: 0,
      errors: this.errors,
    };
  }

  async run(): Promise<LoadgenResult> {
    const n = this.o.streams ?? 2;
    if (this.o.preencodedBatches) {
      const t = nowMs();
      for (let i = 0; i < this.o.preencodedBatches; i++) {
        const events = this.traffic.batch(this.o.batchSize, t);
        this.preencoded.push(Buffer.from(CallEventBatch.encode({ sequence: i + 1, events }).finish()));
      }
    }
    for (let i = 0; i < n; i++) this.streams.push(await this.open(i));
    await this.warmUp();
    this.startMs = nowMs();
    this.r.startedAtMs = this.startMs;
    const progress = this.hooks.onProgress
      ? setInterval(() => this.hooks.onProgress?.(this.progress()), this.o.progressEveryMs ?? 5000)
      : undefined;
    try {
      if (this.o.mode === 'open') this.scheduleOpen();
      else this.startMax();
      await this.done;
    } finally {
      if (progress) clearInterval(progress);
      for (const s of this.streams) {
        s.call.end();
        s.client.close();
      }
    }
    return this.result();
  }

  private async open(id: number): Promise<StreamState> {
    const client = new grpc.Client(this.o.target, grpc.credentials.createInsecure(), {
      // one connection per stream, like separate carrier links
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': -1,
    });
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + 10000, (e) =>
        e ? reject(new Error(`cannot connect to ${this.o.target}: ${e.message}`)) : resolve(),
      ),
    );
    const md = new grpc.Metadata();
    if (this.o.apiKey) md.set('authorization', `Bearer ${this.o.apiKey}`);
    const call = client.makeBidiStreamRequest<Buffer, BatchAckT>(
      CallRecordIngestService.streamCallEvents.path,
      (b: Buffer) => b,
      (b: Buffer) => BatchAck.decode(b),
      md,
    );
    const s: StreamState = { id, client, call, seq: 0, inFlight: [], dead: false };
    call.on('data', (ack: BatchAckT) => this.onAck(s, ack));
    call.on('error', (e: grpc.ServiceError) => this.onError(s, e));
    call.on('end', () => {
      if (!this.stopping && !s.dead) this.onError(s, new Error('server ended the stream'));
    });
    return s;
  }

  /**
   * A few batches per stream before the clock starts, so connection set-up and JIT compilation do
   * not show up as the first second's latency. They are real batches, counted apart.
   */
  private async warmUp(): Promise<void> {
    const per = this.o.warmupBatchesPerStream ?? 2;
    if (per <= 0) return;
    const base = { ...this.r.events };
    const baseBatches = { ...this.r.batches };
    await Promise.all(
      this.streams.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`no ack from ${this.o.target} within 30 s of warm-up`)),
              30000,
            );
            s.warmup = () => {
              clearTimeout(timer);
              s.warmup = undefined;
              resolve();
            };
            for (let i = 0; i < per; i++) this.send(s, nowMs());
          }),
      ),
    );
    if (this.errors.length && this.streams.every((s) => s.dead)) throw new Error(this.errors.join('; '));
    this.warmupEvents = this.r.events.acked - base.acked;
    this.r.events = { ...base };
    this.r.batches = { ...baseBatches };
    this.r.bytesSent = 0;
    this.ack.reset();
  }

  private warmupEvents = 0;

  private scheduleOpen(): void {
    const intervalMs = (this.o.batchSize / (this.o.ratePerS as number)) * 1000;
    const endMs = this.o.durationS !== undefined ? this.startMs + this.o.durationS * 1000 : Infinity;
    const maxBatches = this.o.maxBatches ?? Infinity;
    const lateMs = this.o.lateMs ?? 10;
    const cap = this.o.maxInFlightPerStream ?? 64;
    let k = 0;
    const tick = (): void => {
      const now = nowMs();
      while (k < maxBatches && !this.traffic.done) {
        const intended = this.startMs + k * intervalMs;
        if (intended >= endMs || intended > now) break;
        k++;
        this.r.batches.scheduled++;
        const s = this.streams[k % this.streams.length];
        if (s.dead || s.inFlight.length >= cap) {
          this.r.batches.dropped++;
          continue;
        }
        if (now - intended > lateMs) this.r.batches.late++;
        recordMs(this.lag, now - intended);
        this.send(s, intended);
      }
      const next = this.startMs + k * intervalMs;
      const finished =
        k >= maxBatches || next >= endMs || this.traffic.done || this.streams.every((st) => st.dead);
      if (finished) {
        this.lastIntendedMs = this.startMs + Math.max(0, k - 1) * intervalMs;
        this.drain();
        return;
      }
      setTimeout(tick, Math.max(0, next - nowMs()));
    };
    tick();
  }

  private startMax(): void {
    const window = this.o.maxInFlightPerStream ?? 4;
    for (const s of this.streams) for (let i = 0; i < window; i++) this.sendMaxNext(s);
  }

  private maxWindowOpen(): boolean {
    const endMs = this.o.durationS !== undefined ? this.startMs + this.o.durationS * 1000 : Infinity;
    return (
      nowMs() < endMs && this.r.batches.scheduled < (this.o.maxBatches ?? Infinity) && !this.traffic.done
    );
  }

  private sendMaxNext(s: StreamState): void {
    if (this.stopping || s.dead) return;
    if (!this.maxWindowOpen()) {
      this.lastIntendedMs = nowMs();
      this.drain();
      return;
    }
    this.r.batches.scheduled++;
    this.send(s, nowMs());
  }

  private send(s: StreamState, intendedMs: number): void {
    let buf: Buffer;
    let events: number;
    s.seq++;
    if (this.preencoded.length) {
      buf = this.preencoded[this.r.batches.sent % this.preencoded.length];
      events = this.o.batchSize;
    } else {
      const ev = this.traffic.batch(this.o.batchSize, intendedMs);
      events = ev.length;
      buf = Buffer.from(CallEventBatch.encode({ sequence: s.seq, events: ev }).finish());
      const sends = this.traffic.probeSends;
      while (this.probeCursor < sends.length) {
        const probe = sends[this.probeCursor++];
        this.r.probesSent++;
        this.hooks.onProbe?.(probe);
      }
      // Keep the probe log from growing over a long soak.
      if (this.probeCursor > 10000) {
        sends.splice(0, this.probeCursor);
        this.probeCursor = 0;
      }
    }
    s.inFlight.push({ seq: s.seq, intendedMs, events });
    this.r.batches.sent++;
    this.r.events.sent += events;
    this.r.bytesSent += buf.length;
    s.call.write(buf);
  }

  private onAck(s: StreamState, ack: BatchAckT): void {
    const now = nowMs();
    const f = s.inFlight.shift();
    if (!f) {
      this.errors.push(`stream ${s.id}: an ack for sequence ${ack.sequence} without a batch in flight`);
      return;
    }
    if (!this.preencoded.length && Number(ack.sequence) !== f.seq) {
      this.errors.push(`stream ${s.id}: ack for sequence ${ack.sequence}, expected ${f.seq}`);
    }
    recordMs(this.ack, now - f.intendedMs);
    this.lastAckMs = now;
    this.r.batches.acked++;
    this.r.events.acked += f.events;
    this.r.events.accepted += ack.accepted;
    this.r.events.duplicates += ack.duplicates;
    this.r.events.rejected += ack.rejected.length;
    for (const rj of ack.rejected) {
      const code = rejectionReasonToJSON(rj.code);
      this.rejections[code] = (this.rejections[code] ?? 0) + 1;
      if (this.rejections[code] === 1) this.errors.push(`rejected ${code}: ${rj.message}`);
    }
    if (this.stopping) this.checkDrained();
    else if (this.o.mode === 'max' && !s.warmup) this.sendMaxNext(s);
    if (s.warmup && s.inFlight.length === 0) s.warmup();
  }

  private onError(s: StreamState, e: Error & { code?: number; details?: string }): void {
    if (s.dead) return;
    s.dead = true;
    if (!this.stopping || s.inFlight.length > 0) {
      const code = e.code !== undefined ? `${grpc.status[e.code] ?? e.code} ` : '';
      this.errors.push(`stream ${s.id}: ${code}${e.details ?? e.message}`);
    }
    this.r.batches.failed += s.inFlight.length;
    s.inFlight = [];
    if (s.warmup) {
      s.warmup();
      return;
    }
    if (this.stopping) this.checkDrained();
    else if (this.streams.every((st) => st.dead)) this.drain();
  }

  private drainTimer?: NodeJS.Timeout;

  private drain(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.drainTimer = setTimeout(() => {
      for (const s of this.streams) {
        this.r.batches.failed += s.inFlight.length;
        if (s.inFlight.length)
          this.errors.push(`stream ${s.id}: ${s.inFlight.length} batches unacknowledged`);
        s.inFlight = [];
      }
      this.finished();
    }, this.o.drainTimeoutMs ?? 15000);
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.streams.every((s) => s.inFlight.length === 0)) {
      if (this.drainTimer) clearTimeout(this.drainTimer);
      this.finished();
    }
  }

  private progress(): LoadgenProgress {
    return {
      elapsedS: Math.round((nowMs() - this.startMs) / 100) / 10,
      sentEvents: this.r.events.sent,
      ackedEvents: this.r.events.acked,
      droppedBatches: this.r.batches.dropped,
      lateBatches: this.r.batches.late,
      inFlightBatches: this.streams.reduce((n, s) => n + s.inFlight.length, 0),
      ackP99Ms: summarise(this.ack).p99Ms,
    };
  }

  private result(): LoadgenResult {
    const end = this.lastAckMs || nowMs();
    this.r.elapsedS = Math.max(0.001, (end - this.startMs) / 1000);
    this.r.sendWindowS = Math.max(0, (this.lastIntendedMs - this.startMs) / 1000);
    // Open loop: n scheduled batches stand for n intervals of the schedule, even when the last
    // one is acked right after it left.
    const scheduledS =
      this.o.mode === 'open'
        ? (this.r.batches.scheduled * this.o.batchSize) / (this.o.ratePerS as number)
        : 0;
    this.r.achievedEventsPerS = Math.round(this.r.events.acked / Math.max(this.r.elapsedS, scheduledS));
    this.r.ackLatency = summarise(this.ack);
    this.r.ackLatencyHdr = encodeHistogram(this.ack);
    this.r.sendLag = summarise(this.lag);
    this.r.warmupEvents = this.warmupEvents;
    return this.r;
  }
}

export async function runLoadgen(
  o: LoadgenOptions,
  hooks?: { onProbe?: (p: ProbeSend) => void; onProgress?: (p: LoadgenProgress) => void },
): Promise<LoadgenResult> {
  return new LoadGenerator(o, hooks).run();
}
