import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { freePort, REPO_ROOT } from './apps';

const run = promisify(execFile);

/** A local three-master Redis Cluster for a test (scripts/redis-cluster.sh). */
export interface TestCluster {
  /** REDIS_CLUSTER_NODES of the cluster: host:port,host:port,host:port */
  nodes: string;
  ports: number[];
  /** stops the cluster when this test started it (not one that scripts/test.sh started) */
  stop(): Promise<void>;
}

/**
 * The cluster scripts/test.sh started (EE_TEST_REDIS_CLUSTER_NODES), or else one of its own on
 * three free ports, started with scripts/redis-cluster.sh and removed again by stop().
 */
export async function startTestCluster(): Promise<TestCluster> {
  const given = process.env.EE_TEST_REDIS_CLUSTER_NODES;
  if (given) {
    const ports = given.split(',').map((n) => Number(n.split(':').pop()));
    return { nodes: given, ports, stop: async () => undefined };
  }
  const ports: number[] = [];
  // each node also listens on port + 10000 (the cluster bus)
  while (ports.length < 3) {
    const p = await freePort();
    if (p <= 55535 && !ports.includes(p)) ports.push(p);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ee-cluster-'));
  const env = { ...process.env, EE_RUN_DIR: dir, EE_REDIS_CLUSTER_PORTS: ports.join(',') };
  const script = join(REPO_ROOT, 'scripts', 'redis-cluster.sh');
  await run('bash', [script, 'up'], { env });
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    async stop() {
      await run('bash', [script, 'down'], { env });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Deletes a test's keys (every key containing `prefix`) from each master of a cluster client, one
 * key per command: a node's keys span many slots, which one DEL may not.
 */
export async function dropClusterPrefix(cluster: Cluster, prefix: string): Promise<void> {
  for (const node of cluster.nodes('master')) {
    const p = node.pipeline();
    for (const k of await node.keys(`*${prefix}*`)) p.unlink(k);
    await p.exec();
  }
}

/** What clusterForTests fills in before the tests of its describe block run. */
export interface ClusterForTests {
  local: TestCluster;
  cluster: Cluster;
}

/**
 * A three-master test cluster and a client for the tests of one describe block: started (and the
 * slot map read) before them; after them, the keys containing `prefix` are dropped, the client
 * disconnected and the cluster stopped. `connect` makes the client from REDIS_CLUSTER_NODES.
 */
export function clusterForTests(prefix: string, connect: (nodes: string) => Cluster): ClusterForTests {
  const it = {} as ClusterForTests;
  beforeAll(async () => {
    it.local = await startTestCluster();
    it.cluster = connect(it.local.nodes);
    await it.cluster.cluster('INFO');
  });
  afterAll(async () => {
    if (it.cluster) {
      await dropClusterPrefix(it.cluster, prefix);
      it.cluster.disconnect();
    }
    await it.local?.stop();
  });
  return it;
}
