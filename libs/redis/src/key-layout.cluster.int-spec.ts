import { Cluster } from 'ioredis';
import { clusterForTests, uniqueId } from '@eagle-eye/testing';
import { migrateKeyLayout } from './key-layout';
import { RedisKeys } from './keys';
import { keySlot } from './pipelines';
import { createRedisClient, loadScriptEverywhere, masters } from './redis';

/**
 * The key-layout migration on a real three-master Redis Cluster: keys move between slots served by
 * different masters, each page's commands in one pipeline per master.
 */
jest.setTimeout(60_000);

describe('key layout migration on Redis Cluster', () => {
  const prefix = uniqueId('klc');
  const cl = clusterForTests(
    prefix,
    (nodes) => createRedisClient({ url: 'redis://127.0.0.1', clusterNodes: nodes }) as Cluster,
  );

  it('moves 64-group keys to 16 groups across masters, keeping values and TTLs', async () => {
    const { cluster } = cl;
    const g64 = new RedisKeys(prefix, 64);
    const g16 = new RedisKeys(prefix, 16);
    const toks = Array.from({ length: 1500 }, (_, i) => `p1.t.${String(i).padStart(22, '0')}`);
    await Promise.all(
      toks.map(async (t, i) => {
        await cluster.set(g64.numState(t), `state${i}`, 'PX', 3_600_000);
        await cluster.hset(g64.numFamiliar(t), `c${i}`, '1');
        await cluster.pfadd(g64.numDistinct(t, 20500), 'a', `b${i}`);
      }),
    );
    // a HyperLogLog's count is an estimate: the same one after the move
    const counts = await Promise.all(toks.map((t) => cluster.pfcount(g64.numDistinct(t, 20500))));
    const moving = toks.filter((t) => g64.keyGroup(t) !== g16.keyGroup(t));
    // the moves cross masters: some keys leave a slot of one master for a slot of another
    const owner = (key: string) => cluster.slots[keySlot(key)][0];
    expect(moving.some((t) => owner(g64.numState(t)) !== owner(g16.numState(t)))).toBe(true);

    const r = await migrateKeyLayout(cluster, g16);
    expect(r).toMatchObject({ layout: 'g16', current: false, moved: 3 * moving.length, merged: 0 });
    for (const [i, t] of toks.entries()) {
      expect(await cluster.get(g16.numState(t))).toBe(`state${i}`);
      expect(await cluster.pttl(g16.numState(t))).toBeGreaterThan(3_500_000);
      expect(await cluster.hgetall(g16.numFamiliar(t))).toEqual({ [`c${i}`]: '1' });
      expect(await cluster.pfcount(g16.numDistinct(t, 20500))).toBe(counts[i]);
    }
    for (const t of moving) expect(await cluster.exists(g64.numState(t))).toBe(0);
    let left = 0;
    for (const node of masters(cluster)) left += (await node.keys(`${prefix}:*:migrating`)).length;
    expect(left).toBe(0);
    expect(await migrateKeyLayout(cluster, g16)).toMatchObject({ current: true });
  });

  it('loads a script on every master with a client just created, before it knows the masters', async () => {
    const fresh = createRedisClient({ url: 'redis://127.0.0.1', clusterNodes: cl.local.nodes }) as Cluster;
    try {
      // the client learns the masters from the slots it loads after connecting: none known yet
      expect(masters(fresh)).toEqual([]);
      const sha = await loadScriptEverywhere(fresh, "return 'klc'");
      expect(masters(fresh)).toHaveLength(3);
      for (const node of masters(fresh)) expect(await node.script('EXISTS', sha)).toEqual([1]);
    } finally {
      fresh.disconnect();
    }
  });
});
