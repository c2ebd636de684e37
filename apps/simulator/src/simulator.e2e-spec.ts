import Redis from 'ioredis';
import { decodeHandoffEntry, ingestV1 } from '@eagle-eye/contracts';
import { apiKeyFor, DEMO_CARRIERS, seedDemo } from '@eagle-eye/db';
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
import { Generator } from './sim/generator';
import { GroundTruthRecord, ScamCallRecord } from './sim/ground-truth';
import { SCENARIOS } from './sim/scenarios';
import { IngestStream } from './stream/ingest-client';
import { streamRun, TimeWarp } from './stream/runner';

const PARTITIONS = 4;
const keys = new Map(DEMO_CARRIERS.map((c) => [c.id as string, apiKeyFor(c.keyId, c.secret)]));

describe('simulator through a real ingest', () => {
  let schema: TestSchema;
  let redis: Redis;
  let prefix: string;
  let grpcPort: number;
  let httpPort: number;
  let ingest: RunningApp | undefined;
  const apps: RunningApp[] = [];

  const startIngest = async (): Promise<RunningApp> => {
    const app = spawnApp('ingest', {
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: schema.url,
      REDIS_KEY_PREFIX: prefix,
      INGEST_GRPC_PORT: String(grpcPort),
      INGEST_HTTP_PORT: String(httpPort),
      HANDOFF_PARTITIONS: String(PARTITIONS),
    });
    apps.push(app);
    await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`, app);
    return app;
  };

  beforeAll(async () => {
    schema = await createTestSchema();
    await seedDemo(schema.pool);
    redis = await connectTestRedis();
    prefix = uniqueId('ee');
    grpcPort = await freePort();
    httpPort = await freePort();
    ingest = await startIngest();
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.stop();
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
    await schema.drop();
  });

  async function handedOver(): Promise<Map<string, ingestV1.CallEvent | string>> {
    const k = new RedisKeys(prefix);
    const out = new Map<string, string>();
    for (let p = 0; p < PARTITIONS; p++)
      for (const [, fields] of await redis.xrange(k.handoffStream(p), '-', '+')) {
        const entry = decodeHandoffEntry(fields);
        for (const ev of entry.events)
          out.set(`${entry.carrierId}/${ev.id}`, `${ev.call}|${ev.caller}|${ev.callee}|${ev.t}`);
      }
    return out;
  }

  it('streams a scenario with the carriers keys; ingest takes every event, ground truth included', async () => {
    const records: GroundTruthRecord[] = [];
    const start = Date.now() - 3 * 3_600_000; // long scam calls end up to ~2 h later: never in the future
    const gen = new Generator(
      {
        seed: 11,
        runId: uniqueId('r')
          .slice(0, 20)
          .replace(/[^A-Za-z0-9-]/g, '-'),
        subscribers: 20_000,
        scenario: SCENARIOS.default,
        startMs: start,
        durationMs: 5 * 60_000,
      },
      (r) => records.push(r),
    );
    const streams = new Map(
      [...keys].map(([carrierId, apiKey]) => [
        carrierId,
        new IngestStream({ address: `127.0.0.1:${grpcPort}`, carrierId, apiKey }),
      ]),
    );
    const sent = new Map<string, string>();
    const final = await streamRun(gen, {
      warp: new TimeWarp(start, Date.now(), 0),
      streams,
      onEvent: (c, e) =>
        sent.set(`${c}/${e.eventId}`, `${e.callId}|${e.caller}|${e.callee}|${e.eventTimeMs}`),
    });
    for (const s of streams.values()) s.close();
    expect(final.rejected).toBe(0);
    expect(final.accepted).toBe(sent.size);
    expect(sent.size).toBeGreaterThan(1000);
    const got = await handedOver();
    for (const [k, v] of sent) expect(got.get(k)).toBe(v);
    const scam = records.filter((r): r is ScamCallRecord => r.type === 'scam_call');
    expect(scam.length).toBeGreaterThan(10);
    for (const c of scam)
      expect(got.get(`${c.carrierId}/${c.callId}.a`)).toBe(
        `${c.callId}|${c.caller}|${c.callee}|${c.attemptMs}`,
      );
  }, 120_000);

  it('resends unacked batches after ingest restarts: nothing lost, redelivery counted as duplicates', async () => {
    const start = Date.now() - 3 * 3_600_000; // long scam calls end up to ~2 h later: never in the future
    const gen = new Generator({
      seed: 12,
      runId: 'restart1',
      subscribers: 50_000,
      scenario: SCENARIOS.default,
      startMs: start,
      durationMs: 20 * 60_000,
    });
    const streams = new Map(
      [...keys].map(([carrierId, apiKey]) => [
        carrierId,
        new IngestStream({ address: `127.0.0.1:${grpcPort}`, carrierId, apiKey, maxInFlight: 4 }),
      ]),
    );
    const sent = new Set<string>();
    let restarted: Promise<void> | undefined;
    const run = streamRun(gen, {
      warp: new TimeWarp(start, Date.now(), 0),
      streams,
      flushMs: 20,
      onEvent: (c, e) => {
        sent.add(`${c}/${e.eventId}`);
        if (sent.size === 3000 && !restarted)
          restarted = (async () => {
            await ingest!.stop('SIGKILL');
            ingest = await startIngest();
          })();
      },
    });
    const final = await run;
    await restarted;
    for (const s of streams.values()) s.close();
    expect(restarted).toBeDefined();
    const got = await handedOver();
    const missing = [...sent].filter((k) => !got.has(k));
    if (missing.length)
      console.log(
        'missing',
        missing.length,
        missing.slice(0, 5),
        final,
        [...streams.values()].map((s) => s.stats),
      );
    expect(missing).toEqual([]);
    expect(final.rejected).toBe(0);
    expect(final.accepted + final.duplicates).toBeGreaterThanOrEqual(sent.size);
  }, 120_000);

  it('the simulator app streams the demo city, becomes ready on the first ack and exports its metrics', async () => {
    const port = await freePort();
    const sim = spawnApp('simulator', {
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: schema.url,
      REDIS_KEY_PREFIX: prefix,
      SIMULATOR_HTTP_PORT: String(port),
      SIMULATOR_MODE: 'demo',
      SIMULATOR_WARP: '30',
      SIMULATOR_SUBSCRIBERS: '20000',
      SIMULATOR_INGEST_URL: `127.0.0.1:${grpcPort}`,
      SIMULATOR_CONSOLE_URL: `http://127.0.0.1:${await freePort()}`,
      SIMULATOR_PROGRESS_MS: '500',
    });
    apps.push(sim);
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, sim, 30_000);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sentLine = metrics.split('\n').find((l) => l.startsWith('eagleeye_simulator_events_sent_total'));
    expect(sentLine).toBeDefined();
    expect(Number(sentLine!.split(' ').pop())).toBeGreaterThan(0);
    expect(metrics).toMatch(/eagleeye_simulator_events_acked_total\{[^}]*result="accepted"[^}]*\} [1-9]/);
    expect(await sim.stop()).toBe(0);
  }, 60_000);
});
