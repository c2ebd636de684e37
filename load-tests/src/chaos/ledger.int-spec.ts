import Redis from 'ioredis';
import { ingestV1 } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  TestSchema,
  uniqueId,
} from '@eagle-eye/testing';
import type { SentEvent } from './carrier';
import type { ConsoleLedger } from './console-ledger';
import { checkLedger } from './ledger';

const { CallEventType } = ingestV1;

/** The checker must see a loss, a double count and a missing alert, or a green table means nothing. */
describe('chaos ledger', () => {
  let redis: Redis;
  let db: TestSchema;
  const prefix = uniqueId('chaosledger');
  const keys = new RedisKeys(prefix);

  beforeAll(async () => {
    redis = await connectTestRedis();
    db = await createTestSchema();
  });
  afterAll(async () => {
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
    await db.drop();
  });

  /** a caller's windows as caller-batch-1.lua leaves them: replay guard and one day bucket */
  async function windows(caller: string, mask: number, attempts: number, answered: number, ended: number) {
    const y = Buffer.alloc(18);
    y.writeUInt16LE(attempts, 0);
    y.writeUInt16LE(answered, 2);
    y.writeUInt16LE(ended, 12);
    await redis.hset(keys.numWindows(caller), `cX${caller}`, `${mask}:0`, 'Y20000', y);
  }

  const call = (caller: string): SentEvent[] =>
    [CallEventType.CALL_ATTEMPT, CallEventType.CALL_ANSWERED, CallEventType.CALL_ENDED].map((type, i) => ({
      id: `c.${caller}.${'ane'[i]}`,
      callId: `c.${caller}`,
      caller,
      type,
      t: 1_000_000 + i * 1000,
    }));

  it('counts lost and double-counted events and missing alerts', async () => {
    await windows('ok', 7, 1, 1, 1);
    await windows('twice', 7, 2, 1, 1);
    await windows('half', 1, 1, 0, 0);
    // the answer held back 10 minutes: older than the attempt by more than lateness, dropped by design
    await windows('late', 5, 1, 0, 0);
    const [attempt, answered, ended] = call('late');
    const late = [attempt, { ...answered, t: attempt.t - 600_000 }, ended];
    const console = { alerts: new Map() } as unknown as ConsoleLedger;
    const r = await checkLedger({
      redis,
      pool: db.pool,
      prefix,
      acked: [...call('ok'), ...call('twice'), ...call('half'), ...call('gone'), ...late],
      unacked: [],
      probeCalls: ['c.ok', 'c.late', 'c.never-answered'],
      latenessMs: 120_000,
      console,
    });
    expect(r.eventsAcked).toBe(15);
    expect(r.eventsLate).toBe(1);
    expect(r.eventsLost).toBe(2 + 3);
    expect(r.eventsDoubleCounted).toBe(1);
    expect(r.alertsExpected).toBe(1);
    expect(r.alertsPersisted).toBe(0);
    expect(r.alertsDelivered).toBe(0);
    expect(r.alertJobsStuck).toBe(0);
    expect(r.violations).toHaveLength(4);
  });
});
