/**
 * Redis instructions per event of the detector's Redis side, counted by valgrind's callgrind: a
 * figure that does not move with the machine's load, for comparing changes to the Lua scripts on
 * a shared machine (where CPU time and `INFO commandstats` swing by 30 % between identical runs).
 *
 *   npm run bench:redis-instructions                 (builds first; needs valgrind and redis-server)
 *   npm run bench:redis-instructions -- --subscribers 4000 --json out.json
 *
 * It starts its own redis-server under `valgrind --tool=callgrind` on a free loopback port, drives
 * the detector's own DetectionService (default rules, an alert sink that counts) over the same kind
 * of synthetic traffic as detector.bench (ordinary subscribers making three calls in an hour, plus
 * fan-out numbers), one 2,000-event round after another in event-time order, and counts the
 * instructions Redis executes while it does: callgrind's counters are zeroed after a warm-up hour
 * (every number has history) and dumped after the measured hour. Tokens are fixed and rounds
 * sequential, so two runs of one build give the same count to within a few tenths of a percent; to
 * compare builds, run it in each (a git worktree per build).
 *
 * Prints instructions per event, Redis commands per event from INFO commandstats (script calls and
 * the commands the scripts issue), and the run's alerts (a change that moves them changed
 * detection, not only its cost). Under callgrind Redis runs about 50 times slower; the default
 * (1,000 subscribers, about 8,700 measured events) takes about a minute and a half.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { HandoffEvent } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { defaultRule, ResolvedRules, RULE_IDS } from '@eagle-eye/rules';
import { AlertJob } from '../apps/detector/src/detection/alert.publisher';
import { createDetection } from '../apps/detector/src/detection/detection.service';
import { DetectorScripts } from '../apps/detector/src/lua/detector-scripts';
import { BENCH_DETECTION_OPTIONS, fixedHourOfTraffic } from '../apps/detector/src/bench/synthetic-traffic';
import { Args } from './src/args';
import { freePort } from './src/processes';

const HOUR = 3600_000;
/** the fixed tokens' salt: the counts in the README came from these numbers */
const SALT = 'redis-instructions';

function need(tool: string, hint: string): void {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    throw new Error(`${tool} is not installed (${hint})`);
  }
}

async function waitForRedis(port: number, child: ChildProcess): Promise<Redis> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server under valgrind exited (${child.exitCode})`);
    const r = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on('error', () => undefined); // refused until valgrind has started it: retried below
    try {
      await r.connect();
      await r.ping();
      return new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 2 });
    } catch {
      r.disconnect();
      if (Date.now() > deadline) throw new Error('redis-server under valgrind did not answer within 60 s');
      await new Promise((res) => setTimeout(res, 500));
    } finally {
      r.disconnect();
    }
  }
}

/** The `summary:` of a callgrind dump (instructions executed), once the file is complete. */
async function dumpedInstructions(file: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const m = /^summary:\s*(\d+)/m.exec(readFileSync(file, 'utf8'));
      if (m && /^totals:/m.test(readFileSync(file, 'utf8'))) return Number(m[1]);
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`no complete callgrind dump at ${file} after 60 s`);
    await new Promise((res) => setTimeout(res, 500));
  }
}

function commandCalls(info: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
  return out;
}

async function main(): Promise<void> {
  const args = new Args(process.argv.slice(2), ['help']);
  if (args.flag('help')) {
    console.log(
      'usage: npm run bench:redis-instructions -- [--subscribers 1000] [--round 2000] [--caller-windows node|script] [--json FILE]\n' +
        'Counts the instructions Redis executes per detector event (valgrind callgrind). --round: events per\n' +
        "detector round (the whole stack's rounds hold a few hundred at 5,000 events/s); --caller-windows: where\n" +
        "the caller windows are applied, as DETECTOR_CALLER_WINDOWS (default node, the detector's default).",
    );
    return;
  }
  const subscribers = args.num('subscribers', 1000, 100, 200_000);
  const jsonOut = args.str('json');
  const round = args.num('round', 2000, 10, 100_000);
  const callerWindows = args.str('caller-windows') ?? 'node';
  if (callerWindows !== 'node' && callerWindows !== 'script')
    throw new Error(`--caller-windows must be node or script, not ${callerWindows}`);
  need('valgrind', 'apt-get install valgrind');
  need('redis-server', 'apt-get install redis-server');

  const dir = mkdtempSync(join(tmpdir(), 'ee-redis-instr-'));
  const port = await freePort();
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
      '--dump-instr=no',
      'redis-server',
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const control = (cmd: '-z' | '-d'): void => {
    execFileSync('callgrind_control', [cmd, String(child.pid)], { stdio: 'ignore', timeout: 60_000 });
  };
  let redis: Redis | undefined;
  try {
    process.stderr.write(`[instructions] redis-server under callgrind on port ${port} ...\n`);
    redis = await waitForRedis(port, child);
    const keys = new RedisKeys('instr');
    const scripts = new DetectorScripts(redis);
    await scripts.load();
    const rules = Object.fromEntries(RULE_IDS.map((id) => [id, defaultRule(id)])) as ResolvedRules;
    let alerts = 0;
    const detection = createDetection({
      redis,
      keys,
      scripts,
      rules: { forCarrier: () => rules },
      alerts: { publish: async (jobs: AlertJob[]) => void (alerts += jobs.length) },
      options: { ...BENCH_DETECTION_OPTIONS, callerWindows },
    });
    const start = Date.UTC(2026, 10, 24, 8);
    const run = async (events: HandoffEvent[], label: string): Promise<void> => {
      for (let i = 0; i < events.length; i += round) {
        await detection.process([{ carrierId: 'carrier-a', events: events.slice(i, i + round) }]);
        process.stderr.write(
          `\r[instructions] ${label}: ${Math.min(i + round, events.length)}/${events.length} events`,
        );
      }
      process.stderr.write('\n');
    };
    // warm-up hour: every number gets history (not counted)
    const warm = fixedHourOfTraffic(subscribers, start, SALT);
    await run(warm, 'warm-up hour');
    // the measured hour: the same subscribers (by index), new calls
    const measured = fixedHourOfTraffic(subscribers, start + HOUR, SALT);
    const alertsBefore = alerts;
    await redis.config('RESETSTAT');
    control('-z');
    await run(measured, 'measured hour');
    control('-d');
    const calls = commandCalls((await redis.info('commandstats')) as string);
    // the first dump: what ran between zeroing the counters and dumping them
    const instructions = await dumpedInstructions(join(dir, 'callgrind.out.1'));
    const n = measured.length;
    const perEvent = [...calls]
      .filter(([c]) => !/^(config|info|ping|script|hello|client|select)/.test(c))
      .sort((a, b) => b[1] - a[1])
      .map(([c, k]) => `${c} ${(k / n).toFixed(2)}`);
    const result = {
      subscribers,
      round,
      callerWindows,
      events: n,
      instructions,
      instructionsPerEvent: Math.round(instructions / n),
      commandsPerEvent: Object.fromEntries(
        [...calls].map(([c, k]) => [c, Math.round((k / n) * 1000) / 1000]),
      ),
      alerts: alerts - alertsBefore,
    };
    console.log(
      [
        `Redis instructions per detector event (callgrind): ${result.instructionsPerEvent.toLocaleString('en-US')}`,
        `  ${n} events of ${subscribers} subscribers' measured hour in rounds of ${round}, caller windows: ${callerWindows}, ${instructions.toLocaleString('en-US')} instructions, ${result.alerts} alerts`,
        `  commands per event: ${perEvent.join(', ')}`,
      ].join('\n'),
    );
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  } catch (e) {
    if (stderr && child.exitCode !== null) process.stderr.write(stderr);
    throw e;
  } finally {
    redis?.disconnect();
    child.kill('SIGTERM');
    await new Promise((res) => child.once('exit', res).once('error', res));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`redis-instructions: ${e.message}`);
  process.exit(1);
});
