import { parseProm, PromSample } from './observe';
import {
  bucketQuantile,
  histogramOf,
  MetricsSnapshot,
  STAGES,
  stageBreakdown,
  subtractHistograms,
} from './stages';

/** A Prometheus histogram in the text exposition, as prom-client writes it. */
function prom(metric: string, labels: string, buckets: [string, number][], sum: number): string {
  const l = labels ? `${labels},` : '';
  const lines = buckets.map(([le, c]) => `${metric}_bucket{${l}le="${le}"} ${c}`);
  const count = buckets[buckets.length - 1][1];
  lines.push(`${metric}_sum${labels ? `{${labels}}` : ''} ${sum}`);
  lines.push(`${metric}_count${labels ? `{${labels}}` : ''} ${count}`);
  return lines.join('\n');
}

/** `n` observations of `each` seconds, all in the bucket (lo, hi]. */
function within(metric: string, labels: string, lo: string, hi: string, n: number, each: number): string {
  return prom(
    metric,
    labels,
    [
      [lo, 0],
      [hi, n],
      ['+Inf', n],
    ],
    n * each,
  );
}

const LATENCY = { count: 10, meanMs: 60, p50Ms: 50, p90Ms: 80, p99Ms: 90, p999Ms: 90, maxMs: 90 };

describe('stage histograms between two scrapes', () => {
  it('interpolates a quantile inside the bucket that holds it', () => {
    const h = histogramOf(
      parseProm(
        prom(
          'x_seconds',
          '',
          [
            ['0.01', 0],
            ['0.1', 100],
            ['1', 200],
            ['+Inf', 200],
          ],
          30,
        ),
      ),
      'x_seconds',
    );
    // the 50th of 200 is halfway through the (0.01, 0.1] bucket
    expect(bucketQuantile(h, 0.25).value).toBeCloseTo(0.055, 6);
    // the 150th: halfway through (0.1, 1]
    expect(bucketQuantile(h, 0.75).value).toBeCloseTo(0.55, 6);
    expect(bucketQuantile(h, 0.99).above).toBe(false);
  });

  it('flags a quantile past the last finite bucket and gives that bound', () => {
    const h = histogramOf(
      parseProm(
        prom(
          'x_seconds',
          '',
          [
            ['0.5', 90],
            ['1', 95],
            ['+Inf', 100],
          ],
          80,
        ),
      ),
      'x_seconds',
    );
    expect(bucketQuantile(h, 0.99)).toEqual({ value: 1, above: true });
    expect(bucketQuantile(h, 0.5)).toEqual({ value: (0.5 * 50) / 90, above: false });
  });

  it('keeps only the observations made between the scrapes, per label and summed over other labels', () => {
    const text = (a: number, b: number): string =>
      [
        prom(
          'eagleeye_detector_round_stage_seconds',
          'stage="read"',
          [
            ['0.001', a],
            ['0.01', a + b],
            ['+Inf', a + b],
          ],
          a * 0.0005 + b * 0.005,
        ),
        prom(
          'eagleeye_detector_round_stage_seconds',
          'stage="callers"',
          [
            ['0.001', 0],
            ['0.01', 1000],
            ['+Inf', 1000],
          ],
          5,
        ),
      ].join('\n');
    const before = histogramOf(parseProm(text(10, 0)), 'eagleeye_detector_round_stage_seconds', {
      stage: 'read',
    });
    const after = histogramOf(parseProm(text(10, 40)), 'eagleeye_detector_round_stage_seconds', {
      stage: 'read',
    });
    const d = subtractHistograms(after, before);
    expect(d.count).toBe(40);
    expect(d.sum).toBeCloseTo(40 * 0.005, 9);
    // all 40 new observations lie in (0.001, 0.01]: the median is halfway through it
    expect(bucketQuantile(d, 0.5).value).toBeCloseTo(0.0055, 9);
  });

  it('sizes the hand-off wait from the detection latency less the round stages up to the enqueue', () => {
    const det = (alerts: number, rounds: number): MetricsSnapshot =>
      new Map([
        [
          'detector-1',
          parseProm(
            [
              within(
                'eagleeye_detector_detection_latency_seconds',
                'kind="suspect_number"',
                '0.1',
                '1',
                alerts,
                0.5,
              ),
              ...['callers', 'wait', 'finish'].map((s) =>
                within('eagleeye_detector_round_stage_seconds', `stage="${s}"`, '0.01', '0.1', rounds, 0.05),
              ),
            ].join('\n'),
          ),
        ],
      ]);
    const b = stageBreakdown(det(0, 0), det(10, 10), LATENCY);
    // detection p50 550 ms (halfway through (0.1, 1]); callers, wait, finish p50 55 ms each
    expect(b.path.handoffWaitP50Ms).toBeCloseTo(550 - 3 * 55, 1);
  });

  it('adds the stages on an alert path and sets them against the measured latency', () => {
    const snap = (rounds: number, jobs: number): MetricsSnapshot =>
      new Map([
        [
          'ingest',
          parseProm(within('eagleeye_ingest_ack_latency_seconds', '', '0.001', '0.01', rounds, 0.005)),
        ],
        [
          'detector-1',
          parseProm(
            [
              ...['read', 'callers', 'wait', 'finish', 'ack'].map((s) =>
                within(
                  'eagleeye_detector_round_stage_seconds',
                  `stage="${s}"`,
                  '0.001',
                  '0.01',
                  rounds,
                  0.004,
                ),
              ),
              within('eagleeye_detector_round_events', '', '100', '500', rounds, 400),
            ].join('\n'),
          ),
        ],
        // a second replica's rounds count with the first's
        [
          'detector-2',
          parseProm(
            within('eagleeye_detector_round_stage_seconds', 'stage="read"', '0.001', '0.01', rounds, 0.004),
          ),
        ],
        [
          'alert-worker',
          parseProm(
            [
              within('eagleeye_alert_job_stage_seconds', 'stage="postgres"', '0.001', '0.01', jobs, 0.002),
            ].join('\n'),
          ),
        ],
      ]);
    const b = stageBreakdown(snap(100, 5), snap(300, 15), LATENCY);
    const row = (stage: string) => b.stages.find((s) => s.stage.startsWith(stage));
    expect(b.stages.map((s) => s.stage)).toEqual(STAGES.map((s) => s.stage));
    expect(row('detector round: read')?.count).toBe(400);
    expect(row('detector round: callers')?.count).toBe(200);
    expect(row('detector round: callers')?.meanMs).toBeCloseTo(4, 6);
    expect(row('worker: PostgreSQL')?.count).toBe(10);
    expect(row('worker: queue wait')?.count).toBe(0);
    // 200 rounds of 400 events: 0.8 s of callers over 80,000 events = 10 µs per event
    expect(row('detector round: callers')?.usPerEvent).toBe(10);
    expect(b.roundEvents).toMatchObject({ rounds: 200, events: 80000, mean: 400 });
    // on the path: ingest ack, read, callers, wait, finish, postgres (not the ack, not an empty stage)
    const onPath = b.stages.filter((s) => s.onPath && s.count > 0);
    expect(onPath).toHaveLength(6);
    const p50s = onPath.reduce((n, s) => n + s.p50Ms, 0);
    expect(b.path.stagesP50Ms).toBeCloseTo(p50s, 1);
    expect(b.path.gapP50Ms).toBeCloseTo(LATENCY.p50Ms - p50s, 1);
    expect(b.path.stagesMeanMs).toBeCloseTo(5 + 4 * 4 + 2, 1);
    expect(b.path.gapMeanMs).toBeCloseTo(60 - 23, 1);
    // no alert in the detection latency: the hand-off wait cannot be sized
    expect(b.path.handoffWaitP50Ms).toBeNull();
    expect(b.stages.map((s) => s.key)).toEqual(STAGES.map((s) => s.key));
  });

  it('takes each process on its own: one scraped at one end only is left out and named, a restarted one counts from zero', () => {
    const rounds = (n: number, events: number): PromSample[] =>
      parseProm(within('eagleeye_detector_round_events', '', '100', '500', n, events));
    // detector-2 answered the first scrape only; detector-3 was restarted in between (its count went down)
    const before: MetricsSnapshot = new Map([
      ['detector-1', rounds(10, 400)],
      ['detector-2', rounds(500, 450)],
      ['detector-3', rounds(300, 400)],
    ]);
    const after: MetricsSnapshot = new Map([
      ['detector-1', rounds(30, 400)],
      ['detector-3', rounds(5, 400)],
    ]);
    const b = stageBreakdown(before, after, LATENCY);
    // 20 rounds of detector-1 and the 5 detector-3 made since its restart; none of detector-2's history
    expect(b.roundEvents).toMatchObject({ rounds: 25, events: 25 * 400, mean: 400 });
    expect(b.unscraped).toEqual(['detector-2']);
    // merged before subtracting, detector-2's history would have cancelled what the others did
    expect(
      stageBreakdown(before, new Map([...after, ['detector-2', rounds(500, 450)]]), LATENCY).unscraped,
    ).toEqual([]);
  });

  it("gives the victim-on-call jobs' queue wait a row of its own, off the path; the queue wait has every job's", () => {
    const worker = (jobs: number): MetricsSnapshot =>
      new Map([
        [
          'alert-worker',
          parseProm(
            [
              within(
                'eagleeye_alert_job_stage_seconds',
                'stage="queue_wait",job="victim-on-call"',
                '0.001',
                '0.01',
                jobs,
                0.002,
              ),
              within(
                'eagleeye_alert_job_stage_seconds',
                'stage="queue_wait",job="suspect-number"',
                '0.01',
                '0.1',
                jobs * 2,
                0.02,
              ),
            ].join('\n'),
          ),
        ],
      ]);
    const b = stageBreakdown(worker(0), worker(10), LATENCY);
    const row = (key: string) => b.stages.find((s) => s.key === key);
    expect(row('worker.queue_wait')).toMatchObject({ count: 30, onPath: true });
    expect(row('worker.queue_wait.victim')).toMatchObject({ count: 10, onPath: false, meanMs: 2 });
    // on the path once: the queue wait of all jobs
    expect(b.path.stagesMeanMs).toBeCloseTo((10 * 2 + 20 * 20) / 30, 1);
  });
});
