import { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { ingestV1 } from '@eagle-eye/contracts';
import { apiKeyFor, DEMO_CARRIERS, seedDemo } from '@eagle-eye/db';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  freePort,
  RunningApp,
  spawnApp,
  testRedisUrl,
  TestSchema,
  uniqueId,
  waitForHttp,
} from '@eagle-eye/testing';
import { callEvents } from './testing/call-events';
import { bearer, ingestClient } from './testing/ingest-client';

/**
 * Found by the chaos suite (scenario slow-carrier): a carrier that keeps sending and stops reading
 * its acks made ingest read on and buffer every ack, without bound. Now a batch keeps its in-flight
 * slot until its ack is written out, so ingest stops reading such a stream and HTTP/2 flow control
 * holds the carrier back; once it reads again, every ack arrives.
 */
jest.setTimeout(120_000);

const KEY_B = apiKeyFor(DEMO_CARRIERS[1].keyId, DEMO_CARRIERS[1].secret);
/** events per batch: one new, the rest repeats refused in the ack (about 100 bytes each) */
const COPIES = 500;

async function eventsSeen(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^eagleeye_ingest_events_total\{[^}]*carrier="carrier-b"[^}]*\} (\d+)/gm))
    n += Number(m[1]);
  return n;
}

describe('ingest with a carrier that stops reading acks (built app)', () => {
  let app: RunningApp;
  let schema: TestSchema;
  let prefix: string;
  let httpPort: number;
  let grpcPort: number;

  beforeAll(async () => {
    schema = await createTestSchema();
    await seedDemo(schema.pool);
    prefix = uniqueId('ee');
    grpcPort = await freePort();
    httpPort = await freePort();
    app = spawnApp('ingest', {
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: schema.url,
      REDIS_KEY_PREFIX: prefix,
      INGEST_GRPC_PORT: String(grpcPort),
      INGEST_HTTP_PORT: String(httpPort),
      INGEST_STREAM_MAX_IN_FLIGHT: '4',
    });
    await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`, app);
  });
  afterAll(async () => {
    const code = await app?.stop();
    const redis = await connectTestRedis();
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
    await schema?.drop();
    if (code !== 0) throw new Error(`ingest exited with ${code}: ${app.output().slice(-3000)}`);
  });

  it('stops reading the stream instead of buffering its acks, and delivers them all once it reads', async () => {
    const client = ingestClient(`127.0.0.1:${grpcPort}`);
    const call: ClientDuplexStream<ingestV1.CallEventBatch, ingestV1.BatchAck> = client.streamCallEvents(
      bearer(KEY_B),
    );
    const acks: ingestV1.BatchAck[] = [];
    let error: ServiceError | undefined;
    call.on('data', (a: ingestV1.BatchAck) => acks.push(a));
    call.on('error', (e: ServiceError) => (error = e));
    call.pause();
    let seq = 0;
    // writes while its own buffer has room, as a grpc-js caller must: 6 s of it
    const until = Date.now() + 6000;
    while (Date.now() < until) {
      if (!call.writableNeedDrain) {
        const [ev] = callEvents(`slow${seq}`, 0, 1);
        call.write({ sequence: ++seq, events: Array.from({ length: COPIES }, () => ev) });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    // what ingest took in once it settled (no change for 2 s)
    let read = await eventsSeen(httpPort);
    for (let still = 0, t = Date.now(); still < 4 && Date.now() - t < 60_000;) {
      await new Promise((r) => setTimeout(r, 500));
      const now = await eventsSeen(httpPort);
      still = now === read ? still + 1 : 0;
      read = now;
    }
    // held back: ingest read what it may hold (4 in flight, acks in its write buffer) and stopped,
    // leaving the rest of what was sent unread; before the fix it read every batch sent
    expect(read % COPIES).toBe(0);
    expect(read / COPIES).toBeLessThan(seq);
    expect(read / COPIES).toBeLessThanOrEqual(40);

    call.resume();
    call.end();
    const deadline = Date.now() + 30_000;
    while (acks.length < seq && !error && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(error).toBeUndefined();
    expect(acks.map((a) => Number(a.sequence))).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
    expect(acks.every((a) => a.accepted === 1 && a.rejected.length === COPIES - 1)).toBe(true);
    client.close();
  });
});
