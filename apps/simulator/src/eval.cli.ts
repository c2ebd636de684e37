import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPool } from '@eagle-eye/db';
import { createRedis, RedisKeys } from '@eagle-eye/redis';
import { RulesRepository } from '@eagle-eye/rules';
import { carrierKeys, numberOption, openStreams, progressLine } from './cli-common';
import { ConsoleClient } from './eval/console-client';
import { evaluate, ObservedAlert } from './eval/evaluate';
import { runSichuanEval } from './eval/sichuan-eval';
import { formatReport, ReportMeta, writeReport } from './eval/report';
import { seedFrom } from './sim/city';
import { Generator } from './sim/generator';
import { addRecord, emptyGroundTruth, GroundTruthWriter } from './sim/ground-truth';
import { scenarioByName, SCENARIOS } from './sim/scenarios';
import { seedWhitelist, whitelistTargets } from './sim/whitelist';
import { streamRun, TimeWarp } from './stream/runner';

const USAGE = `Usage: npm run eval -- [--source sim] [--scenario default] [--minutes 30] [--warmup-minutes 30] [--warp 60] [--subscribers 200000]
  [--seed 1] [--report out/] [--ingest 127.0.0.1:50051] [--console http://127.0.0.1:8080]
  [--user supervisor --password demo-supervisor] [--operators 2] [--settle 20] [--no-whitelist]

Runs a simulated scenario end to end against a running stack (npm run stack): streams it through
the public gRPC ingest with the carriers' API keys, watches alerts as a console does (socket.io
/alerts as a supervisor, then the REST list), joins them with the ground truth and prints recall on
the call, time to alert, precision, false alerts per million legitimate calls, suspect-number
precision/recall and alerts per operator-hour. --report DIR also writes JSON and an HTML page.
--warmup-minutes (default 30, 0 for none) streams that much simulated traffic first, so the detector
has history as one running for ever would; victims hooked and alerts raised in it are not counted.
Scenarios: ${Object.keys(SCENARIOS).join(', ')}.
\`--source sichuan\` replays held-out labelled Sichuan numbers instead (npm run eval -- --source sichuan --help).
Environment: SIMULATOR_INGEST_URL, CONSOLE_URL, SIMULATOR_CARRIER_KEYS (carrier-a=eek_...,...),
DATABASE_URL and REDIS_URL (to whitelist the simulated verified service numbers).`;

/** `--source sim` (default) or `--source sichuan`, wherever it stands among the arguments. */
function sourceOf(args: string[]): { source: string; rest: string[] } {
  const rest: string[] = [];
  let source = 'sim';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--source' && i + 1 < args.length) source = args[++i];
    else if (a.startsWith('--source=')) source = a.slice('--source='.length);
    else rest.push(a);
  }
  return { source, rest };
}

async function main(): Promise<number> {
  const { source, rest } = sourceOf(process.argv.slice(2));
  if (source === 'sichuan') return runSichuanEval(rest);
  if (source !== 'sim') throw new Error(`--source must be sim or sichuan (got "${source}")`);
  const { values } = parseArgs({
    args: rest,
    options: {
      scenario: { type: 'string', default: 'default' },
      minutes: { type: 'string' },
      'warmup-minutes': { type: 'string' },
      warp: { type: 'string' },
      subscribers: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'run-id': { type: 'string' },
      report: { type: 'string' },
      'ground-truth': { type: 'string' },
      ingest: { type: 'string' },
      console: { type: 'string' },
      user: { type: 'string', default: 'supervisor' },
      password: { type: 'string', default: 'demo-supervisor' },
      operators: { type: 'string' },
      settle: { type: 'string' },
      'no-whitelist': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const scenario = scenarioByName(values.scenario!);
  const minutes = numberOption('minutes', values.minutes, 30, 1);
  const warmupMinutes = numberOption('warmup-minutes', values['warmup-minutes'], 30, 0);
  const warp = numberOption('warp', values.warp, 60, 1);
  const subscribers = Math.round(numberOption('subscribers', values.subscribers, 200_000, 1000));
  const seed = seedFrom(/^\d+$/.test(values.seed!) ? Number(values.seed) : values.seed!);
  const runId = values['run-id'] ?? `e${Date.now().toString(36)}`;
  const settleS = numberOption('settle', values.settle, 20, 0);
  const ingest = values.ingest ?? process.env.SIMULATOR_INGEST_URL ?? '127.0.0.1:50051';
  const consoleUrl =
    values.console ??
    process.env.CONSOLE_URL ??
    `http://127.0.0.1:${process.env.CONSOLE_HTTP_PORT ?? '8080'}`;
  const keys = carrierKeys(process.env.SIMULATOR_CARRIER_KEYS);
  const operators = numberOption('operators', values.operators, keys.size, 1);
  const reportDir = values.report;
  const gtPath = values['ground-truth'] ?? join(reportDir ?? '.run/eval', `ground-truth-${runId}.jsonl`);
  mkdirSync(dirname(gtPath), { recursive: true });

  const log = (s: string): boolean => process.stderr.write(s + '\n');
  const consoleClient = new ConsoleClient({
    baseUrl: consoleUrl,
    username: values.user!,
    password: values.password!,
  });
  await consoleClient.connect();
  log(`[eval] watching alerts at ${consoleUrl} as ${values.user}`);

  // Simulated time runs `warp` times faster; it starts far enough in the past that no event of the
  // run (long calls end after the horizon) is ever ahead of the servers' clocks.
  const wallStart = Date.now();
  const tailMs = warp > 1 ? 3 * 3_600_000 : 0;
  const totalMs = (warmupMinutes + minutes) * 60_000;
  const simStart = warp > 1 ? wallStart - totalMs - tailMs : wallStart;
  const measureFromMs = simStart + warmupMinutes * 60_000;
  const gt = emptyGroundTruth();
  const writer = new GroundTruthWriter(gtPath);
  const gen = new Generator(
    { seed, runId, subscribers, scenario, startMs: simStart, durationMs: totalMs, measureFromMs },
    (r) => {
      addRecord(gt, r);
      writer.write(r);
    },
  );

  if (!values['no-whitelist']) {
    const pool = createPool(
      process.env.DATABASE_URL ?? 'postgres://eagleeye:eagleeye-dev@127.0.0.1:5440/eagleeye',
      { max: 2 },
    );
    const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6390');
    try {
      const rules = new RulesRepository(pool, redis, new RedisKeys(process.env.REDIS_KEY_PREFIX ?? 'ee'));
      const { added, present } = await seedWhitelist(rules, whitelistTargets(gen.city));
      log(`[eval] whitelist: ${added} verified service numbers added, ${present} already there`);
    } catch (e) {
      log(
        `[eval] could not whitelist the verified service numbers (${(e as Error).message}); going on without`,
      );
    } finally {
      await pool.end();
      redis.disconnect();
    }
  }

  // once no new call starts, the remaining long calls finish at ten times the warp
  const tw = new TimeWarp(simStart, Date.now(), warp, {
    fromSimMs: simStart + totalMs,
    warp: warp * 10,
  });
  const clock = { lagMs: 0, simMs: simStart };
  const simNow = (wall: number): number => tw.simAt(wall - clock.lagMs);
  const simSeen = new Map<string, number>();
  consoleClient.onAlert = (a, created) => {
    if (created) simSeen.set(a.view.id, simNow(a.firstSeenWallMs));
  };
  // wall -> simulated time samples, for alerts only the REST listing delivers
  const samples: [number, number][] = [];
  const sampler = setInterval(() => samples.push([Date.now(), simNow(Date.now())]), 250);
  const streams = openStreams(ingest, keys, {
    onStreamError: (e, retry) => log(`[eval] ingest stream: ${e.message}${retry ? ' (reconnecting)' : ''}`),
  });
  log(
    `[eval] streaming scenario ${scenario.name} (${warmupMinutes} minutes of warm-up, then ${minutes} measured ` +
      `simulated minutes, warp ${warp}) to ${ingest}`,
  );
  const final = await streamRun(gen, {
    warp: tw,
    streams,
    live: clock,
    onProgress: (p) => log(progressLine(p, consoleClient.created)),
  });
  log(progressLine(final, consoleClient.created));
  for (const s of streams.values()) {
    for (const [reason, n] of s.stats.rejectedByReason) log(`[eval] rejected by ingest: ${n} x ${reason}`);
    s.close();
  }
  await writer.close();
  log(`[eval] streaming done; waiting ${settleS} s for the last alerts`);
  await new Promise((r) => setTimeout(r, settleS * 1000));
  clearInterval(sampler);
  try {
    const added = await consoleClient.sweep();
    if (added) log(`[eval] ${added} alerts (of this and earlier runs) came only through the REST listing`);
  } catch (e) {
    log(`[eval] REST listing of alerts failed (${(e as Error).message}); using the socket.io events only`);
  }
  consoleClient.close();

  const simAtWall = (wall: number): number => {
    let best = samples.length ? samples[0][1] : simNow(wall);
    for (const [w, s] of samples) if (w <= wall) best = s;
    return best;
  };
  // only alerts about this run's traffic (the stack may hold older alerts)
  const runPrefix = `${runId}-`;
  const tokens = new Set([...gt.scammers.map((s) => s.token), ...gt.traps.map((t) => t.token)]);
  const observed: ObservedAlert[] = [];
  for (const a of consoleClient.alerts.values()) {
    const ours = a.view.callId ? a.view.callId.startsWith(runPrefix) : tokens.has(a.view.suspect);
    if (!ours || a.firstSeenWallMs < wallStart) continue;
    observed.push({
      view: a.view,
      firstSeenWallMs: a.firstSeenWallMs,
      firstSeenSimMs: simSeen.get(a.view.id) ?? simAtWall(a.firstSeenWallMs),
    });
  }
  const restOnly = observed.filter((o) => !simSeen.has(o.view.id)).length;
  if (restOnly)
    log(
      `[eval] ${restOnly} of this run's ${observed.length} alerts were missed by socket.io (timed by raisedAt)`,
    );
  const report = evaluate(gt, observed, { operators });
  const meta: ReportMeta = {
    scenario: scenario.name,
    seed,
    runId,
    subscribers,
    minutes,
    warmupMinutes,
    warp,
    startedAt: new Date(wallStart).toISOString(),
    wallSeconds: (Date.now() - wallStart) / 1000,
    eventsSent: final.eventsSent,
    eventsAccepted: final.accepted,
    eventsRejected: final.rejected,
    groundTruthFile: gtPath,
  };
  const text = formatReport(report, meta);
  process.stdout.write(text + '\n');
  if (reportDir) {
    const files = writeReport(reportDir, report, meta, text);
    log(`[eval] report written: ${files.join(', ')}`);
  }
  log(`[eval] ground truth: ${gtPath}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`eval: ${e.message}\n`);
    process.exit(1);
  },
);
