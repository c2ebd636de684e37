import { Queue } from 'bullmq';
import Redis from 'ioredis';
import {
  ALERT_BATCH_JOB,
  ALERT_BATCH_MAX_ITEMS,
  AlertBatchJob,
  AlertJobName,
  alertJobId,
  QueueName,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { connectTestRedis, dropRedisPrefix, uniqueId } from '@eagle-eye/testing';
import { metricsRegistry } from '@eagle-eye/observability';
import { token } from '../test/harness';
import { AlertJob, AlertPublisher } from './alert.publisher';

const victim = (callId: string): AlertJob => {
  const data: VictimOnCallJob = {
    kind: 'victim_on_call',
    carrierId: 'carrier-a',
    callId,
    victim: token(),
    suspect: token(),
    region: '510100',
    severity: 'warning',
    score: 70,
    reasons: [],
    callAnsweredAt: 1_000,
    stepS: 0,
    eventTimeMs: 1_000,
    raisedAt: 2_000,
  };
  return { name: AlertJobName.VictimOnCall, data };
};
const suspect = (): AlertJob => {
  const data: SuspectNumberJob = {
    kind: 'suspect_number',
    carrierId: 'carrier-a',
    suspect: token(),
    severity: 'critical',
    score: 99,
    reasons: [],
    eventTimeMs: 1_000,
    raisedAt: 2_000,
  };
  return { name: AlertJobName.SuspectNumber, data };
};

/** The detector's side of the alerts queue on real Redis: a lone alert as its own job, a round's several as one batch. */
describe('AlertPublisher', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let publisher: AlertPublisher;
  let queue: Queue;
  beforeEach(async () => {
    redis = await connectTestRedis();
    keys = new RedisKeys(uniqueId('pub'));
    publisher = new AlertPublisher(redis, keys.bullPrefix());
    queue = new Queue(QueueName.Alerts, { connection: redis, prefix: keys.bullPrefix() });
  });
  afterEach(async () => {
    await queue.close();
    await publisher.close();
    await dropRedisPrefix(redis, keys.bullPrefix());
    redis.disconnect();
  });
  const added = async (job: 'single' | 'batch') =>
    (await metricsRegistry.getSingleMetric('eagleeye_detector_alert_queue_jobs_total')?.get())?.values.find(
      (v) => v.labels.job === job,
    )?.value ?? 0;

  it('adds a lone alert as a job of its own, under its own id', async () => {
    const one = victim('c-alone');
    await publisher.publish([one]);
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => [j.name, j.id])).toEqual([
      [AlertJobName.VictimOnCall, alertJobId(AlertJobName.VictimOnCall, one.data as VictimOnCallJob)],
    ]);
    expect(jobs[0].data).toEqual(one.data);
  });

  it("adds a round's alerts as one batch job, in their order, once however often the round is published", async () => {
    const round = [victim('c-1'), suspect(), victim('c-2')];
    const batchesBefore = await added('batch');
    await publisher.publish(round);
    await publisher.publish(round); // the same round again (redelivered after a crash): ignored by id
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs).toHaveLength(1);
    expect(jobs[0].name).toBe(ALERT_BATCH_JOB);
    expect(jobs[0].id).toMatch(/^batch\|3\|[A-Za-z0-9_-]{43}$/);
    expect(jobs[0].opts).toMatchObject({ attempts: 8, removeOnComplete: { age: 86400, count: 200000 } });
    const { items } = jobs[0].data as AlertBatchJob;
    expect(items.map((i) => i.id)).toEqual(round.map((j) => alertJobId(j.name, j.data as never)));
    expect(items.map((i) => i.data)).toEqual(round.map((j) => j.data));
    expect((await added('batch')) - batchesBefore).toBe(2);

    // another set of alerts is another batch
    await publisher.publish([round[0], round[2]]);
    expect(await queue.getJobs(['waiting'])).toHaveLength(2);
  });

  it('splits a round with more alerts than a batch holds; a single one left over goes alone', async () => {
    const round = Array.from({ length: 2 * ALERT_BATCH_MAX_ITEMS + 1 }, (_, i) => victim(`c-many-${i}`));
    await publisher.publish(round);
    const jobs = await queue.getJobs(['waiting'], 0, -1, true);
    expect(jobs.map((j) => j.name)).toEqual([ALERT_BATCH_JOB, ALERT_BATCH_JOB, AlertJobName.VictimOnCall]);
    const ids = jobs.flatMap((j) =>
      j.name === ALERT_BATCH_JOB ? (j.data as AlertBatchJob).items.map((i) => i.id) : [j.id],
    );
    expect(ids).toEqual(round.map((j) => alertJobId(j.name, j.data as never)));
  });
});
