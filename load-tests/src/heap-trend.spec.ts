import { heapTrend } from './heap-trend';

const MiB = 2 ** 20;
/** A sawtooth heap (allocate, collect) whose floor rises by `leakPerMin` MiB a minute. */
function saw(minutes: number, floorMiB: number, leakPerMin: number) {
  const out = [];
  for (let s = 0; s <= minutes * 60; s += 5) {
    const floor = floorMiB + (leakPerMin * s) / 60;
    out.push({ t: s * 1000, used: (floor + ((s / 5) % 6) * 3) * MiB, rss: 200 * MiB });
  }
  return out;
}

describe('heap trend over a soak', () => {
  it('calls a sawtooth with a steady floor flat', () => {
    const t = heapTrend('ingest', saw(10, 60, 0), 5);
    expect(t.flat).toBe(true);
    expect(t.growthMiB).toBe(0);
    expect(t.firstWindowMinMiB).toBe(60);
    expect(Math.abs(t.slopeMiBPerMin)).toBeLessThan(0.5);
  });

  it('sees a floor that keeps rising', () => {
    const t = heapTrend('detector', saw(10, 60, 2), 5);
    expect(t.flat).toBe(false);
    expect(t.growthMiB).toBeGreaterThan(10);
    expect(t.slopeMiBPerMin).toBeGreaterThan(1.5);
  });

  it('copes with few samples', () => {
    expect(heapTrend('console', [], 5).samples).toBe(0);
    expect(heapTrend('console', saw(0, 50, 0), 5).firstWindowMinMiB).toBe(50);
  });
});
