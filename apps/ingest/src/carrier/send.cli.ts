import { createWriteStream, readFileSync, WriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import { ingestV1, readCallEventLines } from '@eagle-eye/contracts';
import { idLooksLikeNumber } from '@eagle-eye/pseudonym';
import { channelCredentials, sendEvents, SendError, SendTotals } from './event-sender';

const USAGE = `Usage: npm run send -- --input events.ndjson --target ingest.example:50051 [options]

Streams pseudonymised call events (one JSON object a line, the proto3 JSON form of
eagleeye.v1.CallEvent, as \`npm run pseudonymise\` writes them, or \`npm run simulate -- --out\`'s
{"carrierId", "event"} lines, sent under this key's carrier; --input - reads standard input) to
Eagle Eye's ingest over gRPC, in numbered batches. A broken stream is reconnected and every batch
not yet acked is sent again (ingest drops what it already has, by event_id), so an interrupted run
can simply be run again. Nothing that looks like a clear phone number ever leaves this machine:
such lines are refused here and listed in --rejects.

  --target host:port        ingest's gRPC address
  --api-key-file F          file holding the carrier API key eek_<keyId>_<secret>
                            (or EE_INGEST_API_KEY in the environment; never on the command line)
  --ca-file F               PEM CA that signed ingest's certificate (default: the system's)
  --cert-file F --key-file F  client certificate and key (INGEST_AUTH_MODE=mtls)
  --insecure                plain text, no TLS (a local test stack only)
  --batch N                 events per batch (500)
  --window N                batches in flight before their acks (8)
  --max-retries N           reconnections in a row without an ack before giving up (20)
  --rejects F               write refused events here: line, event id, reason (NDJSON)
  --progress-s N            progress line every N seconds on stderr (2)

Exit status: 0 every event acked (refused ones listed), 1 stopped (refused stream, gave up,
unreadable input), 2 bad usage.`;

/** NDJSON lines to CallEvents (libs/contracts call-event-ndjson.ts); lines that cannot be sent are reported, not sent. */
async function* readEvents(
  path: string,
  onReject: (r: { line: number; eventId: string; reason: string }) => void,
  counters: { lines: number },
): AsyncGenerator<ingestV1.CallEvent> {
  for await (const parsed of readCallEventLines(path, counters)) {
    if (parsed.ok) yield parsed.event;
    else onReject({ line: parsed.line, eventId: parsed.eventId, reason: parsed.reason });
  }
}

function apiKey(file: string | undefined): string | undefined {
  const v = file ? readFileSync(file, 'utf8').trim() : process.env.EE_INGEST_API_KEY?.trim();
  return v || undefined;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      input: { type: 'string' },
      target: { type: 'string' },
      'api-key-file': { type: 'string' },
      'ca-file': { type: 'string' },
      'cert-file': { type: 'string' },
      'key-file': { type: 'string' },
      insecure: { type: 'boolean', default: false },
      batch: { type: 'string', default: '500' },
      window: { type: 'string', default: '8' },
      'max-retries': { type: 'string', default: '20' },
      rejects: { type: 'string' },
      'progress-s': { type: 'string', default: '2' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const problems: string[] = [];
  if (!values.input) problems.push('--input is required (a file, or - for standard input)');
  if (!values.target || !/^[^\s:]+:\d{1,5}$/.test(values.target)) problems.push('--target must be host:port');
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      problems.push(`--${name} must be an integer ${min}-${max}`);
    return n;
  };
  const batch = int('batch', values.batch, 1, 100000);
  const window = int('window', values.window, 1, 256);
  const maxRetries = int('max-retries', values['max-retries'], 0, 10000);
  const progressS = int('progress-s', values['progress-s'], 1, 3600);
  if (!!values['cert-file'] !== !!values['key-file']) problems.push('--cert-file and --key-file go together');
  if (values.insecure && (values['ca-file'] || values['cert-file']))
    problems.push('--insecure cannot be combined with --ca-file or --cert-file');
  const key = apiKey(values['api-key-file']);
  if (!key && !values['cert-file'])
    problems.push(
      'no credentials: --api-key-file (or EE_INGEST_API_KEY), or --cert-file/--key-file for mTLS',
    );
  if (key && !/^eek_[A-Za-z0-9]{1,64}_\S{1,256}$/.test(key))
    problems.push('the API key must look like eek_<keyId>_<secret>');
  if (problems.length) {
    process.stderr.write(`send: ${problems.join('; ')}\n\n${USAGE}\n`);
    return 2;
  }
  const creds = channelCredentials(credentials, {
    insecure: values.insecure,
    ...(values['ca-file'] ? { ca: readFileSync(values['ca-file']) } : {}),
    ...(values['cert-file']
      ? { cert: readFileSync(values['cert-file']), key: readFileSync(values['key-file']!) }
      : {}),
  });
  const client = new ingestV1.CallRecordIngestClient(values.target!, creds, {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const metadata = new Metadata();
  if (key) metadata.set('authorization', `Bearer ${key}`);

  let rejectsOut: WriteStream | undefined;
  const localRejects = new Map<string, number>();
  const remoteRejects = new Map<string, number>();
  const rejectLine = (o: object): void => {
    rejectsOut ??= values.rejects ? createWriteStream(values.rejects) : undefined;
    rejectsOut?.write(JSON.stringify(o) + '\n');
  };
  const counters = { lines: 0 };
  const started = Date.now();
  let last: SendTotals = { sent: 0, accepted: 0, duplicates: 0, rejected: 0, batchesAcked: 0, reconnects: 0 };
  const progress = (final = false): void => {
    const s = (Date.now() - started) / 1000;
    const acked = last.accepted + last.duplicates + last.rejected;
    const local = [...localRejects.values()].reduce((a, b) => a + b, 0);
    process.stderr.write(
      `send: ${counters.lines} lines read, ${acked} events acked (${last.accepted} accepted, ${last.duplicates} duplicates, ` +
        `${last.rejected} refused by ingest), ${local} refused here, ${Math.round(acked / Math.max(s, 0.001))} events/s, ` +
        `${last.reconnects} reconnections${final ? `, ${s.toFixed(1)} s` : ''}\n`,
    );
  };
  const timer = setInterval(() => progress(), progressS * 1000);
  timer.unref();
  try {
    last = await sendEvents(
      readEvents(
        values.input!,
        (r) => {
          localRejects.set(r.reason, (localRejects.get(r.reason) ?? 0) + 1);
          rejectLine({ ...r, where: 'local' });
        },
        counters,
      ),
      {
        client,
        metadata,
        batchEvents: batch,
        window,
        maxRetries,
        maxBackoffMs: 30_000,
        onAck: (t) => (last = t),
        onRetry: (why, wait) =>
          process.stderr.write(`send: stream broken (${why}); resending unacked batches in ${wait} ms\n`),
        onRejected: (ev, code, detail) => {
          remoteRejects.set(code, (remoteRejects.get(code) ?? 0) + 1);
          rejectLine({
            eventId: idLooksLikeNumber(ev?.eventId ?? '') ? '(withheld)' : ev?.eventId,
            reason: code,
            detail,
            where: 'ingest',
          });
        },
      },
    );
  } catch (e) {
    clearInterval(timer);
    if (e instanceof SendError) last = e.totals;
    progress(true);
    process.stderr.write(`send: stopped: ${(e as Error).message}\n`);
    return 1;
  } finally {
    client.close();
    if (rejectsOut) await new Promise<void>((r) => rejectsOut!.end(() => r()));
  }
  clearInterval(timer);
  progress(true);
  for (const [reason, n] of localRejects) process.stderr.write(`  refused here ${n}: ${reason}\n`);
  for (const [reason, n] of remoteRejects) process.stderr.write(`  refused by ingest ${n}: ${reason}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`send: ${e.message}\n`);
    process.exit(1);
  },
);
