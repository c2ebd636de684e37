import { DependencyUnreachableError, ReadinessRegistry } from '@eagle-eye/observability';
import { createRedisClient, probeRedis, RedisClient, RedisTarget, redisTarget, safeUrl } from './redis';

/** The settings that say where the BullMQ alerts queue lives. */
export interface QueueRedisConfig {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: string;
  QUEUE_REDIS_URL?: string;
}

/**
 * Where the alerts queue is: QUEUE_REDIS_URL (a single Redis server of its own), else the state
 * Redis (REDIS_URL, or the cluster of REDIS_CLUSTER_NODES) as before the setting existed.
 */
export function queueRedisTarget(config: QueueRedisConfig): RedisTarget {
  return config.QUEUE_REDIS_URL ? { url: config.QUEUE_REDIS_URL } : redisTarget(config);
}

/**
 * A connection for BullMQ's queues and workers on the queue Redis: BullMQ blocks on its
 * connections and wants commands queued, not failed, while Redis is away. With a queue Redis of
 * its own the app's readiness covers it too (check `queue-redis`); on the state Redis the `redis`
 * check already does.
 */
export function createQueueConnection(config: QueueRedisConfig, readiness?: ReadinessRegistry): RedisClient {
  const client = createRedisClient(queueRedisTarget(config), {
    maxRetriesPerRequest: null,
    enableAutoPipelining: false,
  });
  client.on('error', () => undefined);
  if (readiness && config.QUEUE_REDIS_URL) {
    readiness.register('queue-redis', async () => {
      // a command would wait in the offline queue while Redis is away: say so at once instead
      if (client.status !== 'ready') throw new Error(`queue Redis connection is ${client.status}`);
      await client.ping();
    });
  }
  return client;
}

/**
 * Start-up check of QUEUE_REDIS_URL, when set: the server answers, and it is a single Redis (a
 * Redis Cluster node is refused: the queue's keys would have to live in the slots of one node).
 */
export async function assertQueueRedisUsable(config: QueueRedisConfig, timeoutMs = 3000): Promise<void> {
  if (!config.QUEUE_REDIS_URL) return;
  const where = safeUrl(config.QUEUE_REDIS_URL);
  let info: string;
  try {
    info = await probeRedis(config.QUEUE_REDIS_URL, timeoutMs, (c) => c.info('cluster'));
  } catch (e) {
    throw new DependencyUnreachableError(
      `cannot reach the queue Redis at ${where} (QUEUE_REDIS_URL): ${(e as Error).message}. ` +
        'Start it (`EE_QUEUE_REDIS_PORT=<port> npm run services -- up`), point QUEUE_REDIS_URL at it, ' +
        'or unset QUEUE_REDIS_URL to keep the queue on REDIS_URL.',
    );
  }
  if (/cluster_enabled:1/.test(info)) {
    throw new DependencyUnreachableError(
      `QUEUE_REDIS_URL (${where}) is a Redis Cluster node: the alerts queue needs a single Redis ` +
        'server (with a replica and Sentinel for failover, if you like). Point it at one, or unset ' +
        'QUEUE_REDIS_URL to keep the queue on the state Redis (REDIS_CLUSTER_NODES).',
    );
  }
}
