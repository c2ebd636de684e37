import { Queue } from 'bullmq';
import Redis from 'ioredis';
import {
  encodeHandoffEvents,
  HANDOFF_FIELD_CARRIER,
  HANDOFF_FIELD_EVENTS,
  handoffPartition,
  QueueName,
} from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { RulesRepository } from '@eagle-eye/rules';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  spawnApp,
  TestSchema,
  testRedisUrl,
  uniqueId,
  waitForHttp,
} from '@eagle-eye/testing';
import { ev, fanout, findAlertJob, token } from './test/harness';

const PORT = Number(process.env.EE_DETECTOR_TEST_PORT ?? 9112);
const metric = async (name: string): Promise<string> =>
  (await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text())
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');

describe('the built detector', () => {
  let db: TestSchema;
  let redis: Redis;
  let keys: RedisKeys;
  beforeAll(async () => {
    db = await createTestSchema();
    redis = await connectTestRedis();
    keys = new RedisKeys(uniqueId('ee'));
  });
  afterAll(async () => {
    await dropRedisPrefix(redis, keys.prefix);
    redis.disconnect();
    await db.drop();
  });

  it('consumes the hand-off, alerts through BullMQ, hot-reloads rules, reports metrics, stops cleanly', async () => {
    const app = spawnApp('detector', {
      DETECTOR_HTTP_PORT: String(PORT),
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: db.url,
      REDIS_KEY_PREFIX: keys.prefix,
      HANDOFF_PARTITIONS: '4',
      DETECTOR_CONSUMER_NAME: 'e2e-1',
    });
    const queue = new Queue(QueueName.Alerts, { connection: redis, prefix: keys.bullPrefix() });
    try {
      await waitForHttp(`http://127.0.0.1:${PORT}/readyz`, app);
      const scammer = token();
      const victim = token();
      const now = Date.now();
      const events = [
        ...fanout(scammer, now - 20_000, 30),
        ev('ATTEMPT', 'e2e-call', scammer, victim, now - 15_000, { age: '65_PLUS' }),
        ev('ANSWERED', 'e2e-call', scammer, victim, now - 10_000, { age: '65_PLUS' }),
      ];
      const tx = redis.multi();
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
      // the severity depends on how many rules agree (the learned model adds its points to the
      // hand-set ones): this test is about the path, so either level will do
      const ids = ['warning', 'critical'].map((sev) => `voc|carrier-a|e2e-call|victim_on_call|${sev}|0`);
      const findJob = async () =>
        ((await findAlertJob(queue, ids[0])) ?? (await findAlertJob(queue, ids[1])))?.item;
      const deadline = Date.now() + 10_000;
      while (!(await findJob()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const job = await findJob();
      expect(job?.data).toMatchObject({ victim, suspect: scammer });
      const severity = (job?.data as { severity: string }).severity;

      // a rule change reaches the running process within a second
      const before = await metric('eagleeye_detector_rule_set_version');
      const repo = new RulesRepository(db.pool, redis, keys);
      await repo.updateRule({
        ruleId: 'fanout',
        scope: '*',
        points: 31,
        actor: 'e2e',
        actorRole: 'admin',
        reason: 'test',
      });
      const version = await repo.currentVersion();
      const t0 = Date.now();
      while (
        !(await metric('eagleeye_detector_rule_set_version')).includes(` ${version}`) &&
        Date.now() - t0 < 1000
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await metric('eagleeye_detector_rule_set_version')).toContain(` ${version}`);
      expect(before).not.toContain(` ${version}`);

      expect(await metric('eagleeye_detector_events_total')).toMatch(
        /result="applied",service="detector"} 62/,
      );
      expect(await metric('eagleeye_detector_alerts_total')).toContain(
        `kind="victim_on_call",severity="${severity}",service="detector"} 1`,
      );
      expect(await metric('eagleeye_detector_detection_latency_seconds_count')).toContain(
        `kind="victim_on_call"} 1`,
      );
      expect(app.output()).not.toContain(victim);
    } finally {
      await queue.close();
      expect(await app.stop('SIGTERM')).toBe(0);
    }
  });
});
