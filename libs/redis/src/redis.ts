import Redis, { RedisOptions } from 'ioredis';
import { DependencyUnreachableError } from '@eagle-eye/observability';

/** Strips credentials from a URL before it is printed. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    // Keep retrying with a capped backoff once running; readiness reports the outage.
    retryStrategy: (times) => Math.min(times * 200, 2000),
    maxRetriesPerRequest: 20,
    enableAutoPipelining: true,
    lazyConnect: false,
    ...options,
  });
}

/** Fails fast with an actionable message when Redis does not answer at start-up. */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new DependencyUnreachableError(
      `cannot reach Redis at ${safeUrl(url)} (REDIS_URL): ${(e as Error).message}. ` +
        'Start the local services with `npm run services -- up`, or point REDIS_URL at your Redis.',
    );
  } finally {
    client.disconnect();
  }
}
