import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { decodeHandoffEntry, HANDOFF_GROUP, HandoffEntry } from '@eagle-eye/contracts';
import { isCluster, perNodePipeline, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { DetectionService } from '../detection/detection.service';
import { eventsProcessed, readEntries, roundEvents, roundStageSeconds, streamLag } from '../metrics';
import { EventClock } from './event-clock';
import { PartitionLeases } from './partition-leases';
import { RoundSize } from './round-size';

export interface ConsumerOptions {
  partitions: number;
  consumer: string;
  /** entries read per partition and round at most (DETECTOR_READ_COUNT) */
  readCount: number;
  /**
   * events a round aims at (DETECTOR_ROUND_EVENTS): the entries asked of each partition follow the
   * events per entry seen (RoundSize); without it, always `readCount`
   */
  roundEvents?: number;
  claimIdleMs: number;
  /**
   * read the next round as a round starts, while its caller stage runs (DETECTOR_READ_AHEAD): saves
   * a read's round trip per round, but that read sees only what had arrived when the round started,
   * so under steady traffic every event waits a whole extra round. Off by default (see run()).
   */
  readAhead?: boolean;
  /**
   * pause between reads that found nothing, ms (10): a sleep where no blocking read can be made (a
   * Redis Cluster; the previous round's second stage still running)
   */
  idlePollMs?: number;
  /**
   * how long the blocking read of an idle pause waits for an entry, ms (100): it ends as soon as one
   * arrives, so a longer wait costs no latency, only how soon an idle loop looks at its other duties
   * (deferred writes due, takeovers, lease changes, stop)
   */
  idleBlockMs?: number;
}

type StreamReply = [string, [string, string[] | null][]][] | null;
type Batch = { partition: number; ids: string[]; entries: HandoffEntry[] };
/** What acknowledging a batch needs: its partition and entry ids (not its events). */
type Acked = Pick<Batch, 'partition' | 'ids'>;

/**
 * A round's batches as they wait for acknowledgement: without their entries, which deferred windows
 * writes would otherwise keep alive for DETECTOR_WINDOWS_WRITE_DELAY_MS (every event of the last
 * ten seconds, copied by each young-generation collection until promoted, then old-generation
 * garbage).
 */
function toAck(batches: Batch[]): Acked[] {
  return batches.map((b) => ({ partition: b.partition, ids: b.ids }));
}

/**
 * Reads every hand-off partition through the consumer group, applies the entries, then XACK+XDEL
 * them. Nothing is acknowledged before it is applied, so a crash redelivers: this replica's own
 * pending entries on restart (same consumer name), another replica's through XAUTOCLAIM once they
 * have been idle for `claimIdleMs`. Applying twice changes nothing (the scripts deduplicate).
 * It keeps the event clock: the newest event time read per partition, stored with each
 * acknowledgement (the sweep's event-time now).
 */
export class HandoffConsumer {
  private readonly logger = new Logger('HandoffConsumer');
  private running = false;
  private loop: Promise<void> | null = null;
  private lastClaim = 0;
  /** the connection closed since the loop last looked: a read may have lost its reply */
  private connectionLost = false;
  /**
   * a connection of its own for the blocking read that ends an idle pause as soon as an entry
   * arrives (a blocked connection runs nothing else); none on a Redis Cluster, where one command
   * cannot name streams of different slots: there the pause is a sleep
   */
  private waker: Redis | null = null;
  /**
   * rounds applied (both stages) and not acknowledged yet, oldest first: with deferred caller
   * windows writes (DETECTOR_WINDOWS_WRITE_DELAY_MS) a round is acknowledged once what it changed
   * is written (DetectionService.durable)
   */
  private readonly unacked: { batches: Acked[]; round: number | undefined }[] = [];
  /** PartitionLeases.acquisitions when the loop last looked */
  private acquisitions = 0;
  /** entries per partition and read, for rounds of about DETECTOR_ROUND_EVENTS events */
  private readonly size: RoundSize | null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly detection: DetectionService,
    readonly clock: EventClock,
    private readonly opts: ConsumerOptions,
    /**
     * which partitions this replica reads (DETECTOR_PARTITION_LEASE_MS); without it, every
     * partition, shared with any other replica through the consumer group
     */
    private readonly leases: PartitionLeases = new PartitionLeases(redis, keys, {
      partitions: opts.partitions,
      consumer: opts.consumer,
      leaseMs: 0,
    }),
  ) {
    this.size = opts.roundEvents ? new RoundSize(opts.roundEvents, opts.readCount) : null;
    // A read in flight when the connection drops (Redis killed, a reset) may have run: its entries
    // are then pending to this consumer while ioredis, resending the read once reconnected, gets
    // the next ones. Nothing else would read them again (claimStale leaves a consumer's own
    // entries alone), so after a reconnect the loop reads its pending list again, as after an
    // error. Found by the chaos suite (redis-blocked): one entry per partition stranded for good.
    redis.on('close', () => {
      this.connectionLost = true;
    });
    // on a Redis Cluster, the connection of any node (each reconnects on its own)
    const client = redis as RedisClient;
    if (isCluster(client)) {
      const watch = (node: Redis) => node.on('close', () => (this.connectionLost = true));
      client.nodes().forEach(watch);
      client.on('+node', watch);
    }
  }

  async ensureGroups(): Promise<void> {
    for (let p = 0; p < this.opts.partitions; p++) {
      try {
        await this.redis.xgroup('CREATE', this.keys.handoffStream(p), HANDOFF_GROUP, '0', 'MKSTREAM');
      } catch (e) {
        if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
      }
    }
  }

  async start(): Promise<void> {
    await this.ensureGroups();
    await this.leases.start();
    if (!isCluster(this.redis as RedisClient)) {
      const waker = this.redis.duplicate();
      waker.on('error', () => undefined);
      // a blocking read cut off may have delivered entries to this consumer: read them again
      waker.on('close', () => (this.connectionLost = true));
      this.waker = waker;
    }
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    // what waits to be written, then the rounds it makes durable (else the next owner applies them again)
    try {
      await this.detection.flushWindows(true);
      await this.ackDurable();
    } catch (e) {
      this.logger.warn(
        `caller windows not written at stop (the next owner applies their rounds again): ${(e as Error).message}`,
      );
    }
    this.waker?.disconnect();
    this.waker = null;
    // after the last round's acknowledgement: the next owners take the partitions over at once
    await this.leases.stop();
  }

  /** One round over all partitions; returns how many entries were applied. */
  async poll(id: '>' | '0' = '>'): Promise<number> {
    return this.apply(await this.read(id));
  }

  /**
   * Reads one round of entries (delivered to this consumer: pending until acknowledged) of the
   * partitions this replica owns: new ones ('>'), or its own pending ones ('0', also of the
   * partitions it is handing over).
   */
  private async read(id: '>' | '0'): Promise<Batch[]> {
    const partitions = id === '>' ? this.leases.reading() : this.leases.pendingReadable();
    if (!partitions.length) return [];
    const p = perNodePipeline(this.redis);
    const count = this.count(partitions.length);
    for (const i of partitions) {
      p.call(
        this.keys.handoffStream(i),
        'XREADGROUP',
        'GROUP',
        HANDOFF_GROUP,
        this.opts.consumer,
        'COUNT',
        count,
        'STREAMS',
        this.keys.handoffStream(i),
        id,
      );
    }
    this.leases.readSent();
    const batches: Batch[] = [];
    try {
      const res = (await p.exec()) ?? [];
      res.forEach(([err, reply], k) => {
        if (err) throw err;
        const streams = reply as StreamReply;
        const rows = streams?.[0]?.[1] ?? [];
        if (rows.length) batches.push(this.decode(partitions[k], rows));
      });
    } finally {
      this.leases.readDone(batches.map((b) => b.partition));
    }
    this.sized(batches);
    return batches;
  }

  /** Entries to ask of each of `partitions` partitions in the next read. */
  private count(partitions: number): number {
    const n = this.size ? this.size.count(partitions) : this.opts.readCount;
    readEntries.set(n);
    return n;
  }

  /** Feeds what a read returned to the round size. */
  private sized(batches: Batch[]): void {
    if (!this.size || !batches.length) return;
    let entries = 0;
    let events = 0;
    for (const b of batches) {
      entries += b.entries.length;
      for (const e of b.entries) events += e.events.length;
    }
    this.size.observe(entries, events);
  }

  /**
   * The idle pause: a read of every partition that blocks for up to `ms` until an entry arrives,
   * then, if one did, a read of every partition at once (the other partitions' chunks of the same
   * ingest batch), merged partition by partition. Delivered entries are pending like any read's.
   */
  private async wake(waker: Redis, ms: number): Promise<Batch[]> {
    const partitions = this.leases.reading();
    if (!partitions.length) {
      await sleep(ms);
      return [];
    }
    const keys = partitions.map((i) => this.keys.handoffStream(i));
    // the named method: it answers the usual list of streams (`call` gives RESP3's map as it came)
    const xreadgroup = waker.xreadgroup.bind(waker) as (...args: (string | number)[]) => Promise<unknown>;
    this.leases.readSent();
    const reply = (await xreadgroup(
      'GROUP',
      HANDOFF_GROUP,
      this.opts.consumer,
      'COUNT',
      this.count(partitions.length),
      'BLOCK',
      ms,
      'STREAMS',
      ...keys,
      ...keys.map(() => '>'),
    ).catch((e: unknown) => {
      this.leases.readDone([]);
      throw e;
    })) as StreamReply;
    if (!reply?.length) {
      this.leases.readDone([]);
      return [];
    }
    const partitionOf = new Map(keys.map((k, i) => [k, partitions[i]]));
    const woke = new Map<number, Batch>();
    for (const [key, rows] of reply) {
      const partition = partitionOf.get(key);
      if (partition !== undefined && rows.length) woke.set(partition, this.decode(partition, rows));
    }
    this.sized([...woke.values()]);
    // (its batches are in flight like a read's: counted once each, below)
    this.leases.readDone(woke.keys());
    for (const b of await this.read('>')) {
      const first = woke.get(b.partition);
      if (!first) woke.set(b.partition, b);
      else {
        this.leases.acked([b.partition]); // two batches of one partition become one
        woke.set(b.partition, {
          partition: b.partition,
          ids: [...first.ids, ...b.ids],
          entries: [...first.entries, ...b.entries],
        });
      }
    }
    return [...woke.values()].sort((a, b) => a.partition - b.partition);
  }

  /**
   * Takes over entries another consumer left pending for longer than claimIdleMs. Never this
   * consumer's own: those are read-ahead entries of a round still in progress (a long round under a
   * backlog outlasts claimIdleMs), and re-claiming them applied every one twice; after a restart
   * its own pending entries are read again from '0' instead (run()).
   */
  async claimStale(): Promise<number> {
    const owned = this.leases.reading();
    if (!owned.length) return 0;
    const pending = perNodePipeline(this.redis);
    for (const i of owned) {
      pending.call(
        this.keys.handoffStream(i),
        'XPENDING',
        this.keys.handoffStream(i),
        HANDOFF_GROUP,
        'IDLE',
        this.opts.claimIdleMs,
        '-',
        '+',
        this.opts.readCount,
      );
    }
    const claim = perNodePipeline(this.redis);
    const partitions: number[] = [];
    ((await pending.exec()) ?? []).forEach(([err, reply], k) => {
      if (err) throw err;
      const partition = owned[k];
      const ids = (reply as [string, string, number, number][])
        .filter(([, consumer]) => consumer !== this.opts.consumer)
        .map(([id]) => id);
      if (!ids.length) return;
      // XCLAIM re-checks the idle time: of two replicas claiming at once, one gets each entry
      claim.call(
        this.keys.handoffStream(partition),
        'XCLAIM',
        this.keys.handoffStream(partition),
        HANDOFF_GROUP,
        this.opts.consumer,
        this.opts.claimIdleMs,
        ...ids,
      );
      partitions.push(partition);
    });
    if (!partitions.length) return 0;
    const batches: Batch[] = [];
    this.leases.readSent();
    try {
      ((await claim.exec()) ?? []).forEach(([err, reply], k) => {
        if (err) throw err;
        // an entry deleted from the stream meanwhile comes back empty (or not at all)
        const rows = (reply as [string, string[] | null][]).filter((r): r is [string, string[]] => !!r?.[1]);
        if (rows.length) {
          this.logger.warn(`took over ${rows.length} stale entries of partition ${partitions[k]}`);
          batches.push(this.decode(partitions[k], rows));
        }
      });
    } finally {
      this.leases.readDone(batches.map((b) => b.partition));
    }
    return this.apply(batches);
  }

  async updateLag(): Promise<void> {
    const p = perNodePipeline(this.redis);
    for (let i = 0; i < this.opts.partitions; i++)
      p.call(this.keys.handoffStream(i), 'XINFO', 'GROUPS', this.keys.handoffStream(i));
    const res = (await p.exec()) ?? [];
    res.forEach(([err, reply], i) => {
      if (err) return;
      for (const g of reply as unknown[][]) {
        const m = new Map<string, unknown>();
        for (let k = 0; k + 1 < g.length; k += 2) m.set(String(g[k]), g[k + 1]);
        if (m.get('name') === HANDOFF_GROUP)
          streamLag.set({ partition: String(i) }, Number(m.get('lag') ?? 0));
      }
    });
  }

  private decode(partition: number, rows: [string, string[] | null][]): Batch {
    const ids: string[] = [];
    const entries: HandoffEntry[] = [];
    for (const [id, fields] of rows) {
      ids.push(id);
      if (!fields) continue; // deleted after it was delivered: only the acknowledgement is missing
      try {
        const entry = decodeHandoffEntry(fields);
        if (!Array.isArray(entry.events)) throw new Error('field e is not a JSON array');
        entries.push(entry);
        this.clock.observe(partition, entry.events);
      } catch (e) {
        // A malformed entry can never succeed: count it, log it (without its content), drop it.
        eventsProcessed.inc({ result: 'malformed' });
        this.logger.error(
          `dropping malformed hand-off entry ${id} of partition ${partition}: ${(e as Error).message}`,
        );
      }
    }
    return { partition, ids, entries };
  }

  /**
   * Applies the entries, both stages, then acknowledges them (a pending list read again, a
   * takeover, tests): what the rounds changed is written first, so that the next read of the
   * pending list does not return them again.
   */
  private async apply(batches: Batch[]): Promise<number> {
    if (!batches.length) return 0;
    const staged = await this.detection.applyCallers(batches.flatMap((b) => b.entries));
    await this.detection.finish(staged);
    await this.detection.flushWindows(true);
    this.unacked.push({ batches: toAck(batches), round: staged.round });
    await this.ackDurable();
    return batches.reduce((n, b) => n + b.ids.length, 0);
  }

  /** Acknowledges the rounds, oldest first, whose caller windows changes are all written. */
  private async ackDurable(): Promise<void> {
    let k = 0;
    while (k < this.unacked.length && this.detection.durable(this.unacked[k].round)) k++;
    if (!k) return;
    await this.timed('ack', this.ack(this.unacked.splice(0, k).flatMap((u) => u.batches)));
  }

  /** Observes how long `work` takes under its stage (successful or not: a failed stage took time too). */
  private timed<T>(stage: keyof typeof stageTimers, work: Promise<T>): Promise<T> {
    const end = stageTimers[stage].startTimer();
    return work.finally(() => end());
  }

  /** XACK + XDEL of applied entries, with the partitions' watermarks in the same round trip. */
  private async ack(batches: Acked[]): Promise<void> {
    const p = perNodePipeline(this.redis);
    for (const b of batches) {
      const key = this.keys.handoffStream(b.partition);
      p.xack(key, HANDOFF_GROUP, ...b.ids);
      p.xdel(key, ...b.ids);
    }
    this.clock.queueWatermarks(
      batches.map((b) => b.partition),
      p,
    );
    for (const [err] of (await p.exec()) ?? []) if (err) throw err;
    this.leases.acked(batches.map((b) => b.partition));
  }

  /**
   * The loop keeps two rounds going at once: a round's first stage (caller scripts) runs while the
   * previous round is in its second stage (callee scripts, claims, alert jobs) and acknowledgement.
   * Each stage handles the rounds in order, so the events of a call keep theirs; a round's second
   * stage starts only once the previous round's has succeeded. The next round is read when a
   * round's first stage ends, so it holds everything that arrived meanwhile: an event waits for the
   * round in progress to finish its first stage, not for one more round besides (readAhead, the
   * old way, read it as the round started).
   */
  private async run(): Promise<void> {
    let backoff = 0;
    // first our own entries left pending by a previous run of this replica
    let pendingFirst = true;
    let next: Promise<Batch[]> | null = null;
    let second: Promise<void> = Promise.resolve();
    let secondSettled = true;
    const idlePollMs = this.opts.idlePollMs ?? 10;
    const idleBlockMs = this.opts.idleBlockMs ?? 100;
    /**
     * the last blocking read found nothing: the next read is another blocking one (it returns at once
     * if anything has arrived meanwhile), not a read of every partition first: an idle detector made
     * a pipeline of a read per partition and a blocking read every 10 ms, 4.5 % of a core
     */
    let idleBlocked = false;
    while (this.running) {
      try {
        if (this.connectionLost) {
          this.connectionLost = false;
          pendingFirst = true;
        }
        if (pendingFirst) {
          // what was read or is in flight stays pending until acknowledged: read it all again
          await Promise.allSettled([next, second]);
          next = null;
          second = Promise.resolve();
          secondSettled = true;
          // the rounds not acknowledged are in the pending list: read again below
          this.unacked.length = 0;
          this.leases.settled();
          while (this.running && (await this.poll('0')) > 0);
          pendingFirst = false;
        }
        if (this.leases.acquisitions !== this.acquisitions) {
          // numbers of partitions taken over may have been written by their last owner since this
          // replica held them: read again rather than applied onto and refused at the write
          this.acquisitions = this.leases.acquisitions;
          await this.detection.forgetHeld();
        }
        // `next`: the read made as the last round's caller stage ended (as it started, with readAhead)
        const prefetched = next !== null;
        const batches = await (next ?? (idleBlocked ? [] : this.timed('read', this.read('>'))));
        next = null;
        idleBlocked = false;
        if (batches.length) {
          if (this.opts.readAhead) {
            next = this.timed('read', this.read('>'));
            next.catch(() => undefined);
          }
          const entries = batches.flatMap((b) => b.entries);
          roundEvents.observe(entries.reduce((n, e) => n + e.events.length, 0));
          const staged = await this.timed('callers', this.detection.applyCallers(entries));
          if (!this.opts.readAhead) {
            // sent before this round's second stage sends its scripts on the same connection, which
            // Redis would otherwise run first
            next = this.timed('read', this.read('>'));
            next.catch(() => undefined);
          }
          await this.timed('wait', second); // throws if the previous round failed: its entries are read again
          second = this.timed('finish', this.detection.finish(staged)).then(() => {
            this.unacked.push({ batches: toAck(batches), round: staged.round });
            return this.ackDurable();
          });
          secondSettled = false;
          second.then(
            () => (secondSettled = true),
            () => (secondSettled = true),
          );
        } else if (!prefetched) {
          // idle: nothing arrived since the read before this one either. The previous round's second
          // stage goes on meanwhile (waiting for it before reading again held back what arrived
          // during it); a failure of it still ends the pause at once.
          if (!secondSettled) await Promise.race([second, sleep(idlePollMs)]);
          else {
            await second; // a failed round throws here: its entries are read again
            // a blocking read ends the pause when an entry arrives (what it read is the next round)
            const woke = this.waker ? await this.wake(this.waker, idleBlockMs) : null;
            if (woke === null) await sleep(idlePollMs);
            else if (woke.length) next = Promise.resolve(woke);
            else idleBlocked = true;
          }
        }
        // else what arrived since that read (made as the last round's caller stage ended) is read at once
        // Deferred caller windows: written once due when no round comes to write them, and all of
        // them while a partition is being handed over (it is released once its rounds are acknowledged).
        const all = this.leases.handingOver;
        if (this.detection.windowsDue(all) && (all || !batches.length)) {
          await second;
          await this.detection.flushWindows(all);
          await this.ackDurable();
        }
        if (Date.now() - this.lastClaim > this.opts.claimIdleMs / 2) {
          this.lastClaim = Date.now();
          await second;
          await this.claimStale();
        }
        backoff = 0;
      } catch (e) {
        backoff = Math.min(backoff ? backoff * 2 : 100, 5000);
        pendingFirst = true; // what was read but not applied (or acknowledged) is in our pending list
        this.logger.error(`hand-off processing failed, retrying in ${backoff} ms: ${(e as Error).message}`);
        await sleep(backoff);
      }
    }
    await Promise.allSettled([next, second]);
  }
}

const stageTimers = {
  read: roundStageSeconds.labels('read'),
  callers: roundStageSeconds.labels('callers'),
  wait: roundStageSeconds.labels('wait'),
  finish: roundStageSeconds.labels('finish'),
  ack: roundStageSeconds.labels('ack'),
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
