import Redis from 'ioredis';
import { ingestV1 } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { CallerState, LONG_CALL_S } from '@eagle-eye/scoring';
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

  /** the same windows as the detector's string leaves them (DETECTOR_CALLER_WINDOWS=node) */
  async function stateOf(caller: string, types: ('A' | 'N' | 'E')[]) {
    const s = new CallerState({ latenessMs: 120_000, longCallS: LONG_CALL_S });
    let t = 1_000_000;
    for (const type of types)
      s.apply({
        t: (t += 1000),
        type,
        call: 'x',
        talkS: type === 'E' ? 30 : 0,
        shortCallS: 10,
        region: '',
        device: '',
        newDistinct: false,
        newEver: false,
      });
    await redis.set(keys.numState(caller), s.encode());
  }

  it.each(['script', 'node'])(
    'counts lost and double-counted events and missing alerts (%s windows)',
    async (mode) => {
      if (mode === 'script') {
        await windows('ok', 7, 1, 1, 1);
        await windows('twice', 7, 2, 1, 1);
        await windows('half', 1, 1, 0, 0);
        // the answer held back 10 minutes: older than the attempt by more than lateness, dropped by design
        await windows('late', 5, 1, 0, 0);
      } else {
        await dropRedisPrefix(redis, prefix);
        await stateOf('ok', ['A', 'N', 'E']);
        // a whole call and one more attempt: an attempt counted twice
        await redis.set(keys.numState('twice'), twice());
        await stateOf('half', ['A']);
        await stateOf('late', ['A', 'E']);
      }
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
    },
  );

  /** one call applied fully, and an attempt once more under another guard */
  function twice(): Buffer {
    const s = new CallerState({ latenessMs: 120_000, longCallS: LONG_CALL_S });
    const base = { talkS: 0, shortCallS: 10, region: '', device: '', newDistinct: false, newEver: false };
    s.apply({ ...base, t: 1_001_000, type: 'A', call: 'x' });
    s.apply({ ...base, t: 1_002_000, type: 'N', call: 'x' });
    s.apply({ ...base, t: 1_003_000, type: 'E', call: 'x', talkS: 30 });
    s.apply({ ...base, t: 1_004_000, type: 'A', call: 'y' });
    return s.encode();
  }
});
