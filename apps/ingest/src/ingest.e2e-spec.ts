import { credentials, loadPackageDefinition, Metadata, ServiceError, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import Redis from 'ioredis';
import { service as healthService } from 'grpc-health-check';
import { decodeHandoffEntry, HandoffEvent, ingestV1 } from '@eagle-eye/contracts';
import { apiKeyFor, DEMO_CARRIERS, seedDemo, sha256 } from '@eagle-eye/db';
import { RedisKeys } from '@eagle-eye/redis';
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
import { makeGenericClientConstructor } from '@grpc/grpc-js';
import { callEvents, goodEvent, subscriberToken } from './testing/call-events';
import { bearer, ingestClient, streamBatches, submit } from './testing/ingest-client';

const R = ingestV1.RejectionReason;
const PARTITIONS = 4;
const KEY_A = apiKeyFor(DEMO_CARRIERS[0].keyId, DEMO_CARRIERS[0].secret);

interface Env {
  app: RunningApp;
  schema: TestSchema;
  redis: Redis;
  keys: RedisKeys;
  prefix: string;
  grpcAddress: string;
  httpPort: number;
}

async function startIngest(extra: Record<string, string> = {}): Promise<Env> {
  const schema = await createTestSchema();
  await seedDemo(schema.pool);
  const prefix = uniqueId('ee');
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const app = spawnApp('ingest', {
    REDIS_URL: testRedisUrl(),
    DATABASE_URL: schema.url,
    REDIS_KEY_PREFIX: prefix,
    INGEST_GRPC_PORT: String(grpcPort),
    INGEST_HTTP_PORT: String(httpPort),
    HANDOFF_PARTITIONS: String(PARTITIONS),
    INGEST_HEALTH_POLL_MS: '200',
    ...extra,
  });
  await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`, app);
  return {
    app,
    schema,
    redis: await connectTestRedis(),
    keys: new RedisKeys(prefix),
    prefix,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    httpPort,
  };
}

async function stopIngest(env: Env): Promise<void> {
  const code = await env.app.stop();
  await dropRedisPrefix(env.redis, env.prefix);
  env.redis.disconnect();
  await env.schema.drop();
  if (code !== 0) throw new Error(`ingest exited with ${code}: ${env.app.output().slice(-3000)}`);
}

async function handedOver(env: Env): Promise<Array<{ carrierId: string; ev: HandoffEvent }>> {
  const out = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (const [, fields] of await env.redis.xrange(env.keys.handoffStream(p), '-', '+')) {
      const entry = decodeHandoffEntry(fields);
      for (const ev of entry.events) out.push({ carrierId: entry.carrierId, ev });
    }
  }
  return out;
}

function batch(sequence: number, events: ingestV1.CallEvent[]): ingestV1.CallEventBatch {
  return { sequence, events };
}

describe('ingest over gRPC (built app, real Redis and Postgres)', () => {
  let env: Env;
  let client: ReturnType<typeof ingestClient>;
  beforeAll(async () => {
    env = await startIngest({ INGEST_MAX_BATCH_EVENTS: '200', INGEST_MAX_MESSAGE_BYTES: String(128 * 1024) });
    client = ingestClient(env.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    if (env) await stopIngest(env);
  });

  it('acks a mixed batch exactly: good, bad, clear-number, in-batch and redelivered duplicates', async () => {
    const now = Date.now();
    const first = await streamBatches(client, bearer(KEY_A), [batch(1, callEvents('mix', 0, 3, now))]);
    expect(first.code).toBe(status.OK);
    expect(first.acks).toEqual([{ sequence: 1, accepted: 3, duplicates: 0, rejected: [] }]);

    const events = [
      goodEvent(
        { eventId: 'mix-new', callId: 'mix-c9', caller: subscriberToken(91), callee: subscriberToken(92) },
        now,
      ),
      goodEvent({ eventId: 'mix-nocall', callId: '' }, now),
      goodEvent({ eventId: 'mix-clear', callId: 'mix-c8', callee: '+8613812345678' }, now),
      callEvents('mix', 1, 1, now)[0], // handed over in batch 1: a redelivery
      goodEvent(
        { eventId: 'mix-new', callId: 'mix-c9', caller: subscriberToken(91), callee: subscriberToken(92) },
        now,
      ),
      goodEvent({ eventId: 'mix-future', callId: 'mix-c7', eventTimeMs: now + 3_600_000 }, now),
    ];
    const second = await streamBatches(client, bearer(KEY_A), [batch(2, events)]);
    expect(second.code).toBe(status.OK);
    expect(second.acks).toHaveLength(1);
    const ack = second.acks[0];
    expect({ sequence: ack.sequence, accepted: ack.accepted, duplicates: ack.duplicates }).toEqual({
      sequence: 2,
      accepted: 1,
      duplicates: 1,
    });
    expect(ack.rejected.map((r) => [r.index, r.eventId, r.code])).toEqual([
      [1, 'mix-nocall', R.MISSING_FIELD],
      [2, 'mix-clear', R.CLEAR_PHONE_NUMBER],
      [4, 'mix-new', R.DUPLICATE_IN_BATCH],
      [5, 'mix-future', R.EVENT_TIME_IN_FUTURE],
    ]);
    expect(ack.rejected[0].message).toContain('call_id');
    expect(ack.rejected[1].message).toContain('callee');
    expect(JSON.stringify(ack)).not.toContain('13812345678');

    const ids = (await handedOver(env)).filter((h) => h.ev.id.startsWith('mix')).map((h) => h.ev.id);
    expect(ids.sort()).toEqual(['mix-e0', 'mix-e1', 'mix-e2', 'mix-new']);
    // the clear number reached neither Redis nor the log
    expect(env.app.output()).not.toContain('13812345678');
  });

  it.each<[string, Metadata]>([
    ['no credentials', bearer(undefined)],
    ['a malformed key', bearer('not-a-key')],
    ['an unknown key', bearer('eek_nosuchkey_secret')],
    ['a wrong secret', bearer(apiKeyFor(DEMO_CARRIERS[0].keyId, 'wrong-secret'))],
  ])('refuses %s with UNAUTHENTICATED and ingests nothing', async (_name, md) => {
    const before = (await handedOver(env)).length;
    const s = await streamBatches(client, md, [batch(1, callEvents('unauth', 0, 3))]);
    expect(s.code).toBe(status.UNAUTHENTICATED);
    expect(s.acks).toEqual([]);
    await expect(submit(client, md, batch(1, callEvents('unauth', 0, 3)))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
    expect((await handedOver(env)).length).toBe(before);
  });

  it('refuses a revoked key', async () => {
    await env.schema.pool.query(
      `INSERT INTO carrier_api_keys (key_id, carrier_id, secret_sha256, revoked_at) VALUES ('revoked1', 'carrier-a', $1, now())`,
      [sha256('revoked-secret')],
    );
    const s = await streamBatches(client, bearer('eek_revoked1_revoked-secret'), [
      batch(1, callEvents('rev', 0, 3)),
    ]);
    expect(s.code).toBe(status.UNAUTHENTICATED);
    expect(s.details).toContain('revoked');
  });

  it('takes the carrier from the credentials', async () => {
    const keyB = apiKeyFor(DEMO_CARRIERS[1].keyId, DEMO_CARRIERS[1].secret);
    const ack = await submit(client, bearer(keyB), batch(7, callEvents('who', 0, 3)));
    expect(ack).toEqual({ sequence: 7, accepted: 3, duplicates: 0, rejected: [] });
    const mine = (await handedOver(env)).filter((h) => h.ev.id.startsWith('who-'));
    expect(mine.map((h) => h.carrierId)).toEqual(['carrier-b', 'carrier-b', 'carrier-b']);
  });

  it('a client that drops mid-stream and resends from its last ack hands every event over exactly once', async () => {
    const batches = Array.from({ length: 12 }, (_, i) => batch(i + 1, callEvents('drop', i * 60, 60)));
    let lastAck = 0;
    const first = await streamBatches(client, bearer(KEY_A), batches, (ack) => {
      lastAck = ack.sequence;
      return ack.sequence === 4 ? 'cancel' : undefined;
    });
    expect(first.code).toBe(status.CANCELLED);
    expect(lastAck).toBe(4);
    expect(first.acks.map((a) => a.sequence)).toEqual([1, 2, 3, 4]);

    const resent = await streamBatches(client, bearer(KEY_A), batches.slice(lastAck));
    expect(resent.code).toBe(status.OK);
    expect(resent.acks.map((a) => a.sequence)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    for (const a of resent.acks) {
      expect(a.accepted + a.duplicates).toBe(60);
      expect(a.rejected).toEqual([]);
    }
    const ids = (await handedOver(env)).filter((h) => h.ev.id.startsWith('drop-')).map((h) => h.ev.id);
    expect(ids).toHaveLength(720);
    expect(new Set(ids).size).toBe(720);
    // a second full resend changes nothing
    const again = await streamBatches(client, bearer(KEY_A), batches);
    expect(again.acks.reduce((n, a) => n + a.duplicates, 0)).toBe(720);
    expect((await handedOver(env)).filter((h) => h.ev.id.startsWith('drop-'))).toHaveLength(720);
  });

  it('answers SubmitCallEvents', async () => {
    const ack = await submit(
      client,
      bearer(KEY_A),
      batch(42, [...callEvents('unary', 0, 2), goodEvent({ eventId: '' })]),
    );
    expect(ack.sequence).toBe(42);
    expect(ack.accepted).toBe(2);
    expect(ack.rejected.map((r) => [r.index, r.code])).toEqual([[2, R.MISSING_FIELD]]);
  });

  it('refuses an oversized batch with INVALID_ARGUMENT and an oversized message with RESOURCE_EXHAUSTED', async () => {
    const tooMany = await streamBatches(client, bearer(KEY_A), [batch(1, callEvents('big', 0, 201))]);
    expect(tooMany.code).toBe(status.INVALID_ARGUMENT);
    expect(tooMany.details).toContain('at most 200');
    // 2000 events of ~130 bytes: over the 128 KiB message limit (checked before decoding)
    const big = callEvents('huge', 0, 2000);
    await expect(submit(client, bearer(KEY_A), batch(2, big))).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    expect((await handedOver(env)).filter((h) => /^(big|huge)-/.test(h.ev.id))).toEqual([]);
  });

  it('serves grpc.health.v1 and reflection', async () => {
    const Health = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new Health(env.grpcAddress, credentials.createInsecure()) as unknown as {
      check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string }) => void): void;
      close(): void;
    };
    const check = (service: string) =>
      new Promise<{ status: string }>((resolve, reject) =>
        health.check({ service }, (e, r) => (e ? reject(e) : resolve(r))),
      );
    expect(await check('')).toEqual({ status: 'SERVING' });
    expect(await check('eagleeye.v1.CallRecordIngest')).toEqual({ status: 'SERVING' });
    health.close();

    const def = loadSync(
      require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'),
      {
        keepCase: true,
      },
    );
    const pkg = loadPackageDefinition(def) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: new (a: string, c: unknown) => ReflectionClient } } };
    };
    interface ReflectionClient {
      ServerReflectionInfo(): NodeJS.ReadWriteStream & { end(): void };
      close(): void;
    }
    const refl = new pkg.grpc.reflection.v1.ServerReflection(env.grpcAddress, credentials.createInsecure());
    const names = await new Promise<string[]>((resolve, reject) => {
      const call = refl.ServerReflectionInfo();
      call.on('data', (r: { list_services_response?: { service: Array<{ name: string }> } }) =>
        resolve((r.list_services_response?.service ?? []).map((s) => s.name)),
      );
      call.on('error', reject);
      call.write({ list_services: '' } as never);
      call.end();
    });
    refl.close();
    expect(names).toEqual(expect.arrayContaining(['eagleeye.v1.CallRecordIngest', 'grpc.health.v1.Health']));
  });

  it('exposes its metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${env.httpPort}/metrics`)).text();
    expect(text).toMatch(
      /eagleeye_ingest_events_total\{(?=[^}]*carrier="carrier-a")(?=[^}]*result="accepted")[^}]*\} \d+/,
    );
    expect(text).toMatch(
      /eagleeye_ingest_events_total\{(?=[^}]*result="rejected")[^}]*reason="CLEAR_PHONE_NUMBER"/,
    );
    expect(text).toMatch(/eagleeye_ingest_events_total\{[^}]*result="duplicate"/);
    expect(text).toMatch(/eagleeye_ingest_ack_latency_seconds_bucket/);
    expect(text).toMatch(/eagleeye_ingest_handoff_backlog_entries\{[^}]*partition="0"/);
    expect(text).toMatch(/eagleeye_ingest_auth_failures_total\{[^}]*cause="bad_secret"/);
    expect(text).toMatch(/eagleeye_ingest_open_streams/);
  });
});

describe('ingest flow control (built app)', () => {
  let env: Env;
  let client: ReturnType<typeof ingestClient>;
  beforeAll(async () => {
    env = await startIngest({
      HANDOFF_PARTITIONS: '1',
      INGEST_MAX_BACKLOG_ENTRIES: '3',
      INGEST_BACKLOG_POLL_MS: '20',
      INGEST_STREAM_MAX_IN_FLIGHT: '2',
      INGEST_MAX_BATCH_EVENTS: '100',
      INGEST_RATE_LIMIT_EVENTS_PER_S: '10',
      INGEST_RATE_LIMIT_BURST_EVENTS: '1000',
    });
    client = ingestClient(env.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    if (env) await stopIngest(env);
  });

  it('stops acking while the detector lags and resumes when the backlog drains', async () => {
    const stream = env.keys.handoffStream(0);
    // a detector that has fallen behind: more entries than the limit (3) wait in the partition
    for (let i = 0; i < 4; i++) await env.redis.xadd(stream, '*', 'c', 'carrier-a', 'e', '[]');
    await new Promise((r) => setTimeout(r, 100));
    const batches = Array.from({ length: 10 }, (_, i) => batch(i + 1, callEvents(`bp${i}`, 0, 3)));
    const acks: number[] = [];
    const done = streamBatches(client, bearer(KEY_A), batches, (a) => void acks.push(a.sequence));
    await new Promise((r) => setTimeout(r, 500));
    expect(acks).toEqual([]);
    expect(await env.redis.xlen(stream)).toBe(4);
    // the "detector" catches up: ingest goes on
    const drain = setInterval(() => void env.redis.xtrim(stream, 'MAXLEN', 0), 20);
    const result = await done;
    clearInterval(drain);
    expect(result.code).toBe(status.OK);
    expect(acks).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuses a carrier over its rate with RESOURCE_EXHAUSTED and a retry hint, after acking what came before', async () => {
    const keyB = apiKeyFor(DEMO_CARRIERS[1].keyId, DEMO_CARRIERS[1].secret);
    const stream = env.keys.handoffStream(0);
    const drain = setInterval(() => void env.redis.xtrim(stream, 'MAXLEN', 0), 10);
    // 900 of the 1000-event burst (refilled at 10/s)
    for (let i = 0; i < 9; i++) {
      expect((await submit(client, bearer(keyB), batch(i + 1, callEvents(`rl${i}`, 0, 100)))).accepted).toBe(
        100,
      );
    }
    clearInterval(drain);
    await env.redis.xtrim(stream, 'MAXLEN', 0);
    // the detector lags, so batch 1 is still waiting for its hand-off when batch 2 is refused
    for (let i = 0; i < 4; i++) await env.redis.xadd(stream, '*', 'c', 'carrier-a', 'e', '[]');
    await new Promise((r) => setTimeout(r, 100));
    const batches = [1, 2, 3].map((seq) => batch(seq, callEvents(`rls${seq}`, 0, 100)));
    const done = streamBatches(client, bearer(keyB), batches);
    await new Promise((r) => setTimeout(r, 300));
    const drain2 = setInterval(() => void env.redis.xtrim(stream, 'MAXLEN', 0), 10);
    const s = await done;
    clearInterval(drain2);
    expect({ code: s.code, details: s.details }).toEqual({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringContaining('retry-after-ms'),
    });
    expect(s.acks.map((a) => [a.sequence, a.accepted])).toEqual([[1, 100]]);
    const retry = Number(s.trailers?.get('retry-after-ms')[0]);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(10_000);
  });

  it('shuts down promptly while backpressured: the stream ends UNAVAILABLE with nothing acked', async () => {
    const stream = env.keys.handoffStream(0);
    await env.redis.xtrim(stream, 'MAXLEN', 0);
    for (let i = 0; i < 4; i++) await env.redis.xadd(stream, '*', 'c', 'carrier-a', 'e', '[]');
    await new Promise((r) => setTimeout(r, 100));
    const done = streamBatches(client, bearer(KEY_A), [batch(1, callEvents('sd', 0, 3))]);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    expect(await env.app.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    const result = await done;
    expect(result.acks).toEqual([]);
    expect(result.code).toBe(status.UNAVAILABLE);
  });
});

describe('ingest under attack (built app)', () => {
  let env: Env;
  let client: ReturnType<typeof ingestClient>;
  const keyB = apiKeyFor(DEMO_CARRIERS[1].keyId, DEMO_CARRIERS[1].secret);
  beforeAll(async () => {
    env = await startIngest({
      INGEST_AUTH_CACHE_TTL_MS: '1000',
      INGEST_MAX_STREAMS_PER_CARRIER: '2',
      INGEST_MAX_CONNECTIONS_PER_CARRIER: '2',
    });
    client = ingestClient(env.grpcAddress);
  });
  afterAll(async () => {
    client?.close();
    if (env) await stopIngest(env);
  });

  /** A stream kept open: batches written on demand, its acks and final status collected. */
  function openStream(md: Metadata) {
    const call = client.streamCallEvents(md);
    const acks: ingestV1.BatchAck[] = [];
    const ended = new Promise<{ code: status; details: string; at: number }>((resolve) => {
      call.on('error', (e: ServiceError) => resolve({ code: e.code, details: e.details, at: Date.now() }));
      call.on('status', (s: { code: status; details: string }) =>
        resolve({ code: s.code, details: s.details, at: Date.now() }),
      );
    });
    call.on('data', (a: ingestV1.BatchAck) => acks.push(a));
    const acked = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && acks.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      expect(acks.length).toBeGreaterThanOrEqual(n);
    };
    return { call, acks, ended, acked };
  }

  it('ends an open stream once its key is revoked, within the auth cache lifetime and a half', async () => {
    await env.schema.pool.query(
      `INSERT INTO carrier_api_keys (key_id, carrier_id, secret_sha256) VALUES ('live1', 'carrier-a', $1)`,
      [sha256('live-secret')],
    );
    const s = openStream(bearer('eek_live1_live-secret'));
    s.call.write(batch(1, callEvents('live', 0, 3)));
    await s.acked(1);
    const revokedAt = Date.now();
    await env.schema.pool.query(`UPDATE carrier_api_keys SET revoked_at = now() WHERE key_id = 'live1'`);
    const end = await s.ended;
    expect({ code: end.code, details: end.details }).toEqual({
      code: status.UNAUTHENTICATED,
      details: 'API key revoked',
    });
    expect(end.at - revokedAt).toBeLessThan(1500 + 1000); // TTL 1 s: re-checked every 0.5 s
    // and the key opens nothing new
    const again = await streamBatches(client, bearer('eek_live1_live-secret'), [
      batch(2, callEvents('live2', 0, 1)),
    ]);
    expect(again.code).toBe(status.UNAUTHENTICATED);
  });

  it('caps the streams one carrier holds open, without starving the others', async () => {
    const a1 = openStream(bearer(KEY_A));
    const a2 = openStream(bearer(KEY_A));
    a1.call.write(batch(1, callEvents('cap1', 0, 1)));
    a2.call.write(batch(1, callEvents('cap2', 0, 1)));
    await a1.acked(1);
    await a2.acked(1);
    const a3 = await streamBatches(client, bearer(KEY_A), [batch(1, callEvents('cap3', 0, 1))]);
    expect(a3.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(a3.details).toContain('already has 2 open streams');
    // another carrier is not affected
    const b = await streamBatches(client, bearer(keyB), [batch(1, callEvents('capb', 0, 1))]);
    expect(b.code).toBe(status.OK);
    // a closed stream frees its slot
    a1.call.end();
    expect((await a1.ended).code).toBe(status.OK);
    const a4 = await streamBatches(client, bearer(KEY_A), [batch(1, callEvents('cap4', 0, 1))]);
    expect(a4.code).toBe(status.OK);
    a2.call.end();
    await a2.ended;
    const metrics = await (await fetch(`http://127.0.0.1:${env.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/eagleeye_ingest_calls_refused_total\{kind="stream"[^}]*\} 1/);
  });

  it('caps the connections one carrier has calls open on, without starving the others', async () => {
    // each client its own HTTP/2 connection (grpc-js shares one between clients of equal options)
    const own = () =>
      new ingestV1.CallRecordIngestClient(env.grpcAddress, credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      });
    const c1 = own();
    const c2 = own();
    const c3 = own();
    try {
      const hold = (c: ingestV1.CallRecordIngestClient, tag: string) => {
        const call = c.streamCallEvents(bearer(KEY_A));
        const acked = new Promise<void>((resolve) => call.once('data', () => resolve()));
        const ended = new Promise<void>((resolve) => {
          call.on('status', () => resolve());
          call.on('error', () => resolve());
        });
        call.write(batch(1, callEvents(tag, 0, 1)));
        return { call, acked, ended };
      };
      const h1 = hold(c1, 'conn1');
      const h2 = hold(c2, 'conn2');
      await Promise.all([h1.acked, h2.acked]);
      // a third connection is refused (a unary call: the two streams are at that cap as well)
      await expect(submit(c3, bearer(KEY_A), batch(2, callEvents('conn3u', 0, 1)))).rejects.toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
        details:
          'carrier carrier-a already has 2 connections with calls in progress; close one or retry later',
      });
      // another carrier is not affected
      expect((await submit(c3, bearer(keyB), batch(3, callEvents('conn3b', 0, 1)))).accepted).toBe(1);
      // a connection whose calls ended frees its place
      h1.call.end();
      await h1.ended;
      expect((await submit(c3, bearer(KEY_A), batch(4, callEvents('conn3c', 0, 1)))).accepted).toBe(1);
      h2.call.end();
      await h2.ended;
      const metrics = await (await fetch(`http://127.0.0.1:${env.httpPort}/metrics`)).text();
      expect(metrics).toMatch(/eagleeye_ingest_calls_refused_total\{kind="connection"[^}]*\} 1/);
    } finally {
      for (const c of [c1, c2, c3]) c.close();
    }
  });

  it('takes the carrier from the credentials only: a client cannot pass itself off as another', async () => {
    const md = bearer(keyB);
    md.set('x-eagleeye-authenticated-carrier', 'carrier-a');
    const ack = await submit(client, md, batch(3, callEvents('spoof', 0, 2)));
    expect(ack.accepted).toBe(2);
    const mine = (await handedOver(env)).filter((h) => h.ev.id.startsWith('spoof-'));
    expect(mine.map((h) => h.carrierId)).toEqual(['carrier-b', 'carrier-b']);
    // and without credentials the header opens nothing
    const none = new Metadata();
    none.set('x-eagleeye-authenticated-carrier', 'carrier-a');
    await expect(submit(client, none, batch(4, callEvents('spoof2', 0, 1)))).rejects.toMatchObject({
      code: status.UNAUTHENTICATED,
    });
  });
});
