import { Cluster } from 'ioredis';
import { createRedisClient, keySlot, masters, RedisKeys } from '@eagle-eye/redis';
import { dropClusterPrefix, startTestCluster, TestCluster, uniqueId } from '@eagle-eye/testing';
import { CallerEventArgs, singleCallerCall } from './caller-args';
import { DetectorScripts } from './detector-scripts';

/**
 * DetectorScripts on a real three-master Redis Cluster (scripts/redis-cluster.sh): one pipeline
 * per master, replies in the calls' order, and the fallback when a key group's slot moved since
 * the client read the slot map (the old owner answers MOVED, the call runs again where the slot
 * lives now).
 */
jest.setTimeout(60_000);

const OPTS = {
  latenessMs: 120_000,
  windowTtlS: 3600,
  historyTtlS: 8 * 86400,
  familiarTtlS: 3600,
  simTtlS: 3600,
};
const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

describe('detector scripts on a Redis Cluster', () => {
  let local: TestCluster;
  let cluster: Cluster;
  let scripts: DetectorScripts;
  const prefix = uniqueId('ds');
  const keys = new RedisKeys(prefix);

  beforeAll(async () => {
    local = await startTestCluster();
    cluster = createRedisClient({ url: 'redis://127.0.0.1', clusterNodes: local.nodes }) as Cluster;
    await cluster.cluster('INFO');
    scripts = new DetectorScripts(cluster);
    await scripts.load();
  });
  afterAll(async () => {
    if (cluster) {
      await dropClusterPrefix(cluster, prefix);
      cluster.disconnect();
    }
    await local?.stop();
  });

  const attempt = (token: string, call: string, t: number): CallerEventArgs => ({
    op: 'a',
    token,
    t,
    type: 'A',
    callFp: call,
    counterpartFp: `${call}-callee`,
    talkS: 0,
    shortCallS: 10,
    minTalkS: 60,
    carrierId: 'carrier-a',
    region: '',
  });
  const nodeName = (slot: number): string => cluster.slots[slot][0];
  const groupSlot = (token: string): number => keySlot(keys.numWindows(token));

  it('runs calls for numbers on every master in one batch, replies in order', async () => {
    const tokens = Array.from({ length: 12 }, (_, i) => `spread-${i}`);
    expect(new Set(tokens.map((t) => nodeName(groupSlot(t)))).size).toBe(3);
    const one = tokens.map((t, i) => singleCallerCall(keys, OPTS, attempt(t, `c${i}`, T0 + i)));
    const replies = await scripts.run(one.map((o) => o.call));
    replies.forEach((r, i) => {
      const reply = one[i].decode(r);
      expect({ token: tokens[i], status: reply.status, at: reply.wm }).toEqual({
        token: tokens[i],
        status: 0,
        at: T0 + i,
      });
    });
  });

  it("runs a call again where its group's slot moved since the client read the slot map", async () => {
    // a number whose group has no keys yet (an empty slot may be handed to another master directly)
    let mover = '';
    for (let i = 0; !mover && i < 1000; i++) {
      const slot = groupSlot(`mover-${i}`);
      const held = await Promise.all(masters(cluster).map((n) => n.cluster('COUNTKEYSINSLOT', slot)));
      if (held.every((n) => Number(n) === 0)) mover = `mover-${i}`;
    }
    expect(mover).not.toBe('');
    const slot = groupSlot(mover);
    const owner = nodeName(slot);
    const from = masters(cluster).find((n) => `${n.options.host}:${n.options.port}` === owner)!;
    const to = masters(cluster).find((n) => `${n.options.host}:${n.options.port}` !== owner)!;
    // a number of another group on the same master: its call rides in the same pipeline
    const stays = Array.from({ length: 200 }, (_, i) => `stays-${i}`).find(
      (t) => groupSlot(t) !== slot && nodeName(groupSlot(t)) === owner,
    )!;
    const moveTo = async (id: string) => {
      for (const n of masters(cluster)) await n.cluster('SETSLOT', slot, 'NODE', id);
    };
    const toId = String(await to.cluster('MYID'));
    const fromId = String(await from.cluster('MYID'));
    await moveTo(toId);
    try {
      // the client's map still names the old owner: the batch goes there and is redirected
      expect(nodeName(slot)).toBe(owner);
      const calls = [
        singleCallerCall(keys, OPTS, attempt(mover, 'm1', T0)),
        singleCallerCall(keys, OPTS, attempt(stays, 's1', T0)),
        singleCallerCall(keys, OPTS, attempt(mover, 'm2', T0 + 1000)),
      ];
      const replies = await scripts.run(calls.map((c) => c.call));
      const decoded = replies.map((r, i) => calls[i].decode(r));
      expect(decoded.map((d) => d.status)).toEqual([0, 0, 0]);
      // the mover's two events applied in order, on the master that holds its slot now
      expect(decoded[2].windows.attempts10m).toBe(2);
      expect(await from.exists(keys.numWindows(stays))).toBe(1);
      expect(await to.exists(keys.numWindows(mover))).toBe(1);
      expect(Number(await from.cluster('COUNTKEYSINSLOT', slot))).toBe(0);
    } finally {
      for (const k of await to.keys(`*${prefix}*`)) if (keySlot(k) === slot) await to.del(k);
      await moveTo(fromId);
    }
  });
});
