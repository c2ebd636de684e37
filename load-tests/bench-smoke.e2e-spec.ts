import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, testDatabaseUrl, testRedisUrl } from '@eagle-eye/testing';
import type { BenchResult } from './src/bench';

/**
 * The benchmark tooling cannot rot: `bench --smoke` runs every phase of the suite through the same
 * code as the full run (limits, throughput search, console latency and its stage table, memory,
 * dedupe bytes, scaling, soak, one Redis Cluster row) with small numbers against the test
 * Redis/PostgreSQL, and must print and write well-formed figures.
 * It asserts shapes and that the phases did their work, never a performance target.
 */
jest.setTimeout(300_000);

function runSmoke(outDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(
      process.execPath,
      [
        '-r',
        join(REPO_ROOT, 'scripts/register-paths.js'),
        join(REPO_ROOT, 'dist/load-tests/src/bench.js'),
        '--smoke',
        '--out',
        outDir,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, REDIS_URL: testRedisUrl(), DATABASE_URL: testDatabaseUrl() } },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const finite = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

describe('npm run bench:smoke', () => {
  let out: string;
  let run: { code: number | null; stdout: string; stderr: string };
  let r: BenchResult;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'ee-bench-'));
    run = await runSmoke(out);
    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    if (files.length !== 1)
      throw new Error(`expected one JSON result, found ${files.length}: ${run.stderr.slice(-3000)}`);
    r = JSON.parse(readFileSync(join(out, files[0]), 'utf8')) as BenchResult;
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('completes every phase without errors', () => {
    expect(r.errors).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('names the machine every figure came from', () => {
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(r.machine.cpuModel).not.toBe('');
    expect(r.machine.node).toMatch(/^v\d+/);
    expect(run.stdout).toContain(`machine: ${r.machine.cores} cores, ${r.machine.cpuModel}`);
  });

  it('measures the limits in the same run', () => {
    expect(r.limits.transport?.eventsPerS).toBeGreaterThan(0);
    expect(r.limits.lua?.eventsPerS).toBeGreaterThan(0);
    expect(r.limits.lua?.serverUsPerEvent).toBeGreaterThan(0);
    // a round's events share script calls (one per key group)
    expect(r.limits.lua?.eventsPerCall).toBeGreaterThan(1);
    expect(r.limits.lua?.statuses['0']).toBeGreaterThan(0);
  });

  it('searches the sustained throughput with the whole stack and relates it to the transport limit', () => {
    expect(r.throughput.ceilingProbe?.ingestEventsPerS).toBeGreaterThan(0);
    expect(r.throughput.ceilingProbe?.detectorEventsPerS).toBeGreaterThan(0);
    expect(r.throughput.steps.length).toBeGreaterThan(0);
    for (const s of r.throughput.steps) {
      expect(
        [
          s.targetEventsPerS,
          s.achievedEventsPerS,
          s.detectorEventsPerS,
          s.ackP99Ms,
          s.unappliedEventsAtEnd,
        ].every(finite),
      ).toBe(true);
      expect(s.unappliedEventsAtEnd).toBeGreaterThanOrEqual(0);
      expect(s.why).not.toBe('');
    }
    if (r.throughput.sustainedEventsPerS !== null) {
      expect(r.throughput.ratioToTransport).toBeCloseTo(
        r.throughput.sustainedEventsPerS / (r.limits.transport?.eventsPerS ?? 1),
        2,
      );
    }
  });

  it('times alerts from the event to a socket.io console client at three load levels', () => {
    expect(r.latency.map((l) => l.fraction)).toEqual([0.25, 0.5, 0.75]);
    const received = r.latency.reduce((n, l) => n + l.alertsReceived, 0);
    expect(received).toBeGreaterThan(0);
    for (const l of r.latency) {
      expect(l.alertsReceived + l.missed).toBe(l.probesSent);
      if (l.latency.count) {
        expect(l.latency.p50Ms).toBeGreaterThan(0);
        expect(l.latency.p50Ms).toBeLessThanOrEqual(l.latency.p99Ms);
        expect(l.latency.p99Ms).toBeLessThanOrEqual(l.latency.p999Ms);
        // percentiles come from an HDR histogram (3 significant digits): allow its bucket width
        expect(l.latency.p999Ms).toBeLessThanOrEqual(l.latency.maxMs * 1.002 + 1);
      }
    }
    expect(r.durationStep?.probesSent).toBeGreaterThan(0);
  });

  it('reports Redis bytes per number, heap trends of every app and the scaling figures', () => {
    expect(r.memory?.numbers).toBe(2000);
    expect(r.memory?.drained).toBe(true);
    // the used_memory delta is a figure, not a check, here: the test Redis is shared with the suites
    // running beside this one, whose keys come and go during the fill (it has been negative)
    expect(finite(r.memory?.bytesPerNumber)).toBe(true);
    expect(r.memory?.sampledKeyBytesPerNumber).toBeGreaterThan(0);
    const apps = (r.heap?.apps ?? []).map((a) => a.app.replace(/-\d+$/, ''));
    expect(new Set(apps)).toEqual(new Set(['ingest', 'detector', 'alert-worker', 'console']));
    for (const a of r.heap?.apps ?? []) expect(a.firstWindowMinMiB).toBeGreaterThan(0);
    expect(r.scaling.detectorReplicas.map((d) => d.replicas)).toEqual([1, 2]);
    for (const d of r.scaling.detectorReplicas) expect(d.eventsPerS).toBeGreaterThan(0);
    expect(r.scaling.luaByHistorySpan.length).toBeGreaterThan(1);
    expect(r.scaling.luaByPool.length).toBeGreaterThan(1);
  });

  it('breaks the latency down by stage from the histograms of every app, and splits each alert at its own times', () => {
    for (const l of r.latency) {
      const st = l.stages;
      expect(st).toBeDefined();
      const stages = st?.stages ?? [];
      expect(stages.map((s) => s.app)).toEqual(
        expect.arrayContaining(['ingest', 'detector', 'alert-worker']),
      );
      for (const s of stages) {
        expect([s.count, s.meanMs, s.p50Ms, s.p99Ms].every(finite)).toBe(true);
        if (s.count) expect(s.p50Ms).toBeLessThanOrEqual(s.p99Ms);
      }
      expect(st?.path.measuredCount).toBe(l.latency.count);
    }
    // the traffic of a level keeps the detector reading and ingest acking batches
    const half = r.latency.find((l) => l.fraction === 0.5)?.stages;
    const count = (prefix: string): number =>
      half?.stages.find((s) => s.stage.startsWith(prefix))?.count ?? 0;
    expect(count('ingest: batch receipt')).toBeGreaterThan(0);
    expect(count('detector round: read')).toBeGreaterThan(0);
    if (!half?.roundEvents?.events) {
      // seen twice in about ten fresh runs, cause not found: everything the run knew about that level
      const level = r.latency.find((l) => l.fraction === 0.5);
      throw new Error(
        `the half-load level's detector rounds carried no events: ${JSON.stringify({
          roundEvents: half?.roundEvents,
          stages: half?.stages.map((st) => [st.key, st.count, st.meanMs]),
          eventsPerS: level?.eventsPerS,
          achieved: level?.achievedEventsPerS,
          cpuUsPerEvent: level?.cpuUsPerEvent,
          detectorEvents: level?.detectorEvents,
          unscraped: half?.unscraped,
        })}\nbenchmark log:\n${run.stderr.split('\n').slice(-80).join('\n')}`,
      );
    }
    expect(half.roundEvents.events).toBeGreaterThan(0);
    const split = r.latency.map((l) => l.split).filter((s) => s?.toRaised.count);
    expect(split.length).toBeGreaterThan(0);
    expect(run.stdout).toContain('WHERE THE TIME GOES at 50 %');
    expect(run.stdout).toMatch(/sum: stages on an alert's path add up to [\d.]+ ms of p50s/);
  });

  it('measures what the dedupe sets grow by per event during a throughput step', () => {
    const d = r.throughput.steps.find((s) => s.dedupe && s.dedupe.members > 0)?.dedupe;
    expect(d).toBeDefined();
    // every accepted event adds its id once; the step's acknowledged events bound them
    expect(d?.members).toBeLessThanOrEqual(d?.ackedEvents ?? 0);
    expect(d?.heldIds).toBeGreaterThanOrEqual(d?.members ?? 0);
    expect(d?.bytesPerEvent).toBeCloseTo((d?.heldBytes ?? 0) / (d?.heldIds ?? 1), 0);
    expect(d?.bytesPerEvent).toBeGreaterThan(0);
    expect(d?.bytesPerEventHour).toBeCloseTo(((d?.bytesPerEvent ?? 0) * (d?.heldS ?? 0)) / 3600, 0);
    expect(run.stdout).toMatch(/B per event-hour \(held \d+ s/);
  });

  it('drains a backlog on a one-master Redis Cluster (the single scaling row of the smoke)', () => {
    const rows = r.scaling.cluster?.rows ?? [];
    expect(rows.map((c) => [c.masters, c.replicas])).toEqual([[1, 1]]);
    expect(rows[0].eventsPerS).toBeGreaterThan(0);
    expect(rows[0].backlogEvents).toBeGreaterThanOrEqual(3000);
    expect(rows[0].keysPerMaster).toHaveLength(1);
    expect(run.stdout).toContain('1-master Redis Cluster, 1 replica(s)');
  });

  it('prints the table', () => {
    for (const section of ['LIMITS', 'THROUGHPUT', 'LATENCY', 'MEMORY', 'SCALING']) {
      expect(run.stdout).toContain(section);
    }
    expect(run.stdout).toMatch(/sustained maximum \(events\/s\)\s+[\d,]+/);
  });
});
