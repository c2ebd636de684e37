import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { decodeHandoffEntry, ingestV1 } from '@eagle-eye/contracts';
import { apiKeyFor, DEMO_CARRIERS, seedDemo } from '@eagle-eye/db';
import { RedisKeys } from '@eagle-eye/redis';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  freePort,
  REPO_ROOT,
  RunningApp,
  spawnApp,
  testRedisUrl,
  TestSchema,
  uniqueId,
  waitForHttp,
} from '@eagle-eye/testing';
import { callEvents } from '../testing/call-events';

const PARTITIONS = 4;
const KEY_A = apiKeyFor(DEMO_CARRIERS[0].keyId, DEMO_CARRIERS[0].secret);

/** Runs `npm run send` (the built CLI) and collects its output and exit status. */
function runSend(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [
        '-r',
        join(REPO_ROOT, 'scripts/register-paths.js'),
        join(REPO_ROOT, 'dist/apps/ingest/src/carrier/send.cli.js'),
        ...args,
      ],
      { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout.resume();
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

/**
 * The carrier's send tool against a real ingest that is rate-limited and then killed and restarted
 * mid-run: every event ends up handed over exactly once, nothing that looks like a clear number
 * leaves the carrier's machine, and refused lines are listed.
 */
describe('npm run send: a CDR export to ingest, through refusals and an ingest restart', () => {
  let schema: TestSchema;
  let redis: Redis;
  let prefix: string;
  let dir: string;
  let ingest: RunningApp | undefined;
  let grpcPort: number;
  let httpPort: number;

  const startIngest = async (): Promise<RunningApp> => {
    const app = spawnApp('ingest', {
      REDIS_URL: testRedisUrl(),
      DATABASE_URL: schema.url,
      REDIS_KEY_PREFIX: prefix,
      INGEST_GRPC_PORT: String(grpcPort),
      INGEST_HTTP_PORT: String(httpPort),
      HANDOFF_PARTITIONS: String(PARTITIONS),
      // slow enough that the run is still going when ingest is killed
      INGEST_RATE_LIMIT_EVENTS_PER_S: '1500',
      INGEST_RATE_LIMIT_BURST_EVENTS: '5000',
      INGEST_MAX_EVENT_AGE_MS: String(7 * 86400_000),
    });
    await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`, app);
    return app;
  };

  beforeAll(async () => {
    schema = await createTestSchema();
    await seedDemo(schema.pool);
    redis = await connectTestRedis();
    prefix = uniqueId('ee');
    dir = await mkdtemp(join(tmpdir(), 'ee-send-'));
    grpcPort = await freePort();
    httpPort = await freePort();
    ingest = await startIngest();
  }, 60_000);
  afterAll(async () => {
    await ingest?.stop();
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
    await schema.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands every event over exactly once, refuses clear numbers locally, and resends after a crash', async () => {
    const now = Date.now();
    const events = callEvents('snd', 0, 9000, now).map((e) => JSON.stringify(ingestV1.CallEvent.toJSON(e)));
    const clear = {
      ...(ingestV1.CallEvent.toJSON(callEvents('clr', 0, 1, now)[0]) as object),
      caller: '+86 138 1234 5678',
    };
    const lines = [...events.slice(0, 10), JSON.stringify(clear), 'not json', ...events.slice(10)];
    const input = join(dir, 'events.ndjson');
    const rejects = join(dir, 'rejects.ndjson');
    await writeFile(input, lines.join('\n') + '\n');

    const run = runSend(
      [
        '--input',
        input,
        '--target',
        `127.0.0.1:${grpcPort}`,
        '--insecure',
        '--batch',
        '500',
        '--window',
        '4',
        '--rejects',
        rejects,
        '--progress-s',
        '1',
      ],
      { EE_INGEST_API_KEY: KEY_A },
    );
    // let some batches through, then kill ingest hard and bring it back on the same ports
    const stream0 = new RedisKeys(prefix).handoffStream(0);
    for (let i = 0; i < 200 && (await redis.xlen(stream0)) === 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 500));
    ingest!.proc.kill('SIGKILL');
    await ingest!.exited;
    await new Promise((r) => setTimeout(r, 1500));
    ingest = await startIngest();
    const { code, stderr } = await run;
    expect({ code, tail: stderr.slice(-600) }).toEqual({
      code: 0,
      tail: expect.stringContaining('9002 lines read'),
    });
    expect(stderr).toMatch(/stream broken \((UNAVAILABLE|RESOURCE_EXHAUSTED|CANCELLED|INTERNAL)/);
    expect(stderr).toContain('refused here 1: caller is a clear phone number, not a pseudonym token');
    expect(stderr).not.toMatch(/138 ?1234 ?5678|13812345678/);

    // every good event exactly once in the hand-off, the clear-number line never
    const ids: string[] = [];
    for (let p = 0; p < PARTITIONS; p++)
      for (const [, fields] of await redis.xrange(new RedisKeys(prefix).handoffStream(p), '-', '+'))
        for (const ev of decodeHandoffEntry(fields).events) ids.push(ev.id);
    expect(ids.filter((id) => id.startsWith('clr-'))).toEqual([]);
    const mine = ids.filter((id) => id.startsWith('snd-'));
    expect(new Set(mine).size).toBe(9000);
    expect(mine).toHaveLength(9000);

    const refused = (await readFile(rejects, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string });
    expect(refused).toEqual([
      expect.objectContaining({
        line: 11,
        reason: 'caller is a clear phone number, not a pseudonym token',
        where: 'local',
      }),
      expect.objectContaining({ line: 12, reason: 'not a JSON object', where: 'local' }),
    ]);
  }, 120_000);

  it('stops with a clear message when ingest refuses the credentials', async () => {
    const input = join(dir, 'few.ndjson');
    await writeFile(
      input,
      callEvents('few', 0, 3)
        .map((e) => JSON.stringify(ingestV1.CallEvent.toJSON(e)))
        .join('\n'),
    );
    const r = await runSend(['--input', input, '--target', `127.0.0.1:${grpcPort}`, '--insecure'], {
      EE_INGEST_API_KEY: 'eek_demoa_wrong-secret',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('send: stopped: ingest refused the stream: invalid API key (UNAUTHENTICATED)');
    const usage = await runSend(['--input', input, '--target', 'nowhere'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--target must be host:port');
    expect(usage.stderr).toContain('no credentials');
  });
});
