import { baseSchema, loadConfig } from '@eagle-eye/config';
import { queueRedisTarget } from './queue-redis';

describe('QUEUE_REDIS_URL', () => {
  it('unset: the alerts queue stays on the state Redis, a single server or the cluster', () => {
    expect(queueRedisTarget(loadConfig(baseSchema, {}))).toEqual({ url: 'redis://127.0.0.1:6390' });
    const cluster = loadConfig(baseSchema, {
      REDIS_URL: 'redis://:pw@ignored:6379',
      REDIS_CLUSTER_NODES: '10.0.0.1:6379,10.0.0.2:6379',
    });
    expect(queueRedisTarget(cluster)).toEqual({
      url: 'redis://:pw@ignored:6379',
      clusterNodes: '10.0.0.1:6379,10.0.0.2:6379',
    });
  });

  it('set: a single server of its own, even when the state is on a cluster', () => {
    const cfg = loadConfig(baseSchema, {
      REDIS_CLUSTER_NODES: '10.0.0.1:6379',
      QUEUE_REDIS_URL: 'rediss://:pw@queue.internal:6380',
    });
    expect(queueRedisTarget(cfg)).toEqual({ url: 'rediss://:pw@queue.internal:6380' });
  });

  it('is a redis:// or rediss:// URL', () => {
    expect(() => loadConfig(baseSchema, { QUEUE_REDIS_URL: 'http://queue:6379' })).toThrow(
      /QUEUE_REDIS_URL is "http:\/\/queue:6379": must be a URL with scheme redis or rediss/,
    );
  });
});
