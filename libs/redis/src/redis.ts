import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { DependencyUnreachableError } from '@eagle-eye/observability';

/** A connection to a single Redis or to a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is: REDIS_URL, or with REDIS_CLUSTER_NODES (comma-separated host:port of some of
 * the cluster's nodes) a Redis Cluster; REDIS_URL's user, password and scheme (`rediss:` = TLS)
 * then apply to every node and its host is not used.
 */
export interface RedisTarget {
  url: string;
  clusterNodes?: string;
}

/** The target of an app's configuration. */
export function redisTarget(config: { REDIS_URL: string; REDIS_CLUSTER_NODES?: string }): RedisTarget {
  return config.REDIS_CLUSTER_NODES
    ? { url: config.REDIS_URL, clusterNodes: config.REDIS_CLUSTER_NODES }
    : { url: config.REDIS_URL };
}

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

/** What a target is, for a log line (no credentials). */
export function describeTarget(target: RedisTarget): string {
  return target.clusterNodes ? `the Redis Cluster of ${target.clusterNodes}` : safeUrl(target.url);
}

/** `host:port,host:port` -> seed nodes. */
export function parseClusterNodes(list: string): { host: string; port: number }[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s);
      if (!m) throw new Error(`"${s}" is not host:port`);
      return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    });
}

/** Credentials, database and TLS of a redis:// or rediss:// URL, for the nodes of a cluster. */
function nodeOptionsOf(url: string): RedisOptions {
  const u = new URL(url);
  const out: RedisOptions = {};
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') out.tls = {};
  return out;
}

const DEFAULTS: RedisOptions = {
  // Keep retrying with a capped backoff once running; readiness reports the outage.
  retryStrategy: (times) => Math.min(times * 200, 2000),
  maxRetriesPerRequest: 20,
  enableAutoPipelining: true,
  lazyConnect: false,
};

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, { ...DEFAULTS, ...options });
}

/**
 * A client for the target: a Redis Cluster client when the target names cluster nodes (the
 * options apply to each node's connection; retryStrategy becomes the cluster's), else a single
 * Redis. Every key a script or pipeline touches together must then share a slot (keys.ts), and
 * pipelines over many slots go through execPerNode (pipelines.ts).
 */
export function createRedisClient(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  if (!target.clusterNodes) return createRedis(target.url, options);
  const { retryStrategy, enableAutoPipelining, lazyConnect, enableOfflineQueue, ...nodeOptions } = {
    ...DEFAULTS,
    ...options,
  };
  const clusterOptions: ClusterOptions = {
    clusterRetryStrategy: retryStrategy,
    enableAutoPipelining,
    lazyConnect,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    // every read and write on the masters: the detector reads what it has just written
    scaleReads: 'master',
    maxRedirections: 16,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    redisOptions: { ...nodeOptionsOf(target.url), ...nodeOptions },
  };
  return new Cluster(parseClusterNodes(target.clusterNodes), clusterOptions);
}

/** Whether a client talks to a Redis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** The clients of every master of a cluster (one client, the client itself, on a single Redis). */
export function masters(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/**
 * The masters once the client knows them. A Redis Cluster client learns them from the slots it loads
 * after connecting, which a loaded machine can take seconds to answer (a load that times out is
 * retried): until then masters() is empty, and a start-up step over every master would silently do
 * nothing (found by the benchmark smoke on a fresh machine: SCRIPT LOAD on no master, the detector
 * refused to start). Waits for the client to be ready, up to `timeoutMs`.
 */
export async function readyMasters(client: RedisClient, timeoutMs = 30_000): Promise<Redis[]> {
  if (isCluster(client) && client.status !== 'ready') {
    if (client.status === 'wait') await client.connect();
    // (not events.once: it rejects on the first 'error', and a slots load that timed out, the case
    // waited for here, emits one before the client retries)
    else
      await new Promise<void>((resolve, reject) => {
        const done = (e?: Error): void => {
          clearTimeout(timer);
          client.off('ready', ready);
          client.off('end', ended);
          if (e) reject(e);
          else resolve();
        };
        const ready = (): void => done();
        const ended = (): void => done(new Error('the Redis Cluster connection ended before it was ready'));
        const timer = setTimeout(
          () =>
            done(new Error(`the Redis Cluster was not ready within ${timeoutMs} ms (its slots not loaded)`)),
          timeoutMs,
        );
        client.once('ready', ready);
        client.once('end', ended);
      });
  }
  const nodes = masters(client);
  if (!nodes.length) throw new Error('no master of the Redis Cluster is known (its slots not loaded)');
  return nodes;
}

/**
 * SCRIPT LOAD on every master (a script loaded on one node is unknown to the others) and the SHA
 * Redis computed; throws when the masters disagree.
 */
export async function loadScriptEverywhere(client: RedisClient, source: string): Promise<string> {
  const nodes = await readyMasters(client);
  const shas = await Promise.all(nodes.map((n) => n.script('LOAD', source) as Promise<string>));
  if (new Set(shas).size !== 1) throw new Error(`the masters computed different SHAs: ${shas.join(', ')}`);
  return shas[0];
}

/**
 * One start-up question to a single Redis server: connects once (no retries, `timeoutMs` to
 * connect), asks, disconnects. Throws what the connection or the command threw.
 */
export async function probeRedis<T>(
  url: string,
  timeoutMs: number,
  ask: (c: Redis) => Promise<T>,
): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await ask(client);
  } finally {
    client.disconnect();
  }
}

/** Fails fast with an actionable message when Redis does not answer at start-up. */
export async function assertRedisReachable(target: string | RedisTarget, timeoutMs = 3000): Promise<void> {
  const t = typeof target === 'string' ? { url: target } : target;
  if (t.clusterNodes) return assertClusterReachable(t, timeoutMs);
  try {
    await probeRedis(t.url, timeoutMs, (c) => c.ping());
  } catch (e) {
    throw new DependencyUnreachableError(
      `cannot reach Redis at ${safeUrl(t.url)} (REDIS_URL): ${(e as Error).message}. ` +
        'Start the local services with `npm run services -- up`, or point REDIS_URL at your Redis.',
    );
  }
}

async function assertClusterReachable(t: RedisTarget, timeoutMs: number): Promise<void> {
  const client = new Cluster(parseClusterNodes(t.clusterNodes!), {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    enableOfflineQueue: true,
    redisOptions: {
      ...nodeOptionsOf(t.url),
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
    },
  });
  client.on('error', () => undefined);
  let timeout: NodeJS.Timeout | undefined;
  // not unref'd: while the cluster client finds no node, this timer keeps the check alive
  const timer = new Promise<never>((_, reject) => {
    timeout = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timer]);
    const info = (await Promise.race([client.cluster('INFO'), timer])) as string;
    const state = /cluster_state:(\w+)/.exec(info)?.[1];
    if (state !== 'ok') throw new Error(`cluster_state is ${state ?? 'unknown'}`);
  } catch (e) {
    throw new DependencyUnreachableError(
      `cannot reach ${describeTarget(t)} (REDIS_CLUSTER_NODES): ${(e as Error).message}. ` +
        'Start a local cluster with `bash scripts/redis-cluster.sh up`, or point REDIS_CLUSTER_NODES at your cluster.',
    );
  } finally {
    clearTimeout(timeout);
    client.disconnect();
  }
}

/** A second connection like the client (a Worker's blocking connection, a subscriber). */
export function duplicateClient(client: RedisClient): RedisClient {
  return isCluster(client) ? client.duplicate() : client.duplicate();
}
