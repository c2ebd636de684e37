import * as hdr from 'hdr-histogram-js';

/**
 * Latencies are recorded in microseconds in an HdrHistogram (3 significant digits, auto-resizing),
 * so a p99.9 over millions of samples costs a few kilobytes and merges exactly across processes.
 */
export type LatencyHistogram = hdr.Histogram;

export function newHistogram(): LatencyHistogram {
  return hdr.build({ bitBucketSize: 64, autoResize: true, numberOfSignificantValueDigits: 3 });
}

/** Records a duration in milliseconds (fractions kept to the microsecond); negatives clamp to 0. */
export function recordMs(h: LatencyHistogram, ms: number): void {
  h.recordValue(Math.max(0, Math.round(ms * 1000)));
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

const r3 = (us: number): number => Math.round(us) / 1000;

export function summarise(h: LatencyHistogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  return {
    count: h.totalCount,
    meanMs: r3(h.mean),
    p50Ms: r3(h.getValueAtPercentile(50)),
    p90Ms: r3(h.getValueAtPercentile(90)),
    p99Ms: r3(h.getValueAtPercentile(99)),
    p999Ms: r3(h.getValueAtPercentile(99.9)),
    maxMs: r3(h.maxValue),
  };
}

export function encodeHistogram(h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(s, 64, false);
}
