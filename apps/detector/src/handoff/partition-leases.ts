import { Logger } from '@nestjs/common';
import { fnv1a32 } from '@eagle-eye/contracts';
import { perNodePipeline, RedisClient, RedisKeys } from '@eagle-eye/redis';
import { partitionHandovers, partitionsOwned } from '../metrics';

export interface LeaseOptions {
  partitions: number;
  /** this replica's consumer name (DETECTOR_CONSUMER_NAME) */
  consumer: string;
  /** lease length, ms; 0: no ownership, every replica reads every partition (DETECTOR_PARTITION_LEASE_MS) */
  leaseMs: number;
  /**
   * how this replica keeps caller windows (DETECTOR_CALLER_WINDOWS), and whether it was set rather
   * than defaulted: a replica joins only a deployment whose live replicas keep them the same way
   */
  windows?: { mode: string; explicit: boolean };
}

/** Replicas of one deployment that keep caller windows another way than a joining replica. */
export class WindowModeConflict extends Error {
  constructor(
    readonly mode: string,
    /** `name=mode`, the mode '?' for a replica of an earlier version (it records none) */
    readonly others: string[],
  ) {
    super(
      `detector replicas that keep caller windows another way are running (${others
        .map((o) =>
          o.replace(/=\?$/, ': not recorded, an earlier version whose default is script').replace('=', ': '),
        )
        .join(
          '; ',
        )}); this replica keeps them with DETECTOR_CALLER_WINDOWS=${mode}. One deployment's replicas must not ` +
        'mix the two (a number would be applied from two different states). To update replica by replica, set ' +
        'DETECTOR_CALLER_WINDOWS to the mode the running replicas use; to change the mode, stop every replica, then start them all with the new one',
    );
  }
}

/**
 * Registers replica ARGV[1] until Redis's clock + ARGV[2] ms with its caller windows' mode ARGV[3]
 * ('' none), forgets the replicas whose registration ran out, answers {1, the live ones}. Redis's
 * clock, so the replicas' own clocks need not agree. ARGV[4] '1' (joining): registers only if every
 * other live replica records the same mode, or records none (an earlier version) and ARGV[5] is '1'
 * (the mode was set explicitly); else answers {0, the others as name=mode, '?' for none}.
 */
const REGISTER = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('HDEL', KEYS[2], unpack(gone))
end
if ARGV[4] == '1' and ARGV[3] ~= '' then
  local others = {}
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if m ~= ARGV[1] then
      local mode = redis.call('HGET', KEYS[2], m)
      if mode ~= ARGV[3] and (mode or ARGV[5] ~= '1') then others[#others + 1] = m .. '=' .. (mode or '?') end
    end
  end
  if #others > 0 then return {0, others} end
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 10)
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl * 10)
end
return {1, redis.call('ZRANGE', KEYS[1], 0, -1)}
`;

/** Takes or renews a partition's lease unless another replica holds it: 1 if this one holds it now. */
const ACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/** Gives a lease up if this replica still holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Which replica reads which hand-off partition. Ingest partitions by calling number, so the
 * replica that owns a partition is the only one applying its numbers' caller windows: no two
 * replicas write the same number (with DETECTOR_CALLER_WINDOWS=node a number's windows are held,
 * applied and written by one replica), and a number's events are applied in order by one process.
 *
 * Every replica registers itself in a sorted set with an expiry (renewed every third of the lease)
 * and computes the same balanced assignment from the live names (share()). It then takes the leases of its share (SET PX, only if free or its own) and renews
 * them; partitions no longer its share are read no more and released once the rounds that read
 * them are acknowledged, so the next owner takes them within one renewal. A replica that dies
 * leaves its leases to expire; the next owner then also takes over its pending entries
 * (HandoffConsumer.claimStale, after DETECTOR_CLAIM_IDLE_MS). Should two replicas ever apply a
 * number at once (a lease lost under a stalled process), nothing breaks: node windows are written
 * over the revision they were read at and the scripts are atomic; ownership makes it rare.
 */
export class PartitionLeases {
  private readonly logger = new Logger('PartitionLeases');
  /** leases held, partitions read */
  private readonly owned = new Set<number>();
  /** leases held, partitions no longer read: released once nothing read from them is in flight (value: since when) */
  private readonly leaving = new Map<number, number>();
  /** `owned`, ascending, as reading() answers it; null once `owned` may have changed */
  private readOrder: number[] | null = null;
  /** batches read and not yet acknowledged, per partition */
  private readonly inFlight = new Map<number, number>();
  /** reads issued whose replies have not been decoded yet */
  private readsOutstanding = 0;
  private lastRenewed = 0;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private readonly all: number[];

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly opts: LeaseOptions,
    private readonly wall: () => number = Date.now,
  ) {
    this.all = Array.from({ length: opts.partitions }, (_, i) => i);
  }

  get enabled(): boolean {
    return this.opts.leaseMs > 0;
  }

  /** partitions this replica has taken (each time): another replica may have written their numbers before */
  acquisitions = 0;

  /** Partitions left this replica's share and wait for their rounds' acknowledgement to be released. */
  get handingOver(): boolean {
    return this.leaving.size > 0;
  }

  /** The partitions to read new entries of, ascending. */
  reading(): readonly number[] {
    if (!this.enabled) return this.all;
    // sorted once per renewal, not at every read
    this.readOrder ??= [...this.owned].sort((a, b) => a - b);
    return this.readOrder;
  }

  /** The partitions whose pending entries this replica reads again (after a restart or failure): owned or leaving. */
  pendingReadable(): number[] {
    if (!this.enabled) return this.all;
    return [...new Set([...this.owned, ...this.leaving.keys()])].sort((a, b) => a - b);
  }

  /** A read of the hand-off was sent (its partitions are not released until it is decoded). */
  readSent(): void {
    this.readsOutstanding++;
  }

  /** A read's reply was decoded (or it failed); `partitions`: those it brought entries of. */
  readDone(partitions: Iterable<number>): void {
    this.readsOutstanding = Math.max(0, this.readsOutstanding - 1);
    for (const p of partitions) this.inFlight.set(p, (this.inFlight.get(p) ?? 0) + 1);
  }

  /** The entries of these partitions' batches were acknowledged. */
  acked(partitions: Iterable<number>): void {
    for (const p of partitions) {
      const n = (this.inFlight.get(p) ?? 0) - 1;
      if (n > 0) this.inFlight.set(p, n);
      else this.inFlight.delete(p);
    }
    if (this.leaving.size) void this.releaseIdle();
  }

  /** Nothing read is in flight any more (the consumer settled every round after a failure). */
  settled(): void {
    this.inFlight.clear();
    this.readsOutstanding = 0;
  }

  /**
   * Joins the live replicas (waiting up to two leases for replicas that keep caller windows another
   * way to stop, then throwing WindowModeConflict), takes this replica's share, then renews every
   * third of the lease.
   */
  async start(): Promise<void> {
    if (!this.enabled) {
      partitionsOwned.set(this.opts.partitions);
      return;
    }
    this.stopped = false;
    await this.join();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.opts.leaseMs / 3)));
    this.timer.unref();
  }

  /** Gives every lease up and leaves the registry, so the other replicas take over at once. */
  async stop(): Promise<void> {
    if (!this.enabled) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    const held = [...new Set([...this.owned, ...this.leaving.keys()])];
    this.owned.clear();
    this.leaving.clear();
    partitionsOwned.set(0);
    this.readOrder = null;
    try {
      const p = perNodePipeline(this.redis);
      for (const part of held) {
        const key = this.keys.partitionOwner(part);
        p.call(key, 'EVAL', RELEASE, '1', key, this.opts.consumer);
      }
      p.call(this.keys.detectorMembers(), 'ZREM', this.keys.detectorMembers(), this.opts.consumer);
      p.call(this.keys.detectorWindowModes(), 'HDEL', this.keys.detectorWindowModes(), this.opts.consumer);
      await p.exec();
      if (held.length) partitionHandovers.inc({ kind: 'released' }, held.length);
    } catch (e) {
      // the leases then expire on their own
      this.logger.warn(`could not give up ${held.length} partition leases: ${(e as Error).message}`);
    }
  }

  /** One renewal: register, compute the share, take or renew leases, release what left. */
  tick(): Promise<void> {
    if (!this.enabled || this.stopped) return Promise.resolve();
    this.ticking ??= this.renew().finally(() => (this.ticking = null));
    return this.ticking;
  }

  /**
   * The partitions `me` gets among `members`, the same answer on every replica: partition by
   * partition, the replica with the highest fnv1a32(name + '#' + partition) that has not got its
   * part yet (rendezvous hashing with a cap: balanced to one partition, and a replica joining or
   * leaving moves few partitions besides its own).
   */
  static share(me: string, members: readonly string[], partitions: number): Set<number> {
    const mine = new Set<number>();
    if (!members.length) return mine;
    // every replica gets floor(partitions / replicas), the first (partitions % replicas) to reach it one more
    const floor = Math.floor(partitions / members.length);
    let extra = partitions % members.length;
    const count = new Map<string, number>();
    const open = (m: string): boolean => {
      const n = count.get(m) ?? 0;
      return n < floor || (n === floor && extra > 0);
    };
    for (let p = 0; p < partitions; p++) {
      const ranked = members
        .map((m) => ({ m, score: fnv1a32(`${m}#${p}`) }))
        .sort((a, b) => b.score - a.score || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0));
      const owner = (ranked.find((r) => open(r.m)) ?? ranked[0]).m;
      const n = (count.get(owner) ?? 0) + 1;
      if (n > floor) extra--;
      count.set(owner, n);
      if (owner === me) mine.add(p);
    }
    return mine;
  }

  /** One registration; `join`: only if the live replicas keep caller windows the same way. */
  private async register(join: boolean): Promise<{ ok: boolean; names: string[] }> {
    const { consumer, leaseMs, windows } = this.opts;
    const keys = [this.keys.detectorMembers(), this.keys.detectorWindowModes()];
    const [ok, names] = (await this.redis.eval(
      REGISTER,
      keys.length,
      ...keys,
      consumer,
      leaseMs,
      windows?.mode ?? '',
      join ? '1' : '0',
      windows?.explicit ? '1' : '0',
    )) as [number, string[]];
    return { ok: ok === 1, names };
  }

  /**
   * The first registration: replicas of one deployment must keep caller windows the same way, so
   * while others keep them another way this one waits (they may be stopping: a restart of every
   * replica to change the mode), for two leases at most, then refuses to start.
   */
  private async join(): Promise<void> {
    const until = this.wall() + 2 * this.opts.leaseMs;
    let told = false;
    for (;;) {
      const { ok, names } = await this.register(true);
      if (ok) return;
      const conflict = new WindowModeConflict(this.opts.windows?.mode ?? '', names);
      if (this.wall() >= until) throw conflict;
      if (!told)
        this.logger.warn(`${conflict.message}; waiting up to ${until - this.wall()} ms for them to stop`);
      told = true;
      await new Promise((r) =>
        setTimeout(r, Math.min(1000, Math.max(50, Math.floor(this.opts.leaseMs / 10)))),
      );
    }
  }

  private async renew(): Promise<void> {
    const { consumer, leaseMs, partitions } = this.opts;
    try {
      const members = (await this.register(false)).names;
      const share = PartitionLeases.share(consumer, members, partitions);
      const ask = [...new Set([...share, ...this.owned, ...this.leaving.keys()])].sort((a, b) => a - b);
      const p = perNodePipeline(this.redis);
      for (const part of ask) {
        const key = this.keys.partitionOwner(part);
        p.call(key, 'EVAL', ACQUIRE, '1', key, consumer, String(leaseMs));
      }
      const replies = await p.exec();
      if (this.stopped) return;
      this.lastRenewed = this.wall();
      replies.forEach(([err, reply], k) => {
        const part = ask[k];
        if (err || Number(reply) !== 1) {
          // held by another replica: wait for it to give the partition up (or for its lease to run out)
          if (this.owned.delete(part) || this.leaving.delete(part)) {
            partitionHandovers.inc({ kind: 'lost' });
            this.logger.warn(`lost the lease of hand-off partition ${part} to another replica`);
          }
          return;
        }
        if (share.has(part)) {
          if (!this.owned.has(part)) {
            this.owned.add(part);
            this.leaving.delete(part);
            this.acquisitions++;
            partitionHandovers.inc({ kind: 'acquired' });
          }
        } else if (this.owned.delete(part)) this.leaving.set(part, this.wall());
      });
      partitionsOwned.set(this.owned.size);
      this.readOrder = null;
    } catch (e) {
      this.logger.warn(`partition leases not renewed: ${(e as Error).message}`);
      // past the lease another replica may hold them: read nothing until they are taken again
      if (this.wall() - this.lastRenewed > leaseMs && (this.owned.size || this.leaving.size)) {
        partitionHandovers.inc({ kind: 'lost' }, this.owned.size + this.leaving.size);
        this.owned.clear();
        this.leaving.clear();
        partitionsOwned.set(0);
        this.readOrder = null;
      }
      return;
    }
    await this.releaseIdle();
  }

  /**
   * Releases the leaving partitions nothing read from is in flight for (or that have been leaving
   * for a whole lease: a round cannot take that long unless it is stuck, and the next owner's
   * writes are checked anyway).
   */
  private async releaseIdle(): Promise<void> {
    const now = this.wall();
    const free = [...this.leaving]
      .filter(
        ([part, since]) =>
          (this.readsOutstanding === 0 && !this.inFlight.has(part)) || now - since > this.opts.leaseMs,
      )
      .map(([part]) => part);
    if (!free.length) return;
    for (const part of free) this.leaving.delete(part);
    try {
      const p = perNodePipeline(this.redis);
      for (const part of free) {
        const key = this.keys.partitionOwner(part);
        p.call(key, 'EVAL', RELEASE, '1', key, this.opts.consumer);
      }
      await p.exec();
      partitionHandovers.inc({ kind: 'released' }, free.length);
    } catch (e) {
      // the leases then run out on their own
      this.logger.warn(`could not release ${free.length} partition leases: ${(e as Error).message}`);
    }
  }
}
