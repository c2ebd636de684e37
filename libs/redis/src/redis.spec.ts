import Redis, { Cluster } from 'ioredis';
import { baseSchema, loadConfig } from '@eagle-eye/config';
import { RedisKeys } from './keys';
import { createRedisClient, isCluster, masters, parseClusterNodes, redisTarget } from './redis';

describe('Redis or Redis Cluster, by configuration', () => {
  it('reads REDIS_CLUSTER_NODES as a list of host:port and refuses anything else', () => {
    const cfg = loadConfig(baseSchema, { REDIS_CLUSTER_NODES: '10.0.0.1:6379, redis-2:6380,[::1]:6381' });
    expect(redisTarget(cfg)).toEqual({
      url: 'redis://127.0.0.1:6390',
      clusterNodes: '10.0.0.1:6379, redis-2:6380,[::1]:6381',
    });
    expect(parseClusterNodes(cfg.REDIS_CLUSTER_NODES!)).toEqual([
      { host: '10.0.0.1', port: 6379 },
      { host: 'redis-2', port: 6380 },
      { host: '::1', port: 6381 },
    ]);
    for (const bad of ['redis-1', 'redis://a:1', 'a:1,,b:2', 'a:1;b:2'])
      expect(() => loadConfig(baseSchema, { REDIS_CLUSTER_NODES: bad })).toThrow(
        /REDIS_CLUSTER_NODES is ".*": must be a comma-separated list of host:port/,
      );
    expect(redisTarget(loadConfig(baseSchema, {}))).toEqual({ url: 'redis://127.0.0.1:6390' });
  });

  it('makes a cluster client whose nodes take the credentials and TLS of REDIS_URL', () => {
    const c = createRedisClient(
      { url: 'rediss://app:p%40ss@ignored:1', clusterNodes: '127.0.0.1:1,127.0.0.1:2' },
      { lazyConnect: true, maxRetriesPerRequest: null },
    );
    try {
      expect(c).toBeInstanceOf(Cluster);
      expect(isCluster(c)).toBe(true);
      const o = (c as Cluster).options;
      expect(o.redisOptions).toMatchObject({
        username: 'app',
        password: 'p@ss',
        tls: {},
        maxRetriesPerRequest: null,
      });
      expect(o.scaleReads).toBe('master');
      expect(o.lazyConnect).toBe(true);
      expect(typeof o.clusterRetryStrategy).toBe('function');
    } finally {
      c.disconnect();
    }
    const single = createRedisClient({ url: 'redis://127.0.0.1:1' }, { lazyConnect: true });
    expect(single).toBeInstanceOf(Redis);
    expect(isCluster(single)).toBe(false);
    expect(masters(single)).toEqual([single]);
    single.disconnect();
  });

  it('puts the BullMQ prefix in a hash tag on a cluster only', () => {
    const keys = new RedisKeys('ee');
    expect(keys.bullPrefix()).toBe('ee:bull');
    keys.cluster = true;
    expect(keys.bullPrefix()).toBe('{ee}:bull');
  });
});
