import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, status } from '@grpc/grpc-js';
import Redis, { Cluster } from 'ioredis';
import { AlertView } from '@eagle-eye/contracts';
import { apiKeyFor, DEMO_CARRIERS, seedDemo } from '@eagle-eye/db';
import { createRedisClient, keySlot, masters, RedisKeys } from '@eagle-eye/redis';
import {
  createTestSchema,
  dropClusterPrefix,
  freePort,
  REPO_ROOT,
  RunningApp,
  spawnApp,
  startTestCluster,
  TestCluster,
  TestSchema,
  uniqueId,
  waitForHttp,
} from '@eagle-eye/testing';
import { Client, until } from './console/test/harness';
import { answeredByElderly, subscriberToken, unansweredFanOut } from './ingest/src/testing/call-events';
import { ingestClient, streamBatches } from './ingest/src/testing/ingest-client';

/**
 * The whole stack on a local Redis Cluster of three masters (scripts/redis-cluster.sh, no
 * replicas): carrier events over gRPC -> ingest's hand-off -> detector (scripts per node, due sets,
 * watermarks) -> BullMQ ({prefix}:bull) -> alert worker -> console socket (socket.io adapter and
 * emitter over the cluster). The deployment's keys end up on all three masters. Built apps
 * (dist/), real PostgreSQL.
 */
jest.setTimeout(180_000);

const CARRIER = DEMO_CARRIERS[0];
const JWT_SECRET = 'e2e-cluster-secret-e2e-cluster-secret-0000';
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
/** hand-off partitions of the stack under test */
const PARTITIONS = 8;

describe('the whole stack on a three-master Redis Cluster', () => {
  let local: TestCluster;
  let cluster: Cluster;
  let db: TestSchema;
  const prefix = uniqueId('c');
  const apps: RunningApp[] = [];
  let consoleUrl = '';
  let client: ReturnType<typeof ingestClient>;

  beforeAll(async () => {
    local = await startTestCluster();
    cluster = createRedisClient(
      { url: 'redis://127.0.0.1', clusterNodes: local.nodes },
      { maxRetriesPerRequest: 5 },
    ) as Cluster;
    db = await createTestSchema({ appRole: true });
    await seedDemo(db.pool);
    const env = {
      // REDIS_URL's host is not used once REDIS_CLUSTER_NODES is set
      REDIS_URL: `redis://127.0.0.1:${local.ports[0]}`,
      REDIS_CLUSTER_NODES: local.nodes,
      REDIS_KEY_PREFIX: prefix,
      DATABASE_URL: db.appUrl!,
      NODE_ENV: 'test',
      HANDOFF_PARTITIONS: String(PARTITIONS),
    };
    const [consolePort, workerPort, grpcPort, ingestHttp, detectorHttp] = await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    );
    consoleUrl = `http://127.0.0.1:${consolePort}`;
    const started: [RunningApp, string][] = [
      [
        spawnApp('console', {
          ...env,
          CONSOLE_HTTP_PORT: String(consolePort),
          CONSOLE_JWT_SECRET: JWT_SECRET,
          CONSOLE_JWT_TTL_S: '600',
        }),
        `${consoleUrl}/readyz`,
      ],
      [
        spawnApp('alert-worker', { ...env, ALERT_WORKER_HTTP_PORT: String(workerPort) }),
        `http://127.0.0.1:${workerPort}/readyz`,
      ],
      [
        spawnApp('ingest', {
          ...env,
          INGEST_GRPC_PORT: String(grpcPort),
          INGEST_HTTP_PORT: String(ingestHttp),
        }),
        `http://127.0.0.1:${ingestHttp}/readyz`,
      ],
      [
        spawnApp('detector', {
          ...env,
          DETECTOR_HTTP_PORT: String(detectorHttp),
          DETECTOR_CONSUMER_NAME: 'cluster-e2e',
        }),
        `http://127.0.0.1:${detectorHttp}/readyz`,
      ],
    ];
    apps.push(...started.map(([a]) => a));
    await Promise.all(started.map(([app, url]) => waitForHttp(url, app, 90_000)));
    client = ingestClient(`127.0.0.1:${grpcPort}`);
  }, 240_000);

  afterAll(async () => {
    client?.close();
    for (const app of apps.reverse()) await app.stop();
    // what each app said, for a failed run
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const app of apps) writeFileSync(join(ARTIFACTS, `cluster-e2e-${app.name}.log`), app.output());
    if (cluster) {
      await dropClusterPrefix(cluster, prefix);
      cluster.disconnect();
    }
    await db?.drop();
    await local?.stop();
  }, 60_000);

  function metadata(): Metadata {
    const md = new Metadata();
    md.set('authorization', `Bearer ${apiKeyFor(CARRIER.keyId, CARRIER.secret)}`);
    return md;
  }

  async function login(username: string, password: string): Promise<string> {
    const res = await fetch(`${consoleUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }

  /** The deployment's keys on each master, by the node's address. */
  async function keysByMaster(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const node of masters(cluster))
      out.set(`${node.options.host}:${node.options.port}`, await node.keys(`*${prefix}*`));
    return out;
  }

  /**
   * Waits until the detector applied everything handed over so far: it deletes a hand-off entry
   * once applied and acknowledged, so every partition's stream is empty. Only then is a victim's
   * answer sent: the partitions' streams lie on all three masters and are read concurrently, and
   * history read after a live answer would have moved the number's watermark past it.
   */
  async function handoffDrained(): Promise<void> {
    const keys = new RedisKeys(prefix);
    await until(
      async () => {
        const lengths = await Promise.all(
          Array.from({ length: PARTITIONS }, (_, p) => cluster.xlen(keys.handoffStream(p))),
        );
        return lengths.every((n) => n === 0);
      },
      'the detector to apply the hand-off',
      60_000,
    );
  }

  /** the master serving a number's key group (every per-number key of the token lies there) */
  function masterOfNumber(token: string): string {
    const keys = new RedisKeys(prefix);
    return cluster.slots[keySlot(keys.numWindows(token))][0];
  }

  /**
   * A subscriber token from `base` whose key group lies on another master than `other`'s: the
   * check that per-number keys spread over masters would otherwise hold by chance (two numbers'
   * groups share a master one time in three).
   */
  function tokenOnAnotherMaster(other: string, base: number): string {
    const start = base + Math.floor(Math.random() * 9_000);
    for (let n = start; n < start + 1_000; n++) {
      const token = subscriberToken(n);
      if (masterOfNumber(token) !== masterOfNumber(other)) return token;
    }
    throw new Error('no token on another master');
  }

  it('raises a victim-on-call alert from carrier events to the operator socket, with keys on every master', async () => {
    expect(masters(cluster)).toHaveLength(3);
    const supervisor = new Client(consoleUrl, await login('supervisor', 'demo-supervisor'));
    try {
      await supervisor.connected();
      const now = Date.now();
      const tag = randomBytes(4).toString('hex');
      const scammer = subscriberToken(70_000 + Math.floor(Math.random() * 10_000));
      // a call centre's last minute and a half: 30 strangers, none answered. Within the detector's
      // lateness (2 min) of the answer: one number's calls lie in several hand-off partitions, on
      // several masters, and an event read after that number's newer ones by more than lateness
      // is dropped as late (real traffic arrives within seconds; a replay of older history would be)
      const history = unansweredFanOut({
        tag,
        scammer,
        firstMs: now - 100_000,
        spacingMs: 2_000,
        calleeBase: 80_000,
      });
      const first = await streamBatches(client, metadata(), [{ sequence: 1, events: history }]);
      expect([first.code, first.details]).toEqual([status.OK, expect.any(String)]);
      expect(first.acks[0].accepted).toBe(60);
      // applied before the answer is sent (see handoffDrained)
      await handoffDrained();

      // then an elderly subscriber answers it
      const victim = tokenOnAnotherMaster(scammer, 90_000);
      const callId = `${tag}-victim`;
      const victimBatch = { sequence: 2, events: answeredByElderly(callId, scammer, victim, now) };
      const second = await streamBatches(client, metadata(), [victimBatch]);
      expect(second.code).toBe(status.OK);
      expect(second.acks[0].accepted).toBe(2);

      const alert = await until(
        () => supervisor.created().find((a: AlertView) => a.callId === callId),
        'the victim-on-call alert on the socket',
        60_000,
      );
      expect(alert.kind).toBe('victim_on_call');

      // a redelivered batch is recognised on the cluster too (ingest's dedupe scripts per slot)
      const again = await streamBatches(client, metadata(), [{ ...victimBatch, sequence: 3 }]);
      expect(again.acks[0]).toMatchObject({ accepted: 0, duplicates: 2 });

      // the deployment's keys are spread over all three masters ...
      const byMaster = await keysByMaster();
      for (const [node, keys] of byMaster) {
        expect({ node, keys: keys.length > 0 }).toEqual({ node, keys: true });
        // ... each in the slot its node serves
        for (const k of keys) expect(cluster.slots[keySlot(k)][0]).toBe(node);
      }
      const all = [...byMaster.values()].flat();
      // hand-off streams of several partitions on more than one master
      const streamNodes = [...byMaster].filter(([, keys]) => keys.some((k) => /:\{h\d+\}:events$/.test(k)));
      expect(streamNodes.length).toBeGreaterThan(1);
      // BullMQ's keys all in one slot, under the hash-tagged prefix ({prefix}:bull), on one master
      const bull = all.filter((k) => k.startsWith(`{${prefix}}:bull:`));
      expect(bull).toEqual(expect.arrayContaining([`{${prefix}}:bull:alerts:meta`]));
      expect(new Set(bull.map(keySlot)).size).toBe(1);
      expect(all.filter((k) => k.startsWith(`${prefix}:bull`))).toEqual([]);
      // per-number keys of the detector on more than one master
      const numberNodes = [...byMaster].filter(
        ([, keys]) =>
          keys.filter((k) => !/:\{h\d+\}:|\}:bull:|:sio/.test(k) && !k.startsWith('{')).length > 0,
      );
      expect(numberNodes.length).toBeGreaterThan(1);

      // and every app is still ready (readiness = cluster_state:ok)
      for (const app of apps) expect(app.proc.exitCode).toBeNull();
    } finally {
      supervisor.close();
    }
  });

  it('keeps working when a node connection is reset (the cluster client reconnects it)', async () => {
    // kill every client connection of one master: each app's cluster client reconnects that node
    const node: Redis = masters(cluster)[1];
    await node.call('CLIENT', 'KILL', 'TYPE', 'normal').catch(() => undefined);
    const supervisor = new Client(consoleUrl, await login('supervisor', 'demo-supervisor'));
    try {
      await supervisor.connected();
      const now = Date.now();
      const tag = randomBytes(4).toString('hex');
      const scammer = subscriberToken(60_000 + Math.floor(Math.random() * 9_000));
      const events = unansweredFanOut({
        tag,
        scammer,
        firstMs: now - 100_000,
        spacingMs: 2_000,
        calleeBase: 50_000,
      });
      const victimCallId = `${tag}-victim`;
      const victim = subscriberToken(40_000 + Math.floor(Math.random() * 9_000));
      const history = await streamBatches(client, metadata(), [{ sequence: 10, events }]);
      expect(history.code).toBe(status.OK);
      await handoffDrained();
      const res = await streamBatches(client, metadata(), [
        { sequence: 11, events: answeredByElderly(victimCallId, scammer, victim, now) },
      ]);
      expect(res.code).toBe(status.OK);
      const alert = await until(
        () => supervisor.created().find((a: AlertView) => a.callId === victimCallId),
        'the second alert on the socket',
        60_000,
      );
      expect(alert.kind).toBe('victim_on_call');
    } finally {
      supervisor.close();
    }
  });
});

describe('a Redis Cluster that does not answer', () => {
  it('is one actionable line at start-up, naming REDIS_CLUSTER_NODES', async () => {
    const nodes = `127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`;
    const app = spawnApp('detector', {
      REDIS_CLUSTER_NODES: nodes,
      DETECTOR_HTTP_PORT: String(await freePort()),
    });
    expect(await app.exited).toBe(3);
    const lines = app.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot reach the Redis Cluster of ${nodes} (REDIS_CLUSTER_NODES)`);
    expect(lines[0]).toContain('bash scripts/redis-cluster.sh up');
  });
});
