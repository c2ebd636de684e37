/**
 * How many hand-off entries a round asks of each partition, so that a round holds about
 * `roundEvents` events whatever the entries carry. An entry is one ingest batch's share of one
 * partition: a few events or hundreds, depending on the carriers' batch sizes. A fixed count of
 * entries per partition made a detector behind its traffic read about 50,000 events a round (100
 * entries of 16 partitions at 31 events each), with a caller stage, a finish and a read of that size
 * in flight at once: its live heap grew to 230-320 MiB.
 *
 * The events per entry are estimated from the rounds read: a larger mean is taken at once, a
 * smaller one followed slowly, so a round overshoots the bound only when entries suddenly grow.
 * Before the first entry has been seen the estimate is `roundEvents` itself: one entry per
 * partition.
 */
export class RoundSize {
  private perEntry: number;
  private seen = false;

  constructor(
    /** events a round aims at (DETECTOR_ROUND_EVENTS) */
    readonly roundEvents: number,
    /** entries per partition at most (DETECTOR_READ_COUNT) */
    readonly maxEntries: number,
  ) {
    if (!(roundEvents >= 1) || !(maxEntries >= 1)) throw new Error('round size: both bounds must be >= 1');
    this.perEntry = roundEvents;
  }

  /** Entries to ask of each of `partitions` partitions (1 to maxEntries). */
  count(partitions: number): number {
    const n = Math.floor(this.roundEvents / (Math.max(1, partitions) * this.perEntry));
    return Math.min(this.maxEntries, Math.max(1, n));
  }

  /** The events per entry the next count is computed from. */
  get eventsPerEntry(): number {
    return this.perEntry;
  }

  /** What a read returned: `entries` entries holding `events` events. */
  observe(entries: number, events: number): void {
    if (entries <= 0) return;
    const mean = Math.max(1, events / entries);
    this.perEntry = !this.seen || mean >= this.perEntry ? mean : 0.8 * this.perEntry + 0.2 * mean;
    this.seen = true;
  }
}
