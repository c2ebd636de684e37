import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, testDatabaseUrl, testRedisUrl } from '@eagle-eye/testing';
import type { BenchResult } from './src/bench';

/**
 * The benchmark tooling cannot rot: `bench --smoke` runs every phase of the suite through the same
 * code as the full run (limits, throughput search, console latency, memory, scaling, soak) with
 * small numbers against the test Redis/PostgreSQL, and must print and write well-formed figures.
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
      expect([s.targetEventsPerS, s.achievedEventsPerS, s.detectorEventsPerS, s.ackP99Ms].every(finite)).toBe(
        true,
      );
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
    expect(r.memory?.bytesPerNumber).toBeGreaterThan(0);
    expect(r.memory?.sampledKeyBytesPerNumber).toBeGreaterThan(0);
    const apps = (r.heap?.apps ?? []).map((a) => a.app.replace(/-\d+$/, ''));
    expect(new Set(apps)).toEqual(new Set(['ingest', 'detector', 'alert-worker', 'console']));
    for (const a of r.heap?.apps ?? []) expect(a.firstWindowMinMiB).toBeGreaterThan(0);
    expect(r.scaling.detectorReplicas.map((d) => d.replicas)).toEqual([1, 2]);
    for (const d of r.scaling.detectorReplicas) expect(d.eventsPerS).toBeGreaterThan(0);
    expect(r.scaling.luaByHistorySpan.length).toBeGreaterThan(1);
    expect(r.scaling.luaByPool.length).toBeGreaterThan(1);
  });

  it('prints the table', () => {
    for (const section of ['LIMITS', 'THROUGHPUT', 'LATENCY', 'MEMORY', 'SCALING']) {
      expect(run.stdout).toContain(section);
    }
    expect(run.stdout).toMatch(/sustained maximum \(events\/s\)\s+[\d,]+/);
  });
});
