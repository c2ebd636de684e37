import { TimeWarp } from './runner';

describe('TimeWarp', () => {
  it('maps simulated time to the wall clock and back, with a faster tail', () => {
    const tw = new TimeWarp(1_000_000, 5_000, 60, { fromSimMs: 1_000_000 + 600_000, warp: 600 });
    expect(tw.wallFor(1_000_000)).toBe(5_000);
    expect(tw.wallFor(1_060_000)).toBe(6_000); // a simulated minute is a wall second
    expect(tw.wallFor(1_600_000)).toBe(15_000); // the horizon
    expect(tw.wallFor(1_660_000)).toBe(15_100); // tail: ten times faster
    for (const sim of [1_000_000, 1_030_000, 1_600_000, 1_700_000])
      expect(tw.simAt(tw.wallFor(sim))).toBeCloseTo(sim, 6);
  });

  it('warp 0 sends at once', () => {
    const tw = new TimeWarp(0, 100, 0);
    expect(tw.wallFor(1e12)).toBe(100);
    expect(tw.simAt(200)).toBe(Infinity);
  });
});
