import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, testDatabaseUrl, testRedisUrl } from '@eagle-eye/testing';
import type { ChaosRow } from './src/chaos/chaos';

/**
 * `npm run chaos -- --scenario smoke` inside `npm test`: the whole stack under a steady load while
 * ingest, the alert worker and the console are each SIGKILLed and restarted, then the ledger. It
 * asserts the promises (nothing acked lost or counted twice, every expected alert once in
 * PostgreSQL and at the console, no gap, no stuck job), never a timing: the figures are printed.
 */
jest.setTimeout(300_000);

function runChaos(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(
      process.execPath,
      [
        '-r',
        join(REPO_ROOT, 'scripts/register-paths.js'),
        join(REPO_ROOT, 'dist/load-tests/src/chaos/chaos.js'),
        '--scenario',
        'smoke',
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, REDIS_URL: testRedisUrl(), DATABASE_URL: testDatabaseUrl(), CHAOS_JSON: '1' },
      },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run chaos -- --scenario smoke', () => {
  let run: { code: number | null; stdout: string; stderr: string };
  let row: ChaosRow;

  beforeAll(async () => {
    run = await runChaos();
    const json = /^CHAOS_JSON (.*)$/m.exec(run.stdout);
    if (!json) throw new Error(`no result (exit ${run.code}): ${run.stderr.slice(-3000)}`);
    [row] = JSON.parse(json[1]) as ChaosRow[];
  });

  it('keeps every promise through the faults', () => {
    expect(row.violations).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('acknowledged events and raised alerts, and the faults happened', () => {
    expect(row.ledger.eventsAcked).toBeGreaterThan(0);
    expect(row.ledger.eventsLost).toBe(0);
    expect(row.ledger.eventsDoubleCounted).toBe(0);
    expect(row.ledger.alertsExpected).toBeGreaterThan(0);
    expect(row.ledger.alertsDelivered).toBe(row.ledger.alertsExpected);
    expect(row.ledger.alertsDuplicated).toBe(0);
    expect(row.ledger.changesMissed).toBe(0);
    expect(row.ledger.alertJobsStuck).toBe(0);
    expect(row.carrier.reconnects).toBeGreaterThan(0);
    expect(row.faultErrors).toEqual([]);
  });

  it('prints the table', () => {
    expect(run.stdout).toMatch(/^scenario\s+acked\s+lost/m);
    expect(run.stdout).toMatch(/^smoke\s+\d+\s+0\s+0\s/m);
  });
});
