import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import {
  alertJobItems,
  AlertJobName,
  encodeHandoffEvents,
  HANDOFF_FIELD_CARRIER,
  HANDOFF_FIELD_EVENTS,
  handoffPartition,
  QueueName,
} from '@eagle-eye/contracts';
import { seedDemo } from '@eagle-eye/db';
import { RedisKeys } from '@eagle-eye/redis';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  freePort,
  RunningApp,
  spawnApp,
  TestSchema,
  testRedisUrl,
  uniqueId,
  waitForHttp,
} from '@eagle-eye/testing';
import { ev, fanout, token } from '../test/harness';

/** A throw-away redis-server of the test's own (no persistence), optionally a cluster node. */
async function startRedis(extra: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ee-queue-redis-'));
  const proc: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (i > 100) throw new Error(`redis-server on :${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  return {
    url,
    stop: async () => {
      proc.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    out.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

describe('QUEUE_REDIS_URL: the alerts queue on a Redis of its own', () => {
  let db: TestSchema;
  let state: Redis;
  let queueServer: { url: string; stop: () => Promise<void> };
  let queueRedis: Redis;
  let keys: RedisKeys;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    db = await createTestSchema({ appRole: true });
    await seedDemo(db.pool);
    state = await connectTestRedis();
    queueServer = await startRedis();
    queueRedis = new Redis(queueServer.url);
    keys = new RedisKeys(uniqueId('eq'));
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await dropRedisPrefix(state, keys.prefix);
    state.disconnect();
    queueRedis.disconnect();
    await queueServer.stop();
    await db.drop();
  });

  it('an alert goes detector -> queue Redis -> worker -> PostgreSQL; no queue key on the state Redis; readiness covers it', async () => {
    const env = {
      REDIS_URL: testRedisUrl(),
      QUEUE_REDIS_URL: queueServer.url,
      DATABASE_URL: db.appUrl!,
      REDIS_KEY_PREFIX: keys.prefix,
      HANDOFF_PARTITIONS: '4',
      NODE_ENV: 'test',
    };
    const detectorPort = await freePort();
    const workerPort = await freePort();
    const detector = spawnApp('detector', {
      ...env,
      DETECTOR_HTTP_PORT: String(detectorPort),
      DETECTOR_CONSUMER_NAME: 'e2e-q',
    });
    apps.push(detector);
    const worker = spawnApp('alert-worker', { ...env, ALERT_WORKER_HTTP_PORT: String(workerPort) });
    apps.push(worker);
    // the console's dead-letter admin opens the queue too
    const consolePort = await freePort();
    const consoleApp = spawnApp('console', {
      ...env,
      CONSOLE_HTTP_PORT: String(consolePort),
      CONSOLE_JWT_SECRET: 'e2e-console-secret-e2e-console-secret-000',
    });
    apps.push(consoleApp);
    await waitForHttp(`http://127.0.0.1:${detectorPort}/readyz`, detector);
    await waitForHttp(`http://127.0.0.1:${workerPort}/readyz`, worker);
    await waitForHttp(`http://127.0.0.1:${consolePort}/readyz`, consoleApp);
    for (const port of [detectorPort, workerPort, consolePort]) {
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as {
        checks: Record<string, string>;
      };
      expect(ready.checks).toMatchObject({ redis: 'ok', 'queue-redis': 'ok' });
    }

    const scammer = token();
    const victim = token();
    const callId = uniqueId('qcall');
    const now = Date.now();
    const events = [
      ...fanout(scammer, now - 20_000, 30),
      ev('ATTEMPT', callId, scammer, victim, now - 15_000, { age: '65_PLUS' }),
      ev('ANSWERED', callId, scammer, victim, now - 10_000, { age: '65_PLUS' }),
    ];
    const tx = state.multi();
    for (const e of events) {
      tx.xadd(
        keys.handoffStream(handoffPartition(e.caller, 4)),
        '*',
        HANDOFF_FIELD_CARRIER,
        'carrier-a',
        HANDOFF_FIELD_EVENTS,
        encodeHandoffEvents([e]),
      );
    }
    await tx.exec();

    const findAlert = async () =>
      (
        await db.pool.query<{ kind: string; victim: string }>(
          'SELECT kind, victim FROM alerts WHERE carrier_id = $1 AND call_id = $2',
          ['carrier-a', callId],
        )
      ).rows[0];
    const deadline = Date.now() + 20_000;
    while (!(await findAlert()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await findAlert()).toMatchObject({ kind: 'victim_on_call', victim });

    // the job went through the queue Redis, and BullMQ wrote nothing on the state Redis
    const bull = `${keys.bullPrefix()}:*`;
    const onQueue = await keysMatching(queueRedis, bull);
    expect(onQueue.some((k) => k.startsWith(`${keys.bullPrefix()}:alerts:`))).toBe(true);
    // the call's alert job is there, alone or in its round's batch
    const queue = new Queue(QueueName.Alerts, { connection: queueRedis, prefix: keys.bullPrefix() });
    // (the alert row is committed before its job moves to completed: any state will do)
    const items = (await queue.getJobs(['completed', 'active', 'waiting', 'delayed', 'prioritized'])).flatMap(
      (j) => (j ? alertJobItems(j) : []),
    );
    await queue.close();
    expect(items.some((it) => it.name === AlertJobName.VictimOnCall && it.data.callId === callId)).toBe(true);
    expect(await keysMatching(state, bull)).toEqual([]);
    // the detection state itself stays on the state Redis
    expect((await keysMatching(state, `${keys.prefix}:*`)).length).toBeGreaterThan(0);
    for (const k of await keysMatching(queueRedis, `${keys.prefix}:*`)) {
      expect(k.startsWith(`${keys.bullPrefix()}:`)).toBe(true);
    }
    expect(detector.output()).not.toContain(victim);

    // the queue Redis away: both apps say they are not ready, and name it
    await queueServer.stop();
    for (const port of [detectorPort, workerPort, consolePort]) {
      const readyz = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        return {
          status: res.status,
          checks: ((await res.json()) as { checks: Record<string, string> }).checks,
        };
      };
      const until = Date.now() + 10_000;
      let { status, checks } = await readyz();
      while (status !== 503 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        ({ status, checks } = await readyz());
      }
      expect(status).toBe(503);
      expect(checks.redis).toBe('ok');
      expect(checks['queue-redis']).not.toBe('ok');
    }
    // for afterAll: a stopped server stops again harmlessly
    queueServer = { url: queueServer.url, stop: async () => undefined };
  }, 90_000);

  it('refuses to start on a Redis Cluster node or an unreachable queue Redis, naming QUEUE_REDIS_URL', async () => {
    const clusterNode = await startRedis(['--cluster-enabled', 'yes']);
    try {
      for (const [url, message] of [
        [clusterNode.url, /QUEUE_REDIS_URL .* is a Redis Cluster node/],
        [`redis://127.0.0.1:${await freePort()}`, /cannot reach the queue Redis .* \(QUEUE_REDIS_URL\)/],
      ] as const) {
        for (const app of ['detector', 'alert-worker', 'console']) {
          const p = spawnApp(app, {
            REDIS_URL: testRedisUrl(),
            QUEUE_REDIS_URL: url,
            DATABASE_URL: db.appUrl!,
            REDIS_KEY_PREFIX: keys.prefix,
            NODE_ENV: 'test',
            DETECTOR_HTTP_PORT: String(await freePort()),
            ALERT_WORKER_HTTP_PORT: String(await freePort()),
            CONSOLE_HTTP_PORT: String(await freePort()),
            CONSOLE_JWT_SECRET: 'e2e-console-secret-e2e-console-secret-000',
          });
          apps.push(p);
          expect(await p.exited).toBe(3);
          expect(p.output()).toMatch(message);
        }
      }
    } finally {
      await clusterNode.stop();
    }
  }, 60_000);
});
