import type { LatencySummary } from './histogram';
import { PromSample, scrape } from './observe';

/**
 * Where an alert's time goes (issue 13: "measure every stage with its own histogram"): each app's
 * Prometheus histograms scraped before and after a measurement, the buckets subtracted, and per
 * stage the count, mean and p50/p99 of what happened in between. Quantiles are interpolated inside
 * the bucket that holds them (as Prometheus's histogram_quantile does), so they are only as fine as
 * the buckets; a quantile past the last finite bucket is reported as that bound, flagged `above`.
 */

/**
 * The metrics of every app of a stack at one moment, by app name (detector-1, ingest, ...). An app
 * whose scrape failed is absent.
 */
export type MetricsSnapshot = Map<string, PromSample[]>;

export async function snapshotMetrics(apps: { name: string; url: string }[]): Promise<MetricsSnapshot> {
  const out: MetricsSnapshot = new Map();
  await Promise.all(
    apps.map(async (a) => {
      // an app that does not answer (busy, restarting) is left out rather than failing the run
      const samples = await scrape(a.url).catch(() => null);
      if (samples) out.set(a.name, samples);
    }),
  );
  return out;
}

/** A histogram's cumulative buckets (upper bound -> count), sum and count. */
export interface HistogramData {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

/**
 * One histogram out of a scrape: samples of `metric` whose labels match `filter` (other labels,
 * such as the detector's alert kind, are summed over).
 */
export function histogramOf(
  samples: PromSample[],
  metric: string,
  filter: Record<string, string> = {},
): HistogramData {
  const h: HistogramData = { buckets: new Map(), sum: 0, count: 0 };
  const match = (s: PromSample): boolean => Object.entries(filter).every(([k, v]) => s.labels[k] === v);
  for (const s of samples) {
    if (!s.name.startsWith(metric) || !match(s)) continue;
    if (s.name === `${metric}_bucket`) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      h.buckets.set(le, (h.buckets.get(le) ?? 0) + s.value);
    } else if (s.name === `${metric}_sum`) h.sum += s.value;
    else if (s.name === `${metric}_count`) h.count += s.value;
  }
  return h;
}

export function addHistograms(a: HistogramData, b: HistogramData): HistogramData {
  const buckets = new Map(a.buckets);
  for (const [le, c] of b.buckets) buckets.set(le, (buckets.get(le) ?? 0) + c);
  return { buckets, sum: a.sum + b.sum, count: a.count + b.count };
}

/** after - before, bucket by bucket (a bucket missing before counts from zero; never negative). */
export function subtractHistograms(after: HistogramData, before: HistogramData): HistogramData {
  const buckets = new Map<number, number>();
  for (const [le, c] of after.buckets) buckets.set(le, Math.max(0, c - (before.buckets.get(le) ?? 0)));
  return {
    buckets,
    sum: Math.max(0, after.sum - before.sum),
    count: Math.max(0, after.count - before.count),
  };
}

/**
 * The q-quantile (0..1) from cumulative buckets, linearly interpolated inside its bucket (from the
 * previous bound, 0 for the first). Past the last finite bound: that bound, with `above` set.
 */
export function bucketQuantile(h: HistogramData, q: number): { value: number; above: boolean } {
  const bounds = [...h.buckets.keys()].sort((x, y) => x - y);
  const total = h.buckets.get(Infinity) ?? h.count;
  if (!total || !bounds.length) return { value: 0, above: false };
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const c = h.buckets.get(le) ?? 0;
    if (c >= rank && c > prevCount) {
      if (le === Infinity) return { value: prevBound, above: true };
      return { value: prevBound + ((le - prevBound) * (rank - prevCount)) / (c - prevCount), above: false };
    }
    prevBound = le === Infinity ? prevBound : le;
    prevCount = c;
  }
  return { value: prevBound, above: true };
}

/** What each stage histogram measures; `per` is what one observation is. */
export interface StageSpec {
  /** a short stable name: ingest.ack, detector.read, ..., detector.detection, worker.queue_wait, ... */
  key: string;
  /** app name prefix: `detector` covers every replica (detector-1, detector-2) */
  app: 'ingest' | 'detector' | 'alert-worker';
  metric: string;
  filter?: Record<string, string>;
  stage: string;
  per: 'batch' | 'round' | 'alert' | 'job' | 'change';
  /** on an alert's path from the event to the console (its p50 and mean enter the sum) */
  onPath: boolean;
  /** a detector round stage: also printed as wall time per event of the rounds */
  round?: boolean;
}

export const STAGES: StageSpec[] = [
  {
    app: 'ingest',
    key: 'ingest.ack',
    metric: 'eagleeye_ingest_ack_latency_seconds',
    stage: 'ingest: batch receipt -> ack (validation, durable hand-off)',
    per: 'batch',
    onPath: true,
  },
  ...(['read', 'callers', 'wait', 'finish', 'ack'] as const).map((s): StageSpec => ({
    app: 'detector',
    key: `detector.${s}`,
    metric: 'eagleeye_detector_round_stage_seconds',
    filter: { stage: s },
    stage: `detector round: ${
      {
        read: 'read (XREADGROUP; every poll, empty ones too)',
        callers: 'callers (caller scripts, scoring)',
        wait: "wait (for the previous round's second stage)",
        finish: 'finish (callee scripts, alert jobs enqueued)',
        ack: 'ack (XACK, XDEL, watermarks)',
      }[s]
    }`,
    per: 'round',
    // the ack follows the alert job: not on the alert's path
    onPath: s !== 'ack',
    // a read is timed for every poll, empty ones too (and overlaps the previous round's callers):
    // its time per applied event would be mostly idle
    round: s !== 'read',
  })),
  {
    app: 'detector',
    key: 'detector.detection',
    metric: 'eagleeye_detector_detection_latency_seconds',
    stage: 'detector: ingest accepted -> alert job enqueued',
    per: 'alert',
    onPath: false,
  },
  {
    app: 'alert-worker',
    key: 'worker.queue_wait',
    metric: 'eagleeye_alert_job_stage_seconds',
    filter: { stage: 'queue_wait' },
    stage: 'worker: queue wait (job added -> taken)',
    per: 'job',
    onPath: true,
  },
  {
    // the benchmark's probes raise victim-on-call alerts: their own wait, within the one above
    app: 'alert-worker',
    key: 'worker.queue_wait.victim',
    metric: 'eagleeye_alert_job_stage_seconds',
    filter: { stage: 'queue_wait', job: 'victim-on-call' },
    stage: "worker: queue wait of victim-on-call jobs (the probes' kind)",
    per: 'job',
    onPath: false,
  },
  {
    app: 'alert-worker',
    key: 'worker.postgres',
    metric: 'eagleeye_alert_job_stage_seconds',
    filter: { stage: 'postgres' },
    stage: 'worker: PostgreSQL transaction',
    per: 'job',
    onPath: true,
  },
  {
    app: 'alert-worker',
    key: 'worker.publish',
    metric: 'eagleeye_alert_publish_seconds',
    stage: 'worker: commit -> published to the console rooms',
    per: 'change',
    onPath: true,
  },
];

export interface StageRow {
  key: string;
  app: string;
  stage: string;
  per: StageSpec['per'];
  onPath: boolean;
  count: number;
  meanMs: number;
  /** interpolated from the histogram buckets */
  p50Ms: number;
  p99Ms: number;
  /** the p99 lies past the histogram's last finite bucket: it is at least p99Ms */
  p99Above: boolean;
  /** detector round stages: the stage's wall time over the rounds' events, µs per event */
  usPerEvent?: number;
}

export interface StageBreakdown {
  note: string;
  /** apps scraped at one end of the span only (their figures are left out of every stage) */
  unscraped: string[];
  stages: StageRow[];
  /** events per detector round in the same span */
  roundEvents: { rounds: number; events: number; mean: number; p50: number; p99: number } | null;
  /** the stages on an alert's path added up, against the event -> console latency measured meanwhile */
  path: {
    /** alerts the event -> console latency was measured on */
    measuredCount: number;
    stagesP50Ms: number;
    stagesMeanMs: number;
    measuredP50Ms: number;
    measuredMeanMs: number;
    gapP50Ms: number;
    gapMeanMs: number;
    /**
     * about how long an alert's event waited in the hand-off for a round to read it: the detection
     * latency's p50 (ingest accepted -> alert job enqueued) less the callers, wait and finish p50s;
     * null without alerts in the detection latency
     */
    handoffWaitP50Ms: number | null;
  };
}

const ms = (s: number): number => Math.round(s * 1e6) / 1000;

/**
 * What happened between two snapshots in one histogram, over every process of `spec.app`, taken
 * process by process: only processes scraped both times count (a process missing from one
 * snapshot would otherwise subtract its whole history from the others', or add it), and a process
 * whose count went down was restarted in between: what it has now is all it did since (as
 * Prometheus's rate() takes a counter reset).
 */
function spanOf(
  before: MetricsSnapshot,
  after: MetricsSnapshot,
  spec: Pick<StageSpec, 'app' | 'metric' | 'filter'>,
): HistogramData {
  let h: HistogramData = { buckets: new Map(), sum: 0, count: 0 };
  for (const [name, samples] of after) {
    if (name !== spec.app && !name.startsWith(`${spec.app}-`)) continue;
    const was = before.get(name);
    if (!was) continue;
    const a = histogramOf(samples, spec.metric, spec.filter);
    const b = histogramOf(was, spec.metric, spec.filter);
    h = addHistograms(h, a.count < b.count ? a : subtractHistograms(a, b));
  }
  return h;
}

/** The stage table between two snapshots; `measured` is the event -> console latency of the same span. */
export function stageBreakdown(
  before: MetricsSnapshot,
  after: MetricsSnapshot,
  measured: LatencySummary,
  specs: StageSpec[] = STAGES,
): StageBreakdown {
  const re = spanOf(before, after, { app: 'detector', metric: 'eagleeye_detector_round_events' });
  const stages: StageRow[] = specs.map((s) => {
    const d = spanOf(before, after, s);
    const p99 = bucketQuantile(d, 0.99);
    const row: StageRow = {
      key: s.key,
      app: s.app,
      stage: s.stage,
      per: s.per,
      onPath: s.onPath,
      count: d.count,
      meanMs: d.count ? ms(d.sum / d.count) : 0,
      p50Ms: ms(bucketQuantile(d, 0.5).value),
      p99Ms: ms(p99.value),
      p99Above: p99.above,
    };
    if (s.round && re.sum > 0) row.usPerEvent = Math.round((d.sum / re.sum) * 1e7) / 10;
    return row;
  });
  const path = stages.filter((s) => s.onPath && s.count > 0);
  const r1 = (v: number): number => Math.round(v * 10) / 10;
  const stagesP50Ms = r1(path.reduce((n, s) => n + s.p50Ms, 0));
  const stagesMeanMs = r1(path.reduce((n, s) => n + s.meanMs, 0));
  const byKey = (k: string): StageRow | undefined => stages.find((s) => s.key === k);
  const detection = byKey('detector.detection');
  const roundP50Ms = ['detector.callers', 'detector.wait', 'detector.finish'].reduce(
    (n, k) => n + (byKey(k)?.p50Ms ?? 0),
    0,
  );
  const handoffWaitP50Ms = detection?.count ? r1(Math.max(0, detection.p50Ms - roundP50Ms)) : null;
  return {
    unscraped: [...new Set([...before.keys(), ...after.keys()])].filter(
      (n) => !before.has(n) || !after.has(n),
    ),
    note:
      'per stage: observations between the scrapes before and after; p50/p99 interpolated inside the ' +
      'histogram buckets (as fine as the buckets); round stages are per detector round, the others per ' +
      'batch, alert job or published change',
    stages,
    roundEvents: re.count
      ? {
          rounds: re.count,
          events: re.sum,
          mean: Math.round(re.sum / re.count),
          p50: Math.round(bucketQuantile(re, 0.5).value),
          p99: Math.round(bucketQuantile(re, 0.99).value),
        }
      : null,
    path: {
      measuredCount: measured.count,
      stagesP50Ms,
      stagesMeanMs,
      measuredP50Ms: measured.p50Ms,
      measuredMeanMs: measured.meanMs,
      gapP50Ms: r1(measured.p50Ms - stagesP50Ms),
      gapMeanMs: r1(measured.meanMs - stagesMeanMs),
      handoffWaitP50Ms,
    },
  };
}
