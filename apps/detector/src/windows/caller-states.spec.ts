import { RedisKeys } from '@eagle-eye/redis';
import { CallerState } from '@eagle-eye/scoring';
import type { DetectorScripts } from '../lua/detector-scripts';
import { CallerStates } from './caller-states';

/** firstOfDay touches no Redis: the states are built without scripts. */
function states(maxHeld: number): CallerStates {
  return new CallerStates(
    null as unknown as DetectorScripts,
    new RedisKeys('unit'),
    {
      latenessMs: 120_000,
      longCallS: 1200,
      historyTtlS: 8 * 86400,
      familiarTtlS: 30 * 86400,
      maxHeld,
    },
    (_fields, opts) => new CallerState(opts),
  );
}

describe('CallerStates.firstOfDay (the familiarity TTL of the notes script, set once per number and day)', () => {
  const DAY = 20_420;

  it('is true once per number and UTC day, and again on the next day', () => {
    const s = states(100);
    expect(s.firstOfDay('n1', DAY)).toBe(true);
    expect(s.firstOfDay('n1', DAY)).toBe(false);
    expect(s.firstOfDay('n2', DAY)).toBe(true);
    // a late attempt of the day before is that day's first: the TTL is set once more
    expect(s.firstOfDay('n1', DAY - 1)).toBe(true);
    expect(s.firstOfDay('n1', DAY + 1)).toBe(true);
    expect(s.firstOfDay('n1', DAY + 1)).toBe(false);
  });

  it('forgets a number of a day again when the notes that were to set its TTLs failed', () => {
    const s = states(100);
    expect(s.firstOfDay('n1', DAY)).toBe(true);
    s.forgetFirstOfDay('n1', DAY);
    expect(s.firstOfDay('n1', DAY)).toBe(true);
    expect(s.firstOfDay('n1', DAY)).toBe(false);
    // another day's mark stays
    s.forgetFirstOfDay('n1', DAY - 1);
    expect(s.firstOfDay('n1', DAY)).toBe(false);
  });

  it('remembers a bounded number of numbers over a day of many callers, the most recent ones', () => {
    const s = states(50_000);
    let first = 0;
    for (let i = 0; i < 500_000; i++) if (s.firstOfDay(`n${i}`, DAY)) first++;
    expect(first).toBe(500_000);
    // two generations of 50,000 at most, not the day's 500,000
    expect(s.ttlRemembered).toBeLessThanOrEqual(100_000);
    expect(s.ttlRemembered).toBeGreaterThanOrEqual(50_000);
    // the last 50,000 are known; one forgotten long ago gets its TTLs set once more
    let again = 0;
    for (let i = 450_000; i < 500_000; i++) if (s.firstOfDay(`n${i}`, DAY)) again++;
    expect(again).toBe(0);
    expect(s.firstOfDay('n1', DAY)).toBe(true);
    expect(s.firstOfDay('n1', DAY)).toBe(false);
  });

  it('keeps at least 10,000 numbers when none are held', () => {
    const s = states(0);
    for (let i = 0; i < 30_000; i++) s.firstOfDay(`n${i}`, DAY);
    let again = 0;
    for (let i = 20_000; i < 30_000; i++) if (s.firstOfDay(`n${i}`, DAY)) again++;
    expect(again).toBe(0);
    expect(s.ttlRemembered).toBeLessThanOrEqual(20_000);
  });
});
