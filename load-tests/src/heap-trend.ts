const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

export interface HeapTrend {
  app: string;
  samples: number;
  /** minimum heap used in the first and last window after warm-up (the live set, after GCs) */
  firstWindowMinMiB: number;
  lastWindowMinMiB: number;
  growthMiB: number;
  growthPct: number;
  /**
   * the live set (the apps' eagleeye_heap_live_bytes: the heap outside the young generation right
   * after the last full collection), median of each window's samples, first and last window, when
   * the samples carry it: the verdict's basis then, the windows' minima only shown
   */
  liveFirstMiB?: number;
  liveLastMiB?: number;
  liveGrowthMiB?: number;
  /** least-squares slope of all samples after warm-up */
  slopeMiBPerMin: number;
  maxMiB: number;
  rssLastMiB: number;
  flat: boolean;
  /**
   * full (mark-compact) collections inside each window, when the samples carry the app's count of
   * them: a window without one has old-generation garbage in every sample, so its minimum
   * overstates the live set
   */
  majorGcsPerWindow?: number[];
  /**
   * the verdict cannot stand: the live set seems to grow, but the last window had no full
   * collection (its minimum is not a live set)
   */
  undecided?: boolean;
  /** the samples (seconds since the first, heap used in MiB), for a reader to see the sawtooth */
  series: [number, number][];
}

/** Heap trend: minima per window (the live set between collections), growth and slope. */
export function heapTrend(
  app: string,
  samples: { t: number; used: number; rss: number; majorGcs?: number; live?: number }[],
  windows: number,
): HeapTrend {
  const warm = samples.slice(Math.floor(samples.length * 0.1));
  const w = Math.max(1, Math.min(windows, warm.length));
  const size = Math.max(1, Math.floor(warm.length / w));
  const mins: number[] = [];
  const gcs: number[] = [];
  /** median live set per window (NaN: no sample of the window had one yet) */
  const lives: number[] = [];
  const counted = warm.length > 0 && warm.every((x) => x.majorGcs !== undefined);
  for (let i = 0; i < w; i++) {
    const from = i * size;
    const part = warm.slice(from, i === w - 1 ? warm.length : (i + 1) * size);
    if (!part.length) continue;
    mins.push(Math.min(...part.map((s) => s.used)));
    lives.push(median(part.map((s) => s.live ?? 0).filter((v) => v > 0)));
    // collections since the sample before the window (or its first sample)
    const before = warm[Math.max(0, from - 1)];
    if (counted) gcs.push((part[part.length - 1].majorGcs as number) - (before.majorGcs as number));
  }
  const first = mins[0] ?? 0;
  const last = mins[mins.length - 1] ?? 0;
  let slope = 0;
  if (warm.length >= 2) {
    const t0 = warm[0].t;
    const xs = warm.map((s) => (s.t - t0) / 60000);
    const ys = warm.map((s) => s.used / 2 ** 20);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
    const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    slope = den > 0 ? num / den : 0;
  }
  const growth = last - first;
  const grew = (from: number, to: number) => to - from >= Math.max(from * 0.1, 4 * 2 ** 20);
  const liveFirst = lives[0] ?? NaN;
  const liveLast = lives[lives.length - 1] ?? NaN;
  const byLive = Number.isFinite(liveFirst) && Number.isFinite(liveLast);
  const flat = byLive ? !grew(liveFirst, liveLast) : !grew(first, last);
  const t0 = samples[0]?.t ?? 0;
  return {
    app,
    samples: samples.length,
    firstWindowMinMiB: mib(first),
    lastWindowMinMiB: mib(last),
    growthMiB: mib(growth),
    growthPct: first > 0 ? Math.round((growth / first) * 1000) / 10 : 0,
    slopeMiBPerMin: Math.round(slope * 100) / 100,
    ...(byLive
      ? { liveFirstMiB: mib(liveFirst), liveLastMiB: mib(liveLast), liveGrowthMiB: mib(liveLast - liveFirst) }
      : {}),
    maxMiB: mib(Math.max(0, ...samples.map((s) => s.used))),
    rssLastMiB: mib(samples[samples.length - 1]?.rss ?? 0),
    // "Flat": the live set after warm-up grew by less than 10 % (or 4 MiB) over the soak: as the
    // apps report it after their full collections when they do, else the windows' minima of the
    // heap in use.
    flat,
    ...(counted ? { majorGcsPerWindow: gcs, undecided: !flat && gcs[gcs.length - 1] === 0 } : {}),
    series: samples.map((x) => [Math.round((x.t - t0) / 100) / 10, mib(x.used)]),
  };
}

/** The median of `xs` (NaN when empty). */
function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
