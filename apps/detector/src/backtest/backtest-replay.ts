import { randomBytes } from 'node:crypto';
import {
  AlertJobName,
  HandoffEntry,
  HandoffEvent,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { readyMasters, RedisKeys } from '@eagle-eye/redis';
import type { AlertJob } from '../detection/alert.publisher';
import { createDetection, DetectionDeps } from '../detection/detection.service';
import { DetectorScripts } from '../lua/detector-scripts';
import { SWEEP_LIMIT } from '../pipeline/sweep.stage';
import { AlertSink, DetectionOptions, RuleSource } from '../pipeline/work';
import type { ModelSource } from '../scoring/model-registry';
import { alertKey, BacktestAlert } from './backtest-compare';

/** The Redis connection the detector takes (whatever client type DetectionService accepts). */
export type ReplayRedis = DetectionDeps['redis'];

export interface ReplayEvent {
  carrierId: string;
  event: HandoffEvent;
}

export interface ReplayProgress {
  events: number;
  rounds: number;
  sweeps: number;
  alerts: number;
  /** replay clock: event time reached, epoch ms */
  eventTimeMs: number;
  late: number;
  duplicate: number;
}

export interface ReplayOptions {
  redis: ReplayRedis;
  rules: RuleSource;
  models?: ModelSource;
  /** the detector's settings (partitions do not matter here: the replay has no hand-off) */
  detection: Omit<DetectionOptions, 'partitions'>;
  /** events within this much event time of the round's first one are applied as one round */
  roundMs: number;
  /** input may be out of event-time order by this much; events are re-sorted within it */
  reorderMs: number;
  /** duration-step checks run this long past the last event (calls still running at the end) */
  tailMs: number;
  /** when this deployment began observing, epoch ms (default: the first event's time) */
  observingSince?: number;
  /** mirrors the number lists into the isolated keyspace before the replay */
  mirrorLists?: (keys: RedisKeys) => Promise<number>;
  onProgress?: (p: ReplayProgress) => void;
  /** a progress report every this many events (and at the end) */
  progressEvery?: number;
}

export interface ReplayResult {
  /** one per alert key, at its highest severity */
  alerts: BacktestAlert[];
  progress: ReplayProgress;
  firstEventMs: number | null;
  lastEventMs: number | null;
  /** the isolated key prefix used (already deleted) */
  prefix: string;
  listEntries: number;
}

/** The largest round: keeps a burst of equal event times from building one huge pipeline. */
const MAX_ROUND_EVENTS = 5000;

/** Alert jobs kept in memory instead of BullMQ, one per alert key at its highest severity. */
export class CollectingSink implements AlertSink {
  readonly alerts = new Map<string, BacktestAlert>();
  jobs = 0;

  publish(jobs: AlertJob[]): Promise<void> {
    for (const j of jobs) {
      if (j.name === AlertJobName.CallEnded) continue;
      this.jobs++;
      const d = j.data as VictimOnCallJob | SuspectNumberJob;
      const a: BacktestAlert =
        d.kind === 'suspect_number'
          ? {
              kind: d.kind,
              carrierId: d.carrierId,
              suspect: d.suspect,
              severity: d.severity,
              eventTimeMs: d.eventTimeMs,
            }
          : {
              kind: d.kind,
              carrierId: d.carrierId,
              callId: d.callId,
              suspect: d.suspect,
              severity: d.severity,
              eventTimeMs: d.eventTimeMs,
            };
      const key = alertKey(a);
      const seen = this.alerts.get(key);
      if (!seen) this.alerts.set(key, a);
      else if (a.severity === 'critical') seen.severity = 'critical';
    }
    return Promise.resolve();
  }
}

/** Min-heap on (event time, input order): a stable event-time sort within the reorder window. */
class EventHeap {
  private readonly a: { t: number; seq: number; e: ReplayEvent }[] = [];
  get size(): number {
    return this.a.length;
  }
  peekT(): number {
    return this.a[0].t;
  }
  push(t: number, seq: number, e: ReplayEvent): void {
    const a = this.a;
    a.push({ t, seq, e });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): ReplayEvent {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top.e;
  }
  private less(i: number, j: number): boolean {
    const x = this.a[i];
    const y = this.a[j];
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
}

/**
 * Replays recorded hand-off events through the detector in EVENT TIME, in a Redis keyspace of its
 * own (a random prefix, deleted afterwards), and collects the alerts it raises.
 *
 * Determinism: events are applied in (event time, input order), in rounds of at most `roundMs` of
 * event time; before an event is applied, every duration-step check due at or before its time runs,
 * each at exactly its due time (the detector's sweep, driven by the replay clock instead of the wall
 * clock and the hand-off watermarks). The same input and rules always raise the same alerts, and a
 * live detector that keeps up with its traffic (sweeping within a second of a due time) raises the
 * same ones too.
 */
export async function replay(source: AsyncIterable<ReplayEvent>, o: ReplayOptions): Promise<ReplayResult> {
  if (!(o.roundMs >= 1 && o.roundMs <= 1000)) throw new Error('roundMs must be 1-1000 ms');
  const prefix = `bt-${randomBytes(8).toString('hex')}`;
  const keys = new RedisKeys(prefix);
  const redis = o.redis;
  const sink = new CollectingSink();
  let clock = 0;
  const scripts = new DetectorScripts(redis);
  const detection = createDetection({
    redis,
    keys,
    scripts,
    rules: o.rules,
    alerts: sink,
    options: { ...o.detection, partitions: 1 },
    clock: () => clock,
    models: o.models,
  });
  const progress: ReplayProgress = {
    events: 0,
    rounds: 0,
    sweeps: 0,
    alerts: 0,
    eventTimeMs: 0,
    late: 0,
    duplicate: 0,
  };
  const every = o.progressEvery ?? 100_000;
  let nextReport = every;
  let first: number | null = null;
  let last: number | null = null;
  let round: ReplayEvent[] = [];
  let roundStart = 0;
  let nextDue: number | null = null;

  const report = (): void => {
    progress.alerts = sink.alerts.size;
    progress.eventTimeMs = clock;
    o.onProgress?.({ ...progress });
  };
  const peekDue = async (): Promise<number | null> => {
    const heads = await Promise.all(
      Array.from({ length: o.detection.dueShards }, (_, s) =>
        ops(redis).zrange(keys.detectorDue(s), '0', '0', 'WITHSCORES'),
      ),
    );
    let min: number | null = null;
    for (const h of heads) if (h.length >= 2 && (min === null || Number(h[1]) < min)) min = Number(h[1]);
    return min;
  };
  const flush = async (): Promise<void> => {
    if (!round.length) return;
    // one entry per carrier, in input order within it; the detector orders a round by event time
    const entries = new Map<string, HandoffEntry>();
    for (const r of round) {
      let e = entries.get(r.carrierId);
      if (!e) entries.set(r.carrierId, (e = { carrierId: r.carrierId, events: [] }));
      e.events.push(r.event);
    }
    clock = Math.max(clock, round[round.length - 1].event.t);
    const stats = await detection.process([...entries.values()]);
    progress.rounds++;
    progress.late += stats.late;
    progress.duplicate += stats.duplicate;
    // only an answer schedules a check; an end only removes one (a stale earlier nextDue costs
    // one empty sweep), so the other rounds skip the look at the due sets
    if (round.some((r) => r.event.type === 'ANSWERED')) nextDue = await peekDue();
    round = [];
  };
  const sweepUntil = async (t: number): Promise<void> => {
    let guard = 0;
    while (nextDue !== null && nextDue <= t) {
      const at: number = nextDue;
      clock = Math.max(clock, at);
      let n: number;
      let checked = 0;
      // a sweep that claimed a full SWEEP_LIMIT may have left more due at the same time
      do checked += n = await detection.sweep(at, SWEEP_LIMIT);
      while (n >= SWEEP_LIMIT);
      if (checked) progress.sweeps++;
      nextDue = await peekDue();
      if (nextDue !== null && nextDue <= at && ++guard > 1000)
        throw new Error(`duration-step checks due at ${new Date(at).toISOString()} are not advancing`);
    }
  };
  const feed = async (r: ReplayEvent): Promise<void> => {
    const t = r.event.t;
    if (first === null) {
      first = t;
      await ops(redis).set(keys.detectorObservingSince(), String(o.observingSince ?? t), 'NX');
    }
    last = last === null ? t : Math.max(last, t);
    if (round.length && (t >= roundStart + o.roundMs || round.length >= MAX_ROUND_EVENTS)) await flush();
    if (nextDue !== null && nextDue <= t) {
      await flush();
      await sweepUntil(t);
    }
    if (!round.length) roundStart = t;
    round.push(r);
    if (++progress.events >= nextReport) {
      nextReport += every;
      report();
    }
  };

  let listEntries = 0;
  try {
    await scripts.load();
    if (o.mirrorLists) listEntries = await o.mirrorLists(keys);
    const heap = new EventHeap();
    let seq = 0;
    let maxSeen = -Infinity;
    for await (const r of source) {
      heap.push(r.event.t, seq++, r);
      if (r.event.t > maxSeen) maxSeen = r.event.t;
      while (heap.size && heap.peekT() <= maxSeen - o.reorderMs) await feed(heap.pop());
    }
    while (heap.size) await feed(heap.pop());
    await flush();
    if (last !== null) await sweepUntil(last + o.tailMs);
    report();
  } finally {
    await dropKeyspace(redis, prefix);
  }
  return {
    alerts: [...sink.alerts.values()].sort((a, b) => a.eventTimeMs - b.eventTimeMs),
    progress: { ...progress },
    firstEventMs: first,
    lastEventMs: last,
    prefix,
    listEntries,
  };
}

/** The few plain commands the replay sends itself (the same on a single Redis and a cluster). */
interface KeyspaceOps {
  zrange(key: string, start: string, stop: string, withScores: 'WITHSCORES'): Promise<string[]>;
  set(key: string, value: string, nx: 'NX'): Promise<unknown>;
}

function ops(redis: ReplayRedis): KeyspaceOps {
  return redis as unknown as KeyspaceOps;
}

/** Deletes every key of the replay's keyspace (never anything else: the prefix is its own). */
async function dropKeyspace(redis: ReplayRedis, prefix: string): Promise<void> {
  if (!/^bt-[0-9a-f]{16}$/.test(prefix)) throw new Error(`refusing to delete keys under ${prefix}`);
  // every master of a cluster holds some of them; one key per UNLINK (they span many slots)
  for (const node of await readyMasters(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) {
        const p = node.pipeline();
        for (const k of found) p.unlink(k);
        await p.exec();
      }
    } while (cursor !== '0');
  }
}
