import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Job, Queue } from 'bullmq';
import { AlertBatchItem, alertJobId, alertJobItems, HandoffEntry, HandoffEvent } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { CallerModelsRepository, RulesRepository } from '@eagle-eye/rules';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  TestSchema,
  uniqueId,
} from '@eagle-eye/testing';
import { AlertJob } from '../detection/alert.publisher';
import { createDetection, DetectionService } from '../detection/detection.service';
import { BENCH_DETECTION_OPTIONS } from '../bench/synthetic-traffic';
import { DetectionOptions } from '../pipeline/work';
import { DetectorScripts, ScriptCall } from '../lua/detector-scripts';
import { RulesCache } from '../rules/rules-cache';
import { ModelRegistry } from '../scoring/model-registry';

/** A well-formed pseudonym token (random digest). */
export function token(): string {
  return `p1.t.${randomBytes(16).toString('base64url').slice(0, 22)}`;
}

export const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

/** The detection settings of the tests: the detector's defaults, fewer due shards and partitions. */
export const TEST_DETECTION_OPTIONS: DetectionOptions = {
  ...BENCH_DETECTION_OPTIONS,
  dueShards: 4,
  partitions: 4,
  // the scenario suites run with the caller windows where DETECTOR_CALLER_WINDOWS puts them
  callerWindows: process.env.DETECTOR_CALLER_WINDOWS === 'script' ? 'script' : 'node',
};

let seq = 0;
export function ev(
  type: HandoffEvent['type'],
  call: string,
  caller: string,
  callee: string,
  t: number,
  extra: Partial<HandoffEvent> = {},
): HandoffEvent {
  return {
    id: `e${++seq}-${type}`,
    call,
    type,
    t,
    caller,
    callee,
    cls: 'MOBILE',
    country: 'CN',
    att: 'A',
    mis: false,
    region: '510100',
    age: '29_45',
    rx: Date.now(),
    ...extra,
  };
}

/** A call: attempt, then answered after 5 s and ended after `talk` s (talk 0: never answered). */
export function call(
  caller: string,
  callee: string,
  t: number,
  talk: number,
  extra: Partial<HandoffEvent> = {},
): HandoffEvent[] {
  const id = uniqueId('c');
  const out = [ev('ATTEMPT', id, caller, callee, t, extra)];
  if (talk > 0) {
    out.push(ev('ANSWERED', id, caller, callee, t + 5000, extra));
    out.push(ev('ENDED', id, caller, callee, t + 5000 + talk * 1000, { ...extra, talk }));
  } else out.push(ev('ENDED', id, caller, callee, t + 20000, { ...extra, talk: 0 }));
  return out;
}

/**
 * A fan-out number's last half hour before `t`: `n` calls to distinct strangers, one a minute,
 * none answered (the police-impersonation call centre).
 */
export function fanout(caller: string, t: number, n = 30, extra: Partial<HandoffEvent> = {}): HandoffEvent[] {
  const out: HandoffEvent[] = [];
  for (let i = 0; i < n; i++) out.push(...call(caller, token(), t - (n - i) * 60_000, 0, extra));
  return out;
}

export class MemorySink {
  jobs: AlertJob[] = [];
  async publish(jobs: AlertJob[]): Promise<void> {
    this.jobs.push(...jobs);
  }
  ids(): string[] {
    return this.jobs.map((j) => alertJobId(j.name, j.data as never));
  }
}

/** Records every script call (to check hash slots) while running it. */
export class RecordingScripts extends DetectorScripts {
  readonly calls: ScriptCall[] = [];
  override async run(calls: ScriptCall[]): Promise<unknown[]> {
    this.calls.push(...calls);
    return super.run(calls);
  }
}

export interface Harness {
  redis: Redis;
  keys: RedisKeys;
  schema: TestSchema;
  repo: RulesRepository;
  rules: RulesCache;
  scripts: RecordingScripts;
  sink: MemorySink;
  detection: DetectionService;
  /** the caller-risk models, when the harness was asked for them */
  models: ModelRegistry | null;
  carrier: string;
  entry(events: HandoffEvent[]): HandoffEntry;
  close(): Promise<void>;
}

export async function startHarness(
  opts: Partial<DetectionOptions> = {},
  shared?: { schema: TestSchema },
  extra: { models?: boolean } = {},
): Promise<Harness> {
  const schema = shared?.schema ?? (await createTestSchema());
  const redis = await connectTestRedis();
  const keys = new RedisKeys(uniqueId('ee'));
  const repo = new RulesRepository(schema.pool, redis, keys);
  // The scenarios model a deployment that has been watching for weeks, so "first seen" means new.
  await redis.set(keys.detectorObservingSince(), String(T0 - 30 * 86400_000));
  const scripts = new RecordingScripts(redis);
  await scripts.load();
  const rules = new RulesCache(repo, schema.pool, 60_000);
  await rules.start();
  const sink = new MemorySink();
  const models = extra.models ? new ModelRegistry(new CallerModelsRepository(schema.pool)) : null;
  await models?.start();
  const detection = createDetection({
    redis,
    keys,
    scripts,
    rules,
    alerts: sink,
    options: { ...TEST_DETECTION_OPTIONS, ...opts },
    models: models ?? undefined,
  });
  const carrier = 'carrier-a';
  return {
    redis,
    keys,
    schema,
    repo,
    rules,
    scripts,
    sink,
    detection,
    models,
    carrier,
    entry: (events) => ({ carrierId: carrier, events }),
    async close() {
      await rules.stop();
      await dropRedisPrefix(redis, keys.prefix);
      redis.disconnect();
      if (!shared) await schema.drop();
    },
  };
}

/** Every key under the prefix with its content, to compare states. */
export async function snapshot(redis: Redis, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const type = await redis.type(k);
      const name = k.slice(prefix.length);
      if (type === 'hash') out[name] = await redis.hgetall(k);
      else if (type === 'zset') out[name] = await redis.call('ZRANGE', k, '0', '-1', 'WITHSCORES');
      else if (type === 'string') out[name] = (await redis.getBuffer(k))?.toString('base64');
      else out[name] = type;
    }
  } while (cursor !== '0');
  return out;
}

/**
 * The alert job with this id on the alerts queue, whether it went as a job of its own or as an item
 * of a round's alert-batch job (undefined when there is none yet).
 */
export async function findAlertJob(
  queue: Queue,
  id: string,
): Promise<{ item: AlertBatchItem; job: Job } | undefined> {
  const own = await queue.getJob(id);
  if (own) return { item: alertJobItems(own)[0], job: own };
  const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);
  for (const job of jobs) {
    const item = job ? alertJobItems(job).find((it) => it.id === id) : undefined;
    if (item) return { item, job };
  }
  return undefined;
}
