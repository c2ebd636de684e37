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

  it('counts full collections per window and will not call growth without one in the last window', () => {
    // a floor that rises, and full collections in every window but the last
    const samples = saw(10, 60, 2).map((x) => ({ ...x, majorGcs: Math.min(Math.floor(x.t / 30_000), 15) }));
    const t = heapTrend('detector', samples, 5);
    expect(t.majorGcsPerWindow).toHaveLength(5);
    expect(t.majorGcsPerWindow?.[4]).toBe(0);
    expect(t.majorGcsPerWindow?.slice(0, 3).every((n) => n > 0)).toBe(true);
    expect(t.flat).toBe(false);
    expect(t.undecided).toBe(true);
    // with a collection in the last window the growth stands
    const collected = saw(10, 60, 2).map((x) => ({ ...x, majorGcs: Math.floor(x.t / 30_000) }));
    expect(heapTrend('detector', collected, 5).undecided).toBe(false);
    // without counts: no verdict on collections at all
    expect(heapTrend('detector', saw(10, 60, 2), 5).undecided).toBeUndefined();
    expect(t.series[1]).toEqual([5, 63.2]);
  });

  it("judges by the apps' live set after full collections when the samples carry it", () => {
    // heap in use: a floor that rises 2 MiB a minute (garbage kept longer); the live set after each
    // full collection (every 30 s) stays at 50 MiB, with noise
    const samples = saw(10, 60, 2).map((x) => {
      const gc = Math.floor(x.t / 30_000);
      return { ...x, majorGcs: gc, live: (50 + (gc % 3) - 1) * MiB };
    });
    const t = heapTrend('detector', samples, 5);
    expect(t.flat).toBe(true);
    expect(t.growthMiB).toBeGreaterThan(10);
    expect(t.liveFirstMiB).toBeCloseTo(50, 0);
    expect(Math.abs(t.liveGrowthMiB as number)).toBeLessThanOrEqual(1);
    // a live set that grows is called so, whatever the heap in use does
    const leaking = saw(10, 60, 0).map((x) => {
      const gc = Math.floor(x.t / 30_000);
      return { ...x, majorGcs: gc, live: (40 + gc) * MiB };
    });
    const l = heapTrend('detector', leaking, 5);
    expect(l.growthMiB).toBe(0);
    expect(l.flat).toBe(false);
    expect(l.undecided).toBe(false);
    expect(l.liveGrowthMiB).toBeGreaterThan(10);
    // samples before the first full collection (live 0) are left out of the medians
    const early = leaking.map((x, i) => (i < 20 ? { ...x, live: 0 } : x));
    expect(heapTrend('detector', early, 5).liveFirstMiB).toBeGreaterThan(40);
  });

  it('copes with few samples', () => {
    expect(heapTrend('console', [], 5).samples).toBe(0);
    expect(heapTrend('console', saw(0, 50, 0), 5).firstWindowMinMiB).toBe(50);
  });
});
