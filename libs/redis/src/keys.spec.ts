import { baseSchema, loadConfig } from '@eagle-eye/config';
import { DEFAULT_KEY_GROUPS, keyGroupOf, RedisKeys } from './keys';

describe('RedisKeys key groups', () => {
  const tokens = Array.from({ length: 20_000 }, (_, i) => `p1.t.${i.toString(36).padStart(22, 'x')}`);

  it('puts every key of one number (and of one handset) under its group tag', () => {
    const keys = new RedisKeys('ee', 16);
    const t = tokens[7];
    const tag = `{g${keys.keyGroup(t)}}`;
    for (const k of [
      keys.numWindows(t),
      keys.numDistinct(t, 20500),
      keys.numFamiliar(t),
      keys.numCallee(t),
      keys.numLists(t),
    ])
      expect(k.startsWith(`ee:${tag}:n:${t}:`)).toBe(true);
    expect(keys.deviceSims(t)).toBe(`ee:${tag}:d:${t}:s`);
    expect(keys.groupStem(keys.keyGroup(t))).toBe(`ee:${tag}:`);
  });

  it('spreads numbers evenly over the groups, the same way in every release', () => {
    for (const groups of [DEFAULT_KEY_GROUPS, 7]) {
      const counts = new Array<number>(groups).fill(0);
      for (const t of tokens) counts[keyGroupOf(t, groups)]++;
      const mean = tokens.length / groups;
      expect(Math.min(...counts)).toBeGreaterThan(mean * 0.8);
      expect(Math.max(...counts)).toBeLessThan(mean * 1.2);
    }
    // pinned: a deployment's keys must not move between releases (a change needs a key migration)
    expect(keyGroupOf('p1.t.aaaaaaaaaaaaaaaaaaaaaa', 64)).toBe(8);
    expect(keyGroupOf('p1.t.bbbbbbbbbbbbbbbbbbbbbb', 64)).toBe(2);
  });

  it('refuses a group count Redis Cluster cannot hold', () => {
    expect(() => new RedisKeys('ee', 0)).toThrow(/1 to 16384/);
    expect(() => new RedisKeys('ee', 16385)).toThrow(/1 to 16384/);
    expect(() => new RedisKeys('ee', 2.5)).toThrow(/1 to 16384/);
    expect(new RedisKeys('ee').groups).toBe(DEFAULT_KEY_GROUPS);
  });

  it("uses the configuration's default group count (REDIS_KEY_GROUPS unset)", () => {
    const config = loadConfig(baseSchema.pick({ REDIS_KEY_GROUPS: true }), {});
    expect(config.REDIS_KEY_GROUPS).toBe(DEFAULT_KEY_GROUPS);
  });
});
