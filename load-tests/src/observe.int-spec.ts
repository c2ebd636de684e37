import { connectTestRedis, testRedisUrl, uniqueId } from '@eagle-eye/testing';
import Redis from 'ioredis';
import { RedisObserver, stallsLine } from './observe';

/**
 * The benchmark's account of Redis stalls, on the test Redis: a fresh append-only file to start
 * from, and a command that holds Redis up showing in the span's latency events, once.
 */
describe('RedisObserver stalls', () => {
  let redis: Redis;
  let obs: RedisObserver;
  beforeAll(async () => {
    redis = await connectTestRedis();
    obs = new RedisObserver(testRedisUrl(), uniqueId('st'), 4);
  });
  afterAll(async () => {
    await redis.config('SET', 'latency-monitor-threshold', '0');
    obs.close();
    redis.disconnect();
  });

  const rewrites = async (): Promise<number> =>
    Number(/aof_rewrites:(\d+)/.exec(await redis.info('persistence'))?.[1] ?? 0);

  it('starts from a rewritten append-only file and reports a slow command once, with its length', async () => {
    const before = await rewrites();
    await obs.startStallWatch(5);
    expect(await rewrites()).toBeGreaterThan(before);
    expect(await redis.info('persistence')).toMatch(/aof_rewrite_in_progress:0/);
    expect((await redis.config('GET', 'latency-monitor-threshold'))[1]).toBe('5');

    const start = await obs.stalls();
    // a script that keeps Redis busy for about 40 ms (TIME inside a script is the current time)
    await redis.eval(
      `local t0 = redis.call('TIME')
       local function ms(t) return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 end
       local s = ms(t0)
       while ms(redis.call('TIME')) - s < 40 do end
       return 1`,
      0,
    );
    const span = await obs.stalls(start.aofRewritesTotal);
    expect(span.aofRewrites).toBe(0);
    expect(span.aofRewriteInProgress).toBe(false);
    expect(stallsLine({ ...span, aofRewriteAtStart: true })).toMatch(
      /AOF rewrites 0 \(and one running as the level started\)$/,
    );
    expect(span.events.command?.seconds).toBeGreaterThanOrEqual(1);
    expect(span.events.command?.maxMs).toBeGreaterThanOrEqual(35);
    expect(stallsLine(span)).toMatch(/command \d+ s \(max \d+ ms\); AOF rewrites 0$/);
    // read once: the next span starts clean (another suite's stall could land in it, never this one)
    const next = await obs.stalls(span.aofRewritesTotal);
    expect(next.events.command?.maxMs ?? 0).toBeLessThan(span.events.command?.maxMs ?? 0);
  });
});
