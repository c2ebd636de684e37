import { connectTestRedis, dropRedisPrefix, uniqueId } from '@eagle-eye/testing';
import { RedisKeys } from '@eagle-eye/redis';
import Redis from 'ioredis';
import { partitionHandovers } from '../metrics';
import { PartitionLeases, WindowModeConflict } from './partition-leases';

const PARTITIONS = 16;

describe('hand-off partition leases (one owner per partition, on a real Redis)', () => {
  let redis: Redis;
  let keys: RedisKeys;
  const started: PartitionLeases[] = [];
  beforeEach(async () => {
    redis = await connectTestRedis();
    keys = new RedisKeys(uniqueId('lease'));
  });
  afterEach(async () => {
    for (const l of started.splice(0)) await l.stop();
    await dropRedisPrefix(redis, keys.prefix);
    redis.disconnect();
  });

  /** a replica's leases; ticked by hand unless `start` (a live replica renews on its own) */
  function replica(
    name: string,
    leaseMs = 60_000,
    windows?: { mode: string; explicit: boolean },
  ): PartitionLeases {
    const l = new PartitionLeases(redis, keys, { partitions: PARTITIONS, consumer: name, leaseMs, windows });
    started.push(l);
    return l;
  }
  async function owners(): Promise<(string | null)[]> {
    return redis.mget(...Array.from({ length: PARTITIONS }, (_, p) => keys.partitionOwner(p)));
  }

  it('shares the partitions: each to exactly one replica, balanced, the same answer on every replica', () => {
    for (const members of [
      ['det-a', 'det-b'],
      ['det-a', 'det-b', 'det-c'],
      ['r1', 'r2'],
    ]) {
      for (const partitions of [4, 16, 17]) {
        const shares = members.map((m) => PartitionLeases.share(m, members, partitions));
        const all = shares.flatMap((s) => [...s]).sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: partitions }, (_, p) => p));
        for (const s of shares) {
          expect(s.size).toBeGreaterThanOrEqual(Math.floor(partitions / members.length));
          expect(s.size).toBeLessThanOrEqual(Math.ceil(partitions / members.length));
        }
        // the order the names come in does not matter
        expect(PartitionLeases.share(members[1], [...members].reverse(), partitions)).toEqual(shares[1]);
      }
    }
    // a third replica leaving: the other two keep most of what they had
    const three = ['det-a', 'det-b', 'det-c'];
    const before = PartitionLeases.share('det-a', three, PARTITIONS);
    const after = PartitionLeases.share('det-a', ['det-a', 'det-b'], PARTITIONS);
    expect([...before].filter((p) => after.has(p)).length).toBeGreaterThanOrEqual(before.size - 1);
    // no replica alive but this one: all of them
    expect(PartitionLeases.share('det-a', ['det-a'], PARTITIONS).size).toBe(PARTITIONS);
    expect(PartitionLeases.share('det-a', [], PARTITIONS).size).toBe(0);
  });

  it('a replica alone owns every partition; a second one gets its share once the first hands it over', async () => {
    const a = replica('det-a');
    const b = replica('det-b');
    await a.tick();
    expect(a.reading()).toHaveLength(PARTITIONS);
    expect(new Set(await owners())).toEqual(new Set(['det-a']));

    // b registers: its share is still a's, so b reads nothing yet
    await b.tick();
    expect(b.reading()).toEqual([]);
    // a's next renewal hands b's share over (nothing of it in flight), b's next takes it
    await a.tick();
    await b.tick();
    const bShare = [...PartitionLeases.share('det-b', ['det-a', 'det-b'], PARTITIONS)].sort((x, y) => x - y);
    expect(bShare.length).toBeGreaterThan(0);
    expect(b.reading()).toEqual(bShare);
    expect(a.reading()).toEqual(
      Array.from({ length: PARTITIONS }, (_, p) => p).filter((p) => !bShare.includes(p)),
    );
    const own = await owners();
    own.forEach((o, p) => expect(o).toBe(bShare.includes(p) ? 'det-b' : 'det-a'));

    // a stops: it gives its leases up and leaves the registry; b's next renewal takes them all
    await a.stop();
    await b.tick();
    expect(b.reading()).toHaveLength(PARTITIONS);
    expect(new Set(await owners())).toEqual(new Set(['det-b']));
  });

  it('keeps a partition it hands over until the round that read it is acknowledged', async () => {
    const a = replica('det-a');
    const b = replica('det-b');
    await a.tick();
    const bShare = [...PartitionLeases.share('det-b', ['det-a', 'det-b'], PARTITIONS)];
    const busy = bShare[0];
    // a round of a read entries of `busy` and is still being applied
    a.readSent();
    a.readDone([busy]);
    await b.tick();
    await a.tick();
    expect(a.reading()).not.toContain(busy); // no longer read ...
    expect(a.pendingReadable()).toContain(busy); // ... but still held: its pending entries are a's
    await b.tick();
    expect(b.reading()).not.toContain(busy);
    expect(b.reading()).toEqual(bShare.filter((p) => p !== busy).sort((x, y) => x - y));
    // acknowledged: released at once, and b takes it on its next renewal
    a.acked([busy]);
    await new Promise((r) => setTimeout(r, 100));
    expect(await redis.get(keys.partitionOwner(busy))).toBeNull();
    await b.tick();
    expect(b.reading()).toContain(busy);
  });

  it("takes a dead replica's partitions once its registration and leases run out", async () => {
    const dead = replica('det-dead', 400);
    await dead.tick(); // and never again: killed
    const live = replica('det-live', 400);
    await live.tick();
    expect(live.reading()).toEqual([]); // all held by the dead one
    await new Promise((r) => setTimeout(r, 500));
    await live.tick();
    expect(live.reading()).toHaveLength(PARTITIONS);
    expect(await redis.zrange(keys.detectorMembers(), '0', '-1')).toEqual(['det-live']);
  });

  it('stops reading a partition whose lease another replica holds (its own ran out under it)', async () => {
    const lost = async () =>
      (await partitionHandovers.get()).values.find((v) => v.labels.kind === 'lost')?.value ?? 0;
    const lostBefore = await lost();
    const a = replica('det-a');
    await a.tick();
    // a stalled past its lease; another replica took partition 3
    await redis.set(keys.partitionOwner(3), 'det-other', 'PX', 60_000);
    await a.tick();
    expect(a.reading()).not.toContain(3);
    expect(a.pendingReadable()).not.toContain(3);
    expect(a.reading()).toHaveLength(PARTITIONS - 1);
    expect(await lost()).toBe(lostBefore + 1);
  });

  it('with a lease of 0 reads every partition and touches no key', async () => {
    const l = replica('det-a', 0);
    await l.start();
    expect(l.reading()).toHaveLength(PARTITIONS);
    expect(await redis.keys(`${keys.prefix}:*`)).toEqual([]);
  });

  it('renews on its own while it runs', async () => {
    const a = replica('det-a', 300);
    await a.start();
    await new Promise((r) => setTimeout(r, 900)); // three leases later
    expect(a.reading()).toHaveLength(PARTITIONS);
    expect(new Set(await owners())).toEqual(new Set(['det-a']));
    const ttl = await redis.pttl(keys.partitionOwner(0));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  describe('one way of keeping caller windows per deployment (DETECTOR_CALLER_WINDOWS)', () => {
    const node = { mode: 'node', explicit: false };
    const script = { mode: 'script', explicit: true };

    it('joins replicas that keep them the same way', async () => {
      const a = replica('det-a', 400, node);
      const b = replica('det-b', 400, node);
      await a.start();
      await b.start();
      expect(await redis.hgetall(keys.detectorWindowModes())).toEqual({ 'det-a': 'node', 'det-b': 'node' });
      await b.tick();
      await a.tick();
      await b.tick();
      expect(a.reading().length + b.reading().length).toBe(PARTITIONS);
      expect(b.reading().length).toBeGreaterThan(0);
    });

    it('refuses to join replicas that keep them the other way, after waiting two leases for them to stop', async () => {
      const a = replica('det-a', 300, script);
      await a.start();
      const b = replica('det-b', 300, node);
      const t0 = Date.now();
      const err = await b.start().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WindowModeConflict);
      expect((err as Error).message).toMatch(/det-a: script.*DETECTOR_CALLER_WINDOWS=node/);
      expect((err as Error).message).toMatch(/stop every replica/);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(550); // a renewed its registration meanwhile
      // b took nothing and is not registered: a keeps every partition
      expect(b.reading()).toEqual([]);
      expect(await redis.zrange(keys.detectorMembers(), '0', '-1')).toEqual(['det-a']);
      expect(new Set(await owners())).toEqual(new Set(['det-a']));
    });

    it('joins once the replicas of the other mode have stopped (a restart of every replica)', async () => {
      const a = replica('det-a', 2_000, script);
      await a.start();
      const b = replica('det-b', 2_000, node);
      const joining = b.start();
      await new Promise((r) => setTimeout(r, 300));
      expect(b.reading()).toEqual([]); // still waiting
      await a.stop();
      await joining;
      expect(b.reading()).toHaveLength(PARTITIONS);
      expect(await redis.hgetall(keys.detectorWindowModes())).toEqual({ 'det-b': 'node' });
    });

    it('an earlier version records no mode: joined when the mode is set explicitly, refused by a default', async () => {
      // a replica of the version before the mode was recorded: registered, no mode (its default: script)
      const t = await redis.time();
      const now = Number(t[0]) * 1000 + Math.floor(Number(t[1]) / 1000);
      await redis.zadd(keys.detectorMembers(), now + 60_000, 'det-old');
      const byDefault = replica('det-new', 200, node);
      await expect(byDefault.start()).rejects.toThrow(
        /det-old: not recorded, an earlier version whose default is script/,
      );
      const explicitScript = replica('det-set', 200, script);
      await explicitScript.start();
      expect(await redis.hget(keys.detectorWindowModes(), 'det-set')).toBe('script');
      expect((await redis.zrange(keys.detectorMembers(), '0', '-1')).sort()).toEqual(['det-old', 'det-set']);
    });

    it("forgets a dead replica's mode with its registration", async () => {
      const dead = replica('det-dead', 300, script);
      await dead.tick(); // registered once (no join), then killed
      await new Promise((r) => setTimeout(r, 400));
      const b = replica('det-b', 300, node);
      await b.start(); // the dead one's registration ran out: no conflict, no wait
      expect(await redis.hgetall(keys.detectorWindowModes())).toEqual({ 'det-b': 'node' });
    });
  });
});
