// k6: call events into Eagle Eye ingest over gRPC bidirectional streams, at a constant arrival rate.
//
//   k6 run load-tests/k6/ingest-stream.js \
//     -e TARGET=127.0.0.1:50051 -e API_KEY=eek_demoa_demo-carrier-a-secret-0000000000000000 \
//     -e EVENTS_PER_S=20000 -e BATCH=500 -e DURATION=60s -e PROBES_PER_S=5
//
// Needs k6 >= 0.49 (gRPC streams in k6/net/grpc). Each iteration opens one StreamCallEvents stream,
// writes BATCHES_PER_STREAM batches, and waits for their acks; the constant-arrival-rate executor
// starts iterations on schedule whether or not earlier ones finished (open loop), so a slow server
// shows up as ack latency and as dropped iterations (k6's `dropped_iterations`), not as a lower
// request rate. Metrics: `ack_latency` (ms, from the batch's write), `events_accepted`,
// `events_duplicate`, `events_rejected`, `stream_errors`.
//
// Probe calls (PROBES_PER_S) carry every red flag at once (abroad but showing a domestic
// virtual-operator number, no attestation, display mismatch, new number, elderly callee), so each
// raises an alert; run console-listener.js alongside to time them to the console.
//
// Loopback targets only: the script refuses anything else, like the Node tools.
import { Client, Stream } from 'k6/net/grpc';
import { Counter, Trend } from 'k6/metrics';
import exec from 'k6/execution';

const TARGET = __ENV.TARGET || '127.0.0.1:50051';
const API_KEY = __ENV.API_KEY || 'eek_demoa_demo-carrier-a-secret-0000000000000000';
const EVENTS_PER_S = Number(__ENV.EVENTS_PER_S || 10000);
const BATCH = Number(__ENV.BATCH || 500);
const BATCHES_PER_STREAM = Number(__ENV.BATCHES_PER_STREAM || 10);
const DURATION = __ENV.DURATION || '60s';
const POPULATION = Number(__ENV.POPULATION || 200000);
const PROBES_PER_S = Number(__ENV.PROBES_PER_S || 0);
const PROTO_DIR = __ENV.PROTO_DIR || '../../proto';

const host = TARGET.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
if (!(host === 'localhost' || host === '::1' || /^127\./.test(host))) {
  throw new Error(`TARGET ${TARGET} is not a loopback address: this script only sends to this machine`);
}

// One iteration = one stream of BATCHES_PER_STREAM batches.
const ITERATIONS_PER_S = Math.max(1, Math.round(EVENTS_PER_S / (BATCH * BATCHES_PER_STREAM)));

export const options = {
  scenarios: {
    ingest: {
      executor: 'constant-arrival-rate',
      rate: ITERATIONS_PER_S,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: Math.max(2, ITERATIONS_PER_S * 2),
      maxVUs: Math.max(10, ITERATIONS_PER_S * 10),
    },
  },
  thresholds: {
    stream_errors: ['count==0'],
  },
};

const client = new Client();
client.load([PROTO_DIR], 'eagleeye/v1/ingest.proto');

const ackLatency = new Trend('ack_latency', true);
const accepted = new Counter('events_accepted');
const duplicates = new Counter('events_duplicate');
const rejected = new Counter('events_rejected');
const streamErrors = new Counter('stream_errors');

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function letters(n, width) {
  let s = '';
  let v = Math.floor(n);
  do {
    s = LETTERS[v % 52] + s;
    v = Math.floor(v / 52);
  } while (v > 0);
  while (s.length < width) s = 'A' + s;
  return s;
}
// Well-formed pseudonym tokens made of letters only: never mistaken for a clear number.
const token = (space, i) => `p1.k6.${space}${letters(i, 16)}`;
const RUN = letters(Date.now() % 52 ** 4, 4);
const REGIONS = ['510100', '510700', '510600', '510500'];

function event(callId, suffix, type, t, caller, callee, extra) {
  return Object.assign(
    {
      eventId: `${callId}.${suffix}`,
      callId,
      type,
      eventTimeMs: String(t),
      caller,
      callee,
      callerClass: 'MOBILE',
      callerCountry: 'CN',
      callerIdVerified: 'ATTESTATION_A',
      callerDisplayMismatch: false,
      calleeRegion: REGIONS[callId.length % REGIONS.length],
      calleeAgeBand: 'AGE_29_45',
      talkDurationS: 0,
      releaseCause: '',
    },
    extra || {},
  );
}

// A background call (attempt, answer, end; answered and longer than a nuisance call) between a
// subscriber and one of its four regular contacts: traffic that must not alert.
function backgroundCall(n, now, out) {
  const caller = Math.floor(Math.random() * POPULATION);
  const callee = (caller + 1 + ((caller * 7919 + (n % 4) * 104729) % (POPULATION - 1))) % POPULATION;
  const callId = `k6.${RUN}.${exec.vu.idInTest}.${n}`;
  const a = token(`${RUN}Bg`, caller);
  const b = token(`${RUN}Bg`, callee);
  const talk = 20 + (n % 4) * 10;
  out.push(event(callId, 'a', 'CALL_ATTEMPT', now - (talk + 5) * 1000, a, b));
  out.push(event(callId, 'n', 'CALL_ANSWERED', now - talk * 1000, a, b));
  out.push(event(callId, 'e', 'CALL_ENDED', now, a, b, { talkDurationS: talk, releaseCause: '16' }));
}

function probeCall(n, now, out) {
  const callId = `k6p.${RUN}.${exec.vu.idInTest}.${n}`;
  const a = token(`${RUN}Pr`, exec.vu.idInTest * 1e7 + n * 2);
  const b = token(`${RUN}Pr`, exec.vu.idInTest * 1e7 + n * 2 + 1);
  const red = {
    callerClass: 'VIRTUAL_OPERATOR',
    callerCountry: 'KH',
    callerIdVerified: 'UNVERIFIED',
    callerDisplayMismatch: true,
    calleeRegion: '510100',
    calleeAgeBand: 'AGE_65_PLUS',
  };
  out.push(event(callId, 'a', 'CALL_ATTEMPT', now - 2000, a, b, red));
  out.push(event(callId, 'n', 'CALL_ANSWERED', now, a, b, red));
}

let seq = 0;
let calls = 0;
let connected = false;

export default function () {
  if (!connected) {
    client.connect(TARGET, { plaintext: true });
    connected = true;
  }
  const sent = {};
  let acked = 0;
  const stream = new Stream(client, 'eagleeye.v1.CallRecordIngest/StreamCallEvents', {
    metadata: { authorization: `Bearer ${API_KEY}` },
  });
  stream.on('data', (ack) => {
    const t = sent[ack.sequence];
    if (t !== undefined) ackLatency.add(Date.now() - t);
    accepted.add(ack.accepted || 0);
    duplicates.add(ack.duplicates || 0);
    rejected.add((ack.rejected || []).length);
    acked++;
  });
  stream.on('error', (e) => {
    streamErrors.add(1);
    console.error(`stream error: ${e.message || JSON.stringify(e)}`);
  });
  stream.on('end', () => {
    if (acked < BATCHES_PER_STREAM) {
      streamErrors.add(1);
      console.error(`stream ended after ${acked} of ${BATCHES_PER_STREAM} acks`);
    }
  });

  // Probes per batch so that PROBES_PER_S holds across all iterations.
  const probesPerBatch = PROBES_PER_S / (ITERATIONS_PER_S * BATCHES_PER_STREAM);
  for (let i = 0; i < BATCHES_PER_STREAM; i++) {
    const now = Date.now();
    const events = [];
    let probes = Math.floor(probesPerBatch) + (Math.random() < probesPerBatch % 1 ? 1 : 0);
    while (probes-- > 0) probeCall(calls++, now, events);
    while (events.length + 3 <= BATCH) backgroundCall(calls++, now, events);
    seq++;
    sent[String(seq)] = now;
    stream.write({ sequence: String(seq), events });
  }
  // The iteration ends when the server closes the stream after the last ack (k6 keeps the
  // iteration alive while the stream is open).
  stream.end();
}
