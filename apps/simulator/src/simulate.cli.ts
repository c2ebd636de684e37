import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { ingestV1 } from '@eagle-eye/contracts';
import { carrierKeys, numberOption, openStreams, progressLine } from './cli-common';
import { seedFrom } from './sim/city';
import { Generator } from './sim/generator';
import { GroundTruthWriter } from './sim/ground-truth';
import { scenarioByName, SCENARIOS } from './sim/scenarios';
import { streamRun, TimeWarp } from './stream/runner';

const USAGE = `Usage: npm run simulate -- [--scenario default] [--minutes 10] [--subscribers 200000] [--seed 1]
  [--ground-truth gt.jsonl] (--out events.ndjson | --ingest 127.0.0.1:50051 [--warp 60])
  [--start 2026-01-01T02:00:00Z] [--run-id r1]

Generates a simulated city with scams. --out writes the events (proto3 JSON, one a line, with the
carrier that sends each); --ingest streams them through the gRPC contract with the carriers' API keys
(SIMULATOR_CARRIER_KEYS, default the demo carriers), paced by --warp (0 = as fast as ingest takes
them). Scenarios: ${Object.keys(SCENARIOS).join(', ')}.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'default' },
      minutes: { type: 'string' },
      subscribers: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'run-id': { type: 'string' },
      start: { type: 'string' },
      warp: { type: 'string' },
      out: { type: 'string' },
      ingest: { type: 'string' },
      'ground-truth': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || (!values.out && !values.ingest)) {
    process.stderr.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  const minutes = numberOption('minutes', values.minutes, 10, 0.1);
  const warp = numberOption('warp', values.warp, 60, 0);
  const start = values.start
    ? Date.parse(values.start)
    : values.ingest && warp !== 1
      ? Date.now() - minutes * 60_000 - 3 * 3_600_000
      : Date.now();
  if (!Number.isFinite(start)) throw new Error('--start must be an ISO date');
  const gtw = values['ground-truth'] ? new GroundTruthWriter(values['ground-truth']) : undefined;
  const gen = new Generator(
    {
      seed: seedFrom(/^\d+$/.test(values.seed!) ? Number(values.seed) : values.seed!),
      runId: values['run-id'] ?? `s${Date.now().toString(36)}`,
      subscribers: Math.round(numberOption('subscribers', values.subscribers, 200_000, 1000)),
      scenario: scenarioByName(values.scenario!),
      startMs: start,
      durationMs: minutes * 60_000,
    },
    (r) => gtw?.write(r),
  );
  if (values.out) {
    const out = createWriteStream(values.out);
    for (let e = gen.next(); e; e = gen.next()) {
      const line =
        JSON.stringify({ carrierId: e.carrierId, event: ingestV1.CallEvent.toJSON(e.event) }) + '\n';
      if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
  } else {
    const streams = openStreams(values.ingest!, carrierKeys(process.env.SIMULATOR_CARRIER_KEYS), {
      onStreamError: (e, retry) =>
        process.stderr.write(`[simulator] ingest stream: ${e.message}${retry ? ' (reconnecting)' : ''}\n`),
    });
    const final = await streamRun(gen, {
      warp: new TimeWarp(start, Date.now(), warp),
      streams,
      onProgress: (p) => process.stderr.write(progressLine(p) + '\n'),
    });
    process.stderr.write(progressLine(final) + '\n');
    for (const s of streams.values()) {
      for (const [reason, n] of s.stats.rejectedByReason)
        process.stderr.write(`[simulator] rejected: ${n} x ${reason}\n`);
      s.close();
    }
  }
  await gtw?.close();
  process.stderr.write(`[simulator] ${JSON.stringify(gen.stats)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`simulate: ${e.message}\n`);
    process.exit(1);
  },
);
