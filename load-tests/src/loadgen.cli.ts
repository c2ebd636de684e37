import { Args } from './args';
import type { LoadgenMessage } from './processes';
import { LoadgenOptions, runLoadgen } from './open-loop';
import { randomTag } from './traffic';

const USAGE = `Open-loop load generator for the CallRecordIngest gRPC service (loopback targets only).

  node -r ./scripts/register-paths.js dist/load-tests/src/loadgen.cli.js \\
    --target 127.0.0.1:50051 --api-key eek_demoa_demo-carrier-a-secret-0000000000000000 \\
    --rate 20000 --batch 500 --duration 30

  --target host:port    server on this machine (required)
  --api-key KEY         carrier API key, sent as authorization: Bearer KEY
  --mode open|max       open (default): fixed schedule; max: keep --max-in-flight batches outstanding
  --rate N              events per second (open mode)
  --batch N             events per batch (default 500)
  --duration S          seconds of sending (default 10) ...
  --batches N           ... or a number of batches
  --streams N           gRPC streams, one connection each (default 2)
  --max-in-flight N     unacknowledged batches per stream before a due batch is dropped (default 64)
  --late-ms N           a send later than this after its intended time counts as late (default 10)
  --population N        subscribers the background calls are among (default 100000)
  --probes-per-s N      calls per second that should alert (their alerts are the latency probes)
  --json                print the result as JSON only
`;

async function cli(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.length === 0) {
    process.stdout.write(USAGE);
    return;
  }
  const a = new Args(argv, ['json']);
  const mode = (a.str('mode', 'open') as string) === 'max' ? 'max' : 'open';
  const target = a.str('target');
  if (!target) throw new Error('--target is required');
  const batches = a.num('batches', undefined, 1);
  const o: LoadgenOptions = {
    target,
    apiKey: a.str('api-key'),
    mode,
    ratePerS: a.num('rate', mode === 'open' ? 10000 : 0, 0),
    batchSize: a.num('batch', 500, 1, 100000),
    durationS: batches === undefined ? a.num('duration', 10, 0.1) : a.num('duration', undefined, 0.1),
    maxBatches: batches,
    streams: a.num('streams', 2, 1, 256),
    maxInFlightPerStream: a.num('max-in-flight', mode === 'open' ? 64 : 4, 1, 100000),
    lateMs: a.num('late-ms', 10, 0),
    traffic: {
      mode: 'background',
      populationSpace: `${randomTag(4)}Bg`,
      runTag: randomTag(4),
      population: a.num('population', 100000, 8),
      instantProbesPerS: a.num('probes-per-s', 0, 0),
    },
    progressEveryMs: 5000,
  };
  const json = a.flag('json');
  a.assertAllUsed();
  const r = await runLoadgen(o, {
    onProgress: json
      ? undefined
      : (p) =>
          process.stderr.write(
            `[loadgen] ${p.elapsedS}s sent ${p.sentEvents} acked ${p.ackedEvents} dropped ${p.droppedBatches} ` +
              `late ${p.lateBatches} in flight ${p.inFlightBatches} ack p99 ${p.ackP99Ms} ms\n`,
          ),
  });
  if (json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const l = r.ackLatency;
  process.stdout.write(
    [
      `target            ${r.target} (${r.mode}${r.targetEventsPerS ? `, ${r.targetEventsPerS} events/s` : ''}, batch ${r.batchSize}, ${r.streams} streams)`,
      `achieved          ${r.achievedEventsPerS} events/s acknowledged over ${r.elapsedS.toFixed(1)} s`,
      `events            sent ${r.events.sent}, acked ${r.events.acked}, accepted ${r.events.accepted}, duplicates ${r.events.duplicates}, rejected ${r.events.rejected}`,
      `batches           scheduled ${r.batches.scheduled}, sent ${r.batches.sent}, dropped ${r.batches.dropped}, late ${r.batches.late}, failed ${r.batches.failed}`,
      `ack latency (ms)  p50 ${l.p50Ms}  p99 ${l.p99Ms}  p99.9 ${l.p999Ms}  max ${l.maxMs}  (from the intended send time)`,
      `send lag (ms)     p99 ${r.sendLag.p99Ms}  max ${r.sendLag.maxMs}`,
      ...r.errors.slice(0, 10).map((e) => `error             ${e}`),
    ].join('\n') + '\n',
  );
  if (r.batches.failed > 0 || r.events.acked === 0) process.exitCode = 1;
}

// As a child of the benchmark (`--ipc`): options arrive by message, probes and progress go back.
function ipcChild(): void {
  const send = (m: LoadgenMessage): void => {
    process.send?.(m);
  };
  process.on('disconnect', () => process.exit(1));
  process.once('message', (m: { type: 'run'; options: LoadgenOptions }) => {
    runLoadgen(m.options, {
      onProbe: (probe) => send({ type: 'probe', probe }),
      onProgress: (progress) => send({ type: 'progress', progress }),
    })
      .then((result) => {
        process.send?.({ type: 'result', result } satisfies LoadgenMessage, () => process.exit(0));
      })
      .catch((e: Error) => {
        process.send?.({ type: 'error', message: e.message } satisfies LoadgenMessage, () => process.exit(1));
      });
  });
}

if (require.main === module) {
  if (process.argv.includes('--ipc') && process.send) ipcChild();
  else
    cli(process.argv.slice(2)).catch((e: Error) => {
      process.stderr.write(`loadgen: ${e.message}\n`);
      process.exit(2);
    });
}
