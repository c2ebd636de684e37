import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { HANDOFF_GROUP } from '@eagle-eye/contracts';
import { perNodePipeline, REDIS, RedisKeys } from '@eagle-eye/redis';
import { IngestConfig, INGEST_CONFIG } from '../config';
import { ingestMetrics } from '../ingest.metrics';

/**
 * Measures every partition stream's length (entries the detector has not yet deleted) and its
 * consumer-group lag. A batch that touches a partition over INGEST_MAX_BACKLOG_ENTRIES waits here;
 * while it waits its stream stops reading, so gRPC flow control slows the carrier down.
 */
@Injectable()
export class BacklogMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Backlog');
  private readonly lengths: number[];
  private timer?: NodeJS.Timeout;
  private waiters: Array<() => void> = [];
  private polling = false;
  private closed = false;
  private lastError = '';

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
  ) {
    this.lengths = new Array<number>(config.HANDOFF_PARTITIONS).fill(0);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.poll(), this.config.INGEST_BACKLOG_POLL_MS);
    this.timer.unref();
    void this.poll();
  }

  onApplicationShutdown(): void {
    this.close();
  }

  /** Shutting down: batches waiting for capacity fail (unacked, so the carrier resends them). */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.release();
  }

  isOver(partition: number): boolean {
    return this.lengths[partition] > this.config.INGEST_MAX_BACKLOG_ENTRIES;
  }

  /** Resolves once none of the partitions is over the backlog limit. */
  async waitFor(partitions: Iterable<number>): Promise<void> {
    const list = [...partitions];
    if (!list.some((p) => this.isOver(p))) return;
    ingestMetrics.backpressureWaits.inc();
    while (list.some((p) => this.isOver(p))) {
      if (this.closed) throw new Error('shutting down while the hand-off backlog is over its limit');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private release(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const pipeline = perNodePipeline(this.redis);
      for (let p = 0; p < this.lengths.length; p++) {
        pipeline.xlen(this.keys.handoffStream(p));
        pipeline.call(this.keys.handoffStream(p), 'XINFO', 'GROUPS', this.keys.handoffStream(p));
      }
      const results = (await pipeline.exec()) ?? [];
      for (let p = 0; p < this.lengths.length; p++) {
        const [lenErr, len] = results[2 * p] ?? [];
        if (!lenErr && typeof len === 'number') {
          this.lengths[p] = len;
          ingestMetrics.backlog.set({ partition: String(p) }, len);
        }
        const [groupsErr, groups] = results[2 * p + 1] ?? [];
        // no stream yet: XINFO fails with "no such key"; no group yet: everything is lag
        const lag = groupsErr ? 0 : groupLag(groups, this.lengths[p]);
        ingestMetrics.lag.set({ partition: String(p) }, lag);
      }
      this.lastError = '';
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.lastError) this.logger.warn(`cannot measure the hand-off backlog: ${msg}`);
      this.lastError = msg;
    } finally {
      this.polling = false;
    }
    this.release();
  }
}

/** The `lag` of the detector group from an XINFO GROUPS reply (a list of flat key/value lists). */
function groupLag(reply: unknown, length: number): number {
  if (!Array.isArray(reply)) return length;
  for (const g of reply) {
    if (!Array.isArray(g)) continue;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) fields.set(String(g[i]), g[i + 1]);
    if (fields.get('name') !== HANDOFF_GROUP) continue;
    const lag = fields.get('lag');
    return typeof lag === 'number' ? lag : length;
  }
  return length;
}
