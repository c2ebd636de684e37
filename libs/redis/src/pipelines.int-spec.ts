import Redis, { Cluster } from 'ioredis';
import { clusterForTests, connectTestRedis, uniqueId } from '@eagle-eye/testing';
import { execPerNode, keySlot, perNodePipeline, SlotCommand } from './pipelines';
import { createRedisClient, isCluster, loadScriptEverywhere, masters } from './redis';

/**
 * Per-node pipelines on a real three-master Redis Cluster (scripts/redis-cluster.sh) and on the
 * single test Redis: replies in the commands' order, one pipeline per master, scripts by SHA on
 * every master, and a slot that moved since the client read the slot map.
 */
jest.setTimeout(60_000);

describe('per-node pipelines', () => {
  const prefix = uniqueId('pl');
  const test = clusterForTests(
    prefix,
    (nodes) => createRedisClient({ url: 'redis://127.0.0.1', clusterNodes: nodes }) as Cluster,
  );
  let cluster: Cluster;
  beforeAll(() => {
    cluster = test.cluster;
  });

  it('hashes keys to the slots Redis computes (hash tags included)', async () => {
    const keys = [
      'a',
      'ee:{h3}:events',
      'ee:{n:0abc}:w',
      '{}x',
      'x{}{y}',
      'ünïcødé{é}',
      `${prefix}:{due7}:z`,
    ];
    for (const k of keys) expect(keySlot(k)).toBe(Number(await cluster.cluster('KEYSLOT', k)));
  });

  it('answers in the order of the commands, over every master', async () => {
    const commands: SlotCommand[] = [];
    for (let i = 0; i < 120; i++) {
      const key = `${prefix}:{k${i}}:v`;
      commands.push({ key, name: 'SET', args: [key, `v${i}`] });
      commands.push({ key, name: 'INCRBY', args: [`${prefix}:{k${i}}:n`, i] });
      commands.push({ key, name: 'GET', args: [key], buffer: i % 2 === 0 });
    }
    const nodes = new Set(commands.map((c) => cluster.slots[keySlot(c.key)][0]));
    expect(nodes.size).toBe(3);
    const replies = await execPerNode(cluster, commands);
    expect(replies).toHaveLength(360);
    for (let i = 0; i < 120; i++) {
      expect(replies[3 * i]).toEqual([null, 'OK']);
      expect(replies[3 * i + 1]).toEqual([null, i]);
      expect(replies[3 * i + 2]).toEqual([null, i % 2 === 0 ? Buffer.from(`v${i}`) : `v${i}`]);
    }
    // each master holds its share of the keys
    for (const node of masters(cluster)) expect((await node.keys(`${prefix}:*`)).length).toBeGreaterThan(0);
  });

  it('runs scripts loaded on every master by SHA, with per-command errors in place', async () => {
    const sha = await loadScriptEverywhere(cluster, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
    const commands: SlotCommand[] = [];
    for (let i = 0; i < 30; i++) {
      const key = `${prefix}:{s${i}}:c`;
      commands.push({ key, name: 'EVALSHA', args: [sha, 1, key, 5] });
    }
    commands.splice(7, 0, {
      key: `${prefix}:{bad}`,
      name: 'EVALSHA',
      args: ['0'.repeat(40), 1, `${prefix}:{bad}`],
    });
    const replies = await execPerNode(cluster, commands);
    expect(replies[7][0]?.message).toMatch(/^NOSCRIPT/);
    expect(replies.filter((_, i) => i !== 7)).toEqual(Array.from({ length: 30 }, () => [null, 5]));
  });

  it('sends a command again through the cluster when its slot moved (MOVED)', async () => {
    const key = `${prefix}:{moving}:v`;
    const slot = keySlot(key);
    const owner = cluster.slots[slot][0];
    const [from, to] = [
      masters(cluster).find((n) => `${n.options.host}:${n.options.port}` === owner)!,
      masters(cluster).find((n) => `${n.options.host}:${n.options.port}` !== owner)!,
    ];
    const toId = String(await to.cluster('MYID'));
    const fromId = String(await from.cluster('MYID'));
    const moveTo = async (id: string) => {
      // an empty slot may be handed over directly: every master is told the new owner
      for (const n of masters(cluster)) await n.cluster('SETSLOT', slot, 'NODE', id);
    };
    // the client's slot map still names the old owner
    await moveTo(toId);
    try {
      expect(cluster.slots[slot][0]).toBe(owner);
      const other = `${prefix}:{stays}:v`;
      const commands: SlotCommand[] = [
        { key: other, name: 'SET', args: [other, 'a'] },
        { key, name: 'SET', args: [key, 'moved'] },
        { key, name: 'GET', args: [key] },
        { key: other, name: 'GET', args: [other] },
      ];
      const replies = await execPerNode(cluster, commands);
      expect(replies).toEqual([
        [null, 'OK'],
        [null, 'OK'],
        [null, 'moved'],
        [null, 'a'],
      ]);
      expect(await to.get(key)).toBe('moved');
      await to.del(key);
    } finally {
      await moveTo(fromId);
    }
  });

  it('PerNodePipeline queues common commands and runs them per master', async () => {
    const p = perNodePipeline(cluster);
    for (let s = 0; s < 16; s++) p.zadd(`${prefix}:{due${s}}:z`, s, `m${s}`);
    for (let s = 0; s < 16; s++) p.zcard(`${prefix}:{due${s}}:z`);
    const res = await p.exec();
    expect(res.slice(16)).toEqual(Array.from({ length: 16 }, () => [null, 1]));
  });

  it('answers stream commands in the shape of their ioredis methods', async () => {
    for (const client of [cluster, await connectTestRedis()]) {
      const key = `${prefix}:{st}:events`;
      await client.xadd(key, '*', 'a', '1');
      await client.xgroup('CREATE', key, 'g', '0');
      const p = perNodePipeline(client)
        .call(key, 'XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 10, 'STREAMS', key, '>')
        .call(key, 'XINFO', 'GROUPS', key);
      const [[e1, read], [e2, groups]] = await p.exec();
      expect([e1, e2]).toEqual([null, null]);
      expect(read).toEqual([[key, [[expect.any(String), ['a', '1']]]]]);
      expect(groups).toEqual([expect.arrayContaining(['name', 'g', 'pending', 1])]);
      await client.del(key);
      if (client !== cluster) client.disconnect();
    }
  });

  it('on a single Redis: one pipeline, same answers', async () => {
    const redis: Redis = await connectTestRedis();
    try {
      expect(isCluster(redis)).toBe(false);
      const key = `${prefix}:{single}:v`;
      const res = await execPerNode(redis, [
        { key, name: 'SET', args: [key, 'x'] },
        { key: `${prefix}:{other}`, name: 'GET', args: [key], buffer: true },
        { key, name: 'DEL', args: [key] },
      ]);
      expect(res).toEqual([
        [null, 'OK'],
        [null, Buffer.from('x')],
        [null, 1],
      ]);
    } finally {
      redis.disconnect();
    }
  });
});
