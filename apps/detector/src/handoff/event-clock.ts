import { HandoffEvent } from '@eagle-eye/contracts';
import { perNodePipeline, PerNodePipeline, RedisClient, RedisKeys } from '@eagle-eye/redis';

/**
 * Event time for the duration-step sweep. The consumer notes the newest event time it reads on
 * each hand-off partition and, with each acknowledgement, stores it in Redis as an offset to the
 * wall clock (every replica's sweep sees every partition's). "Now" is the largest offset added to
 * the wall clock: event time advances with the wall clock between events, and a carrier whose
 * switch clock runs behind does not fire steps early.
 */
export class EventClock {
  /** newest event time read per partition */
  private readonly newest = new Map<number, number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly partitions: number,
    private readonly wall: () => number = Date.now,
  ) {}

  /** Notes the events of an entry read from `partition`. */
  observe(partition: number, events: readonly HandoffEvent[]): void {
    let m = this.newest.get(partition) ?? 0;
    for (const ev of events) if (Number.isFinite(ev?.t) && ev.t > m) m = ev.t;
    this.newest.set(partition, m);
  }

  /** Queues the partitions' watermarks into the consumer's acknowledgement pipeline. */
  queueWatermarks(partitions: Iterable<number>, p: PerNodePipeline): void {
    const wall = this.wall();
    for (const part of new Set(partitions))
      p.set(this.keys.detectorWatermark(part), String((this.newest.get(part) ?? 0) - wall), 'PX', 3600_000);
  }

  /** "Now" in event time (see the class). */
  async now(): Promise<number> {
    const p = perNodePipeline(this.redis);
    for (let i = 0; i < this.partitions; i++) p.get(this.keys.detectorWatermark(i));
    const res = (await p.exec()) ?? [];
    const offsets = res
      .map(([, v]) => (v === null || v === undefined ? NaN : Number(v)))
      .filter(Number.isFinite);
    return this.wall() + (offsets.length ? Math.max(...offsets) : 0);
  }
}
