import Redis from 'ioredis';
import { unpackEvents } from '@eagle-eye/contracts';
import { defaultRule, ResolvedRules, RULE_IDS } from '@eagle-eye/rules';
import { DesignB, designA, designB, dropPrefix, HOUR, hourOfTraffic, rounds } from './design-b';

const rules = Object.fromEntries(RULE_IDS.map((id) => [id, defaultRule(id)])) as ResolvedRules;
const START = Date.UTC(2026, 10, 24, 8);

describe('design B: the caller stage with windows in the detector, against the live scripts (real Redis)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 2 });
  });
  afterAll(() => redis.disconnect());

  it('scores every event of an hour as caller-batch-1.lua does, holding its numbers or reading them back each round', async () => {
    // a warm-up hour gives every number history; then the measured hour, in 2,000-event rounds
    const warm = rounds(hourOfTraffic(300, START));
    const measured = rounds(hourOfTraffic(300, START + HOUR));
    const a = await designA(redis, warm, measured, rules);
    const cold = await designB(redis, warm, measured, rules, START, false);
    const owned = await designB(redis, warm, measured, rules, START, true);
    const scored = a.scores.filter((x) => !Number.isNaN(x));
    expect(scored.length).toBeGreaterThan(1500);
    // the fan-out number's calls score: the comparison is not of zeros only
    expect(scored.filter((x) => x > 0).length).toBeGreaterThan(50);
    expect(a.suspects).toBeGreaterThan(0);
    expect(cold.scores).toEqual(a.scores);
    expect(owned.scores).toEqual(a.scores);
    expect(cold.suspects).toBe(a.suspects);
    expect(owned.suspects).toBe(a.suspects);
    expect(owned.stateBytes).toBeLessThan(1024);
  });

  it('writes nothing for a key group whose lease another replica took (fencing)', async () => {
    const b = new DesignB(redis, rules, START, true);
    await b.init();
    const [first, second] = rounds(hourOfTraffic(300, START));
    await b.round(unpackEvents(first));
    try {
      const group = 5;
      const stem = b.keys.groupStem(group);
      const stateKeys = (await redis.keys(`${stem}n:*:s`)).sort();
      expect(stateKeys.length).toBeGreaterThan(0);
      const before = await redis.mgetBuffer(...stateKeys);
      await redis.set(b.leaseKey(group), 'another-replica');
      await expect(b.round(unpackEvents(second))).rejects.toThrow(/lost the lease of key group 5/);
      expect(await redis.mgetBuffer(...stateKeys)).toEqual(before);
      // the groups it still holds were written
      const other = (await redis.keys(`${b.keys.groupStem(6)}n:*:s`)).length;
      expect(other).toBeGreaterThan(0);
    } finally {
      await dropPrefix(redis, b.keys.prefix);
    }
  });
});
