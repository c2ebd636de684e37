import { ingestV1 } from '@eagle-eye/contracts';
import { Generator } from '../sim/generator';
import { IngestStream, MAX_BATCH_EVENTS } from './ingest-client';

/**
 * Maps simulated time onto the wall clock: simulated time runs `warp` times faster than the wall
 * clock from the moment the run starts. Warp 0 means "as fast as ingest takes it" (no pacing).
 * An optional tail (from a simulated instant on, typically the horizon after which only calls in
 * progress finish) runs at its own, faster warp so a run does not wait out hour-long scam calls.
 */
export class TimeWarp {
  private readonly tailWallMs: number;

  constructor(
    readonly simStartMs: number,
    readonly wallStartMs: number,
    readonly warp: number,
    readonly tail?: { fromSimMs: number; warp: number },
  ) {
    if (!(warp >= 0) || !Number.isFinite(warp)) throw new Error('warp must be a finite number >= 0');
    if (tail && !(tail.warp >= warp)) throw new Error('the tail warp must be at least the warp');
    this.tailWallMs = tail && warp > 0 ? wallStartMs + (tail.fromSimMs - simStartMs) / warp : Infinity;
  }

  /** wall time at which an event of simulated time `simMs` is due */
  wallFor(simMs: number): number {
    if (this.warp === 0) return this.wallStartMs;
    if (this.tail && simMs > this.tail.fromSimMs)
      return this.tailWallMs + (simMs - this.tail.fromSimMs) / this.tail.warp;
    return this.wallStartMs + (simMs - this.simStartMs) / this.warp;
  }

  /** simulated time at wall time `wallMs` */
  simAt(wallMs: number): number {
    if (this.warp === 0) return Infinity;
    if (this.tail && wallMs > this.tailWallMs)
      return this.tail.fromSimMs + (wallMs - this.tailWallMs) * this.tail.warp;
    return this.simStartMs + (wallMs - this.wallStartMs) * this.warp;
  }
}

export interface RunProgress {
  /** wall ms since the start */
  elapsedMs: number;
  simMs: number;
  eventsSent: number;
  eventsPerSecond: number;
  acked: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  unackedBatches: number;
  /** how far the sender is behind its schedule, seconds */
  lagS: number;
  /** wall ms from first send to ack, last batch */
  ackLatencyMs: number;
  reconnects: number;
}

export interface RunOptions {
  warp: TimeWarp;
  streams: Map<string, IngestStream>;
  /** a carrier's partial batch goes out after this long even if it is not full */
  flushMs?: number;
  progressEveryMs?: number;
  onProgress?: (p: RunProgress) => void;
  /** per-event hook (the tests record what was sent) */
  onEvent?: (carrierId: string, e: ingestV1.CallEvent) => void;
  signal?: AbortSignal;
  /** updated live: how far behind schedule the sender is, and the simulated time it reached */
  live?: { lagMs: number; simMs: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Streams a generator's events through ingest: paced by the time warp, batched per carrier (at
 * most 500 events, at most `flushMs` old), with back-pressure from the streams' ack windows.
 * Resolves when the generator is exhausted and every batch is acked (or when aborted).
 */
export async function streamRun(gen: Generator, o: RunOptions): Promise<RunProgress> {
  const flushMs = o.flushMs ?? 100;
  const buffers = new Map<string, { events: ingestV1.CallEvent[]; since: number }>();
  let sent = 0;
  let lagMs = 0;
  let lastProgress = Date.now();
  let sentAtLastProgress = 0;
  let lastSim = o.warp.simStartMs;

  const flush = async (carrierId: string): Promise<void> => {
    const b = buffers.get(carrierId);
    if (!b || !b.events.length) return;
    buffers.delete(carrierId);
    const s = o.streams.get(carrierId);
    if (!s) throw new Error(`no ingest credentials for ${carrierId}`);
    await s.send(b.events);
  };
  const flushAll = async (force: boolean): Promise<void> => {
    const now = Date.now();
    for (const [c, b] of [...buffers]) if (force || now - b.since >= flushMs) await flush(c);
  };
  const progress = (): RunProgress => {
    let acked = 0;
    let accepted = 0;
    let duplicates = 0;
    let rejected = 0;
    let unacked = 0;
    let ackLatencyMs = 0;
    let reconnects = 0;
    for (const s of o.streams.values()) {
      acked += s.stats.accepted + s.stats.duplicates + s.stats.rejected;
      accepted += s.stats.accepted;
      duplicates += s.stats.duplicates;
      rejected += s.stats.rejected;
      unacked += s.unacked;
      ackLatencyMs = Math.max(ackLatencyMs, s.stats.lastAckLatencyMs);
      reconnects += s.stats.reconnects;
    }
    const now = Date.now();
    const dt = Math.max(1, now - lastProgress);
    const p: RunProgress = {
      elapsedMs: now - o.warp.wallStartMs,
      simMs: lastSim,
      eventsSent: sent,
      eventsPerSecond: ((sent - sentAtLastProgress) * 1000) / dt,
      acked,
      accepted,
      duplicates,
      rejected,
      unackedBatches: unacked,
      lagS: lagMs / 1000,
      ackLatencyMs,
      reconnects,
    };
    lastProgress = now;
    sentAtLastProgress = sent;
    return p;
  };
  const maybeProgress = (): void => {
    if (o.onProgress && Date.now() - lastProgress >= (o.progressEveryMs ?? 5000)) o.onProgress(progress());
  };

  for (;;) {
    if (o.signal?.aborted) break;
    const t = gen.peekTime();
    if (t === Infinity) break;
    const due = o.warp.wallFor(t);
    const now = Date.now();
    if (due > now) {
      // ahead of schedule: send what is buffered, then sleep in short steps (so aborts are quick)
      lagMs = 0;
      if (o.live) o.live.lagMs = 0;
      await flushAll(due - now > flushMs);
      maybeProgress();
      await sleep(Math.min(due - Date.now(), flushMs));
      continue;
    }
    lagMs = now - due;
    const e = gen.next()!;
    lastSim = e.event.eventTimeMs;
    if (o.live) {
      o.live.lagMs = lagMs;
      o.live.simMs = lastSim;
    }
    let b = buffers.get(e.carrierId);
    if (!b) buffers.set(e.carrierId, (b = { events: [], since: now }));
    b.events.push(e.event);
    o.onEvent?.(e.carrierId, e.event);
    sent++;
    if (b.events.length >= MAX_BATCH_EVENTS) await flush(e.carrierId);
    else if ((sent & 255) === 0) await flushAll(false);
    if ((sent & 1023) === 0) {
      maybeProgress();
      await new Promise((r) => setImmediate(r)); // let acks and timers in
    }
  }
  await flushAll(true);
  if (!o.signal?.aborted) for (const s of o.streams.values()) await s.drain(120_000);
  return progress();
}
