import Redis from 'ioredis';
import { connectTestRedis, dropRedisPrefix, uniqueId } from '@eagle-eye/testing';
import { migrateKeyLayout, target } from './key-layout';
import { RedisKeys } from './keys';

describe('key layout migration (one hash tag per number -> key groups)', () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(async () => {
    redis = await connectTestRedis();
  });
  beforeEach(() => {
    prefix = uniqueId('kl');
  });
  afterEach(async () => {
    await dropRedisPrefix(redis, prefix);
  });
  afterAll(() => redis.disconnect());

  it('names the new place of every per-number and per-handset key, and of nothing else', () => {
    const keys = new RedisKeys(prefix, 16);
    const tok = 'p1.t.AbCdEf_-0123456789abcd';
    expect(target(keys, `${prefix}:{n:${tok}}:w`)).toBe(keys.numWindows(tok));
    expect(target(keys, `${prefix}:{n:${tok}}:x20500`)).toBe(keys.numDistinct(tok, 20500));
    expect(target(keys, `${prefix}:{d:${tok}}:s`)).toBe(keys.deviceSims(tok));
    const other = new RedisKeys(prefix, 64);
    expect(target(keys, other.numLists(tok))).toBe(keys.numLists(tok));
    expect(target(keys, keys.numLists(tok))).toBe(keys.numLists(tok));
    expect(target(keys, keys.handoffStream(3))).toBeNull();
    expect(target(keys, keys.detectorDue(0))).toBeNull();
    expect(target(keys, `other:{n:${tok}}:w`)).toBeNull();
  });

  it('moves keys of the earlier layout and of another group count, keeps TTLs, merges into keys written since', async () => {
    const keys = new RedisKeys(prefix, 8);
    const a = 'p1.t.aaaaaaaaaaaaaaaaaaaaaa';
    const g64 = new RedisKeys(prefix, 64);
    // a number whose group differs between 64 and 8 groups (most do)
    const b = ['b', 'c', 'd', 'e', 'f', 'g']
      .map((c) => `p1.t.${c.repeat(22)}`)
      .find((t) => g64.keyGroup(t) !== keys.keyGroup(t)) as string;
    const dev = 'p1.d.cccccccccccccccccccccc';
    // earlier layout: windows hash with a TTL, a day's HyperLogLog, the lists mirror, a handset
    await redis.hset(`${prefix}:{n:${a}}:w`, 'wm', '1000', 'fs', '900');
    await redis.expire(`${prefix}:{n:${a}}:w`, 5000);
    await redis.pfadd(`${prefix}:{n:${a}}:x20500`, 'x', 'y', 'z');
    await redis.hset(`${prefix}:{n:${a}}:l`, '*', 'black|0|reported', 'carrier-a', 'gray|0|old');
    await redis.pfadd(`${prefix}:{d:${dev}}:s`, 's1', 's2');
    // the lists mirror of b was written again since the upgrade, in the new layout: merged, the newer entry kept
    await redis.hset(`${prefix}:{n:${b}}:l`, '*', 'gray|0|old', 'carrier-b', 'white|0|kept');
    await redis.hset(keys.numLists(b), '*', 'black|0|new');
    // a key of a 64-group layout
    await redis.hset(g64.numFamiliar(b), 'someone', '1');

    const lines: string[] = [];
    const r = await migrateKeyLayout(redis, keys, (l) => lines.push(l));
    expect(r).toMatchObject({ layout: 'g8', current: false, moved: 5, merged: 1 });

    expect(await redis.hgetall(keys.numWindows(a))).toEqual({ wm: '1000', fs: '900' });
    const ttl = await redis.ttl(keys.numWindows(a));
    expect(ttl).toBeGreaterThan(4900);
    expect(ttl).toBeLessThanOrEqual(5000);
    expect(await redis.pfcount(keys.numDistinct(a, 20500))).toBe(3);
    expect(await redis.hget(keys.numLists(a), '*')).toBe('black|0|reported');
    expect(await redis.pfcount(keys.deviceSims(dev))).toBe(2);
    expect(await redis.hgetall(keys.numLists(b))).toEqual({
      '*': 'black|0|new',
      'carrier-b': 'white|0|kept',
    });
    expect(await redis.hget(keys.numFamiliar(b), 'someone')).toBe('1');
    // nothing of the old layouts is left
    expect(await redis.keys(`${prefix}:{n:*`)).toEqual([]);
    expect(await redis.keys(`${prefix}:{d:*`)).toEqual([]);
    expect(await redis.exists(g64.numFamiliar(b))).toBe(0);

    // the layout is recorded: the next start checks one key
    expect(await migrateKeyLayout(redis, keys)).toMatchObject({ current: true, scanned: 0 });
  });

  it('moves thousands of keys a page at a time, merges two old keys of one number, reports progress', async () => {
    const keys = new RedisKeys(prefix, 4);
    const g64 = new RedisKeys(prefix, 64);
    const toks = Array.from({ length: 3000 }, (_, i) => `p1.t.${String(i).padStart(22, '0')}`);
    const p = redis.pipeline();
    for (const [i, t] of toks.entries()) {
      p.set(g64.numState(t), Buffer.from([i & 255, 1, 2, 3]), 'PX', 3_600_000);
      p.hset(g64.numFamiliar(t), `c${i}`, '1');
    }
    // the first 100 numbers also kept a familiarity hash of the one-hash-tag layout
    for (const [i, t] of toks.slice(0, 100).entries()) p.hset(`${prefix}:{n:${t}}:f`, `old${i}`, '1');
    // number 0's state was written again under the new name since: the newer copy stays
    p.set(keys.numState(toks[0]), 'newer');
    await p.exec();
    const stay = toks.filter((t) => g64.keyGroup(t) === keys.keyGroup(t)).length;

    const lines: string[] = [];
    const r = await migrateKeyLayout(redis, keys, (l) => lines.push(l), { progressMs: 0 });
    // every moved or merged key is counted once; a key whose group is the same under both counts stays
    expect(r.moved + r.merged).toBe(2 * (3000 - stay) + 100);
    // one of each number's two familiarity hashes merges into the other; number 0's old state into the newer
    expect(r.merged).toBe(100 + (g64.keyGroup(toks[0]) === keys.keyGroup(toks[0]) ? 0 : 1));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]).toMatch(
      /^key layout g4: [\d,]+ keys scanned, [\d,]+ moved, [\d,]+ merged \([\d,]+ keys\/s\)$/,
    );

    for (const [i, t] of toks.entries()) {
      const fam = await redis.hgetall(keys.numFamiliar(t));
      expect(fam).toEqual(i < 100 ? { [`c${i}`]: '1', [`old${i}`]: '1' } : { [`c${i}`]: '1' });
      if (i === 0) continue;
      expect(await redis.getBuffer(keys.numState(t))).toEqual(Buffer.from([i & 255, 1, 2, 3]));
      expect(await redis.pttl(keys.numState(t))).toBeGreaterThan(3_500_000);
    }
    expect(await redis.get(keys.numState(toks[0]))).toBe('newer');
    const left = await redis.keys(`${prefix}:{*`);
    expect(left.filter((k) => !k.startsWith(`${prefix}:{g`) || target(keys, k) !== k).sort()).toEqual([
      keys.keyLayout(),
    ]);
  });

  it('waits for a migration in progress, and takes over when its lease runs out', async () => {
    const keys = new RedisKeys(prefix, 4);
    const t = 'p1.t.zzzzzzzzzzzzzzzzzzzzzz';
    await redis.hset(`${prefix}:{n:${t}}:f`, 'a', '1');
    // a migrator that died holding a short lease
    await redis.set(`${keys.keyLayout()}:lock`, 'dead.process', 'PX', 1500);
    const lines: string[] = [];
    const t0 = Date.now();
    const r = await migrateKeyLayout(redis, keys, (l) => lines.push(l), { progressMs: 200 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(r).toMatchObject({ moved: 1, merged: 0 });
    expect(lines.some((l) => /waiting for another process's migration/.test(l))).toBe(true);
    expect(await redis.hgetall(keys.numFamiliar(t))).toEqual({ a: '1' });
    // the lease is given back
    expect(await redis.exists(`${keys.keyLayout()}:lock`)).toBe(0);
  });
});
