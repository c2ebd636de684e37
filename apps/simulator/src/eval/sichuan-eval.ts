import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { createPool } from '@eagle-eye/db';
import { looksLikeClearNumber } from '@eagle-eye/pseudonym';
import type { Redis } from 'ioredis';
import { HANDOFF_DEFAULT_PARTITIONS } from '@eagle-eye/contracts';
import { createRedis, RedisKeys } from '@eagle-eye/redis';
import { CallerModelsRepository, RulesRepository } from '@eagle-eye/rules';
import { CallerModel } from '@eagle-eye/scoring';
import { carrierKeys, numberOption, openStreams, progressLine } from '../cli-common';
import { Generator } from '../sim/generator';
import { CARRIERS, CarrierId } from '../sim/model';
import { readProfiles } from '../sichuan/profile';
import { buildReplay, ReplaySource, SichuanReplay } from '../sichuan/replay';
import { streamRun, TimeWarp } from '../stream/runner';
import { defaultSichuanPath } from '../train-samples.cli';
import { ConsoleClient } from './console-client';
import { evaluateSichuan, SichuanTruth, TimedAlert } from './evaluate-sichuan';
import { formatSichuanReport, SichuanMeta, writeSichuanReport } from './sichuan-report';

export const SICHUAN_USAGE = `Usage: npm run eval -- --source sichuan [--fold 0] [--folds 5] [--seed 1] [--days 2] [--warp 240]
  [--model PATH | --retrain | --keep-rules] [--data PATH] [--report DIR] [--run-id ID] [--reset-watermarks]
  [--ingest 127.0.0.1:50051] [--console http://127.0.0.1:8080] [--user supervisor --password demo-supervisor]
  [--operators 2] [--settle 20] [--rules-settle 5]

Replays the behaviour of the labelled Sichuan numbers of one held-out fold (foldOf(id, folds, seed)
=== fold) through the public gRPC ingest of a running stack, with warped event time, and judges the
alerts a supervisor's console receives. The model under evaluation is trained without that fold
(scripts/train.sh --exclude-fold, cached in .run/eval/caller-risk-fold<K>.json while data, seed and
folds match; --retrain trains again), unless --model PATH names one; it is registered in the
caller_models registry and put live through the caller_model rule for the run, and the rule's
previous parameters are restored at the end. --keep-rules evaluates the rules as they are.
Each number plays --days calendar days (its local UTC+8 days, all laid on one UTC midnight chosen so
the replay ends before now): the stack's ingest must accept events that old (start it with
INGEST_MAX_EVENT_AGE_MS=345600000). The same data, seed, fold and days give the same events (the
printed fingerprint); the run id only renames numbers and ids, so runs on one stack stay apart.
Event time must not go backwards on a detector: a second run on the same stack is refused while the
detector's event-time clock is ahead of the replay; restart the detector (it keeps its clock in
memory) and pass --reset-watermarks (deletes the watermarks it left in Redis), or use a fresh stack.
Environment: DATABASE_URL and REDIS_URL of the stack, SIMULATOR_INGEST_URL, CONSOLE_URL,
SIMULATOR_CARRIER_KEYS.`;

const DAY = 86_400_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The repository root (this file runs from dist/apps/simulator/src/eval). */
function repoRoot(): string {
  const up = resolve(__dirname, '..', '..', '..', '..');
  return existsSync(join(up, 'scripts', 'train.sh')) ? up : resolve(up, '..');
}

interface ModelChoice {
  path: string;
  model: CallerModel;
  excludedFold: number | null;
}

function trainingOf(m: CallerModel): Record<string, unknown> {
  return (m.file.training ?? {}) as Record<string, unknown>;
}

/**
 * Whether a model was trained without fold `fold` of `folds` (seed `seed`): the trainer records the
 * fold it left out and the folds it cross-validated on (one fewer).
 */
export function heldOutOf(
  t: Record<string, unknown>,
  o: { fold: number; folds: number; seed: number },
): boolean {
  return t.excludedFold === o.fold && t.folds === o.folds - 1 && t.seed === o.seed;
}

/** The model to evaluate: --model, the cached fold model when it matches, or a fresh training. */
function chooseModel(
  o: { model?: string; retrain: boolean; fold: number; folds: number; seed: number; data: string },
  dataSha: string,
  log: (s: string) => void,
): ModelChoice {
  let path = o.model
    ? resolve(o.model)
    : resolve(repoRoot(), '.run', 'eval', `caller-risk-fold${o.fold}.json`);
  if (!o.model) {
    let reuse = false;
    if (existsSync(path) && !o.retrain) {
      try {
        const t = trainingOf(CallerModel.load(path));
        reuse = heldOutOf(t, o) && t.dataSha256 === dataSha;
      } catch {
        reuse = false;
      }
    }
    if (reuse) log(`[eval] reusing ${path} (trained without fold ${o.fold}, same data, seed and folds)`);
    else {
      log(`[eval] training the model without fold ${o.fold}: scripts/train.sh (progress below)`);
      mkdirSync(resolve(path, '..'), { recursive: true });
      const r = spawnSync(
        'bash',
        [
          join(repoRoot(), 'scripts', 'train.sh'),
          '--exclude-fold',
          String(o.fold),
          '--seed',
          String(o.seed),
          '--folds',
          String(o.folds),
          '--data',
          resolve(o.data),
          '--out',
          path,
        ],
        { stdio: ['ignore', process.stderr, 'inherit'] },
      );
      if (r.status !== 0) throw new Error(`scripts/train.sh failed (exit ${r.status ?? r.signal})`);
    }
  } else path = resolve(o.model);
  const model = CallerModel.load(path);
  const t = trainingOf(model);
  const excludedFold = typeof t.excludedFold === 'number' ? t.excludedFold : null;
  if (!heldOutOf(t, o))
    log(
      `[eval] WARNING: model ${model.version} was not trained without fold ${o.fold} of ${o.folds} (seed ${o.seed}); ` +
        `it has seen the numbers replayed, the figures are not held-out figures`,
    );
  if (t.dataSha256 !== undefined && t.dataSha256 !== dataSha)
    log(`[eval] WARNING: model ${model.version} was trained on other data (sha256 ${String(t.dataSha256)})`);
  return { path, model, excludedFold };
}

/** The Sichuan replay's truth for the evaluation (a plain subset of the replay). */
export function truthOf(r: SichuanReplay): SichuanTruth {
  return { runId: r.runId, numbers: r.numbers, calls: r.calls, startMs: r.startMs, endMs: r.endMs };
}

/**
 * The detector's event-time clock (its sweep's "now": the newest event time per hand-off partition,
 * which the detector process keeps in memory and writes to Redis for an hour, as an offset to the
 * wall clock) must not be ahead of the replay: a replay laid on the same days as an earlier run on
 * the same detector sees its duration steps fire at the earlier run's event time, long after its
 * calls ended (0 % on the call). Refuses such a stack; after restarting the detector, `reset`
 * deletes the watermarks it left in Redis (the next events set them again).
 */
async function checkEventClock(
  redis: Redis,
  keys: RedisKeys,
  replayStartMs: number,
  reset: boolean,
  log: (s: string) => void,
): Promise<void> {
  const partitions = Number(process.env.HANDOFF_PARTITIONS ?? HANDOFF_DEFAULT_PARTITIONS);
  const names = Array.from({ length: partitions }, (_, i) => keys.detectorWatermark(i));
  const offsets = (await redis.mget(...names)).map(Number).filter((x) => Number.isFinite(x));
  if (!offsets.length) return;
  const clockMs = Date.now() + Math.max(...offsets);
  if (clockMs <= replayStartMs) return;
  const at = new Date(clockMs).toISOString();
  if (!reset)
    throw new Error(
      `the detector's event-time clock is at ${at} (an earlier run's events), ahead of this replay's start ` +
        `${new Date(replayStartMs).toISOString()}; its duration steps would fire late. Use a fresh stack, or ` +
        `restart the detector (it keeps the newest event time in memory) and pass --reset-watermarks`,
    );
  await redis.del(...names);
  log(`[eval] the detector's event-time clock was at ${at}, ahead of the replay: watermarks deleted`);
}

/**
 * A reason for a rule change: the rules refuse text with six digits in a row (a phone number could
 * hide there), which a model version (a hex digest) or a large seed may contain, so none is named.
 */
function ruleReason(text: string): string {
  return looksLikeClearNumber(text) ? 'evaluation of a model on a held-out fold' : text;
}

/**
 * The UTC midnight the replay is laid on: the latest one that lets the whole replay (its local days
 * start 8 hours before the midnight) end `marginMs` before `nowMs`.
 */
export function replayBase(rel: { endMs: number }, nowMs: number, marginMs = 10 * 60_000): number {
  return Math.floor((nowMs - marginMs - rel.endMs) / DAY) * DAY;
}

export async function runSichuanEval(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      source: { type: 'string' },
      data: { type: 'string' },
      fold: { type: 'string', default: '0' },
      folds: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      days: { type: 'string', default: '2' },
      warp: { type: 'string' },
      model: { type: 'string' },
      retrain: { type: 'boolean', default: false },
      'keep-rules': { type: 'boolean', default: false },
      'reset-watermarks': { type: 'boolean', default: false },
      'run-id': { type: 'string' },
      report: { type: 'string' },
      ingest: { type: 'string' },
      console: { type: 'string' },
      user: { type: 'string', default: 'supervisor' },
      password: { type: 'string', default: 'demo-supervisor' },
      operators: { type: 'string' },
      settle: { type: 'string' },
      'rules-settle': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(SICHUAN_USAGE + '\n');
    return 0;
  }
  const log = (s: string): boolean => process.stderr.write(s + '\n');
  const folds = Math.round(numberOption('folds', values.folds, 5, 2));
  const fold = Math.round(numberOption('fold', values.fold, 0, 0));
  if (fold >= folds) throw new Error(`--fold must be below --folds (${folds})`);
  const seed = Math.round(numberOption('seed', values.seed, 1, 0));
  const days = Math.round(numberOption('days', values.days, 2, 1));
  const warp = numberOption('warp', values.warp, 240, 1);
  const settleS = numberOption('settle', values.settle, 20, 0);
  const rulesSettleS = numberOption('rules-settle', values['rules-settle'], 5, 0);
  const runId = values['run-id'] ?? `s${Date.now().toString(36)}`;
  const data = values.data ?? defaultSichuanPath();
  if (!existsSync(data)) throw new Error(`Sichuan data not found at ${data} (see shared/data/README.md)`);
  const ingest = values.ingest ?? process.env.SIMULATOR_INGEST_URL ?? '127.0.0.1:50051';
  const consoleUrl =
    values.console ??
    process.env.CONSOLE_URL ??
    `http://127.0.0.1:${process.env.CONSOLE_HTTP_PORT ?? '8080'}`;
  const keys = carrierKeys(process.env.SIMULATOR_CARRIER_KEYS);
  const carriers = CARRIERS.map((c) => c.id).filter((c) => keys.has(c)) as CarrierId[];
  if (!carriers.length) throw new Error('no credentials for the demo carriers (SIMULATOR_CARRIER_KEYS)');
  const operators = numberOption('operators', values.operators, keys.size, 1);

  const { profiles, sha256: dataSha } = readProfiles(data);
  const choice = values['keep-rules']
    ? null
    : chooseModel(
        { model: values.model, retrain: values.retrain!, fold, folds, seed, data },
        dataSha,
        (s) => void log(s),
      );

  // lay the replay on the latest UTC midnight that lets it end before now
  const rel = buildReplay(profiles, { seed, folds, fold, days, baseMs: 0, runId, carriers });
  const baseMs = replayBase(rel, Date.now());
  const replay = buildReplay(profiles, { seed, folds, fold, days, baseMs, runId, carriers });
  if (replay.fingerprint !== rel.fingerprint) throw new Error('the replay depends on its day (a bug)');
  const fraudNumbers = replay.numbers.filter((n) => n.fraud).length;
  log(
    `[eval] fold ${fold}/${folds} seed ${seed}: ${replay.numbers.length} held-out numbers (${fraudNumbers} fraud), ` +
      `${replay.calls.length} calls, ${replay.events.length} events over ${((replay.endMs - replay.startMs) / 3_600_000).toFixed(1)} event-time hours ` +
      `from ${new Date(replay.startMs).toISOString()}; fingerprint ${replay.fingerprint.slice(0, 16)}`,
  );
  const oldestAgeH = (Date.now() - replay.startMs) / 3_600_000;
  if (oldestAgeH > 24)
    log(
      `[eval] the first events are ${oldestAgeH.toFixed(0)} h old: the stack's ingest must accept them ` +
        `(INGEST_MAX_EVENT_AGE_MS >= ${Math.ceil(oldestAgeH + 1) * 3_600_000})`,
    );

  const pool: Pool = createPool(
    process.env.DATABASE_URL ?? 'postgres://eagleeye:eagleeye-dev@127.0.0.1:5440/eagleeye',
    { max: 2 },
  );
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6390');
  const redisKeys = new RedisKeys(process.env.REDIS_KEY_PREFIX ?? 'ee');
  const rules = new RulesRepository(pool, redis, redisKeys);
  let restore: (() => Promise<void>) | null = null;
  const onSignal = (): void => {
    log('[eval] interrupted; restoring the caller_model rule');
    void (restore ? restore() : Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await checkEventClock(redis, redisKeys, replay.startMs, values['reset-watermarks']!, (s) => void log(s));
    if (choice) {
      const { model } = choice;
      await new CallerModelsRepository(pool).register(model.file, model.sha256, 'eval');
      const set = await rules.getActiveRuleSet();
      const prev = set.global.get('caller_model');
      const prevParams = prev ? { ...prev.params } : null;
      for (const [carrier, over] of set.overrides)
        if (over.has('caller_model'))
          log(
            `[eval] WARNING: carrier ${carrier} overrides caller_model; the global change may not reach it`,
          );
      if (prev && (!prev.enabled || prev.reportOnly))
        log(
          `[eval] WARNING: caller_model is ${prev.enabled ? 'report-only' : 'disabled'}: the model will not decide`,
        );
      await rules.updateRule({
        ruleId: 'caller_model',
        scope: '*',
        params: { model: model.version },
        actor: 'eval',
        actorRole: 'admin',
        reason: ruleReason(
          `evaluation on held-out fold ${fold} of ${folds}, seed ${seed} (the model version is in the params)`,
        ),
      });
      let restored = false;
      restore = async () => {
        if (restored) return;
        restored = true;
        await rules.updateRule({
          ruleId: 'caller_model',
          scope: '*',
          params: prevParams ?? { model: '', shadowModel: '', minProbability: 0 },
          actor: 'eval',
          actorRole: 'admin',
          reason: ruleReason(
            `evaluation on held-out fold ${fold} of ${folds} over: previous parameters back`,
          ),
        });
        log(`[eval] caller_model rule restored to ${JSON.stringify(prevParams ?? {})}`);
      };
      log(
        `[eval] model ${model.version} registered and put live (caller_model.model); waiting ${rulesSettleS} s for the detector`,
      );
      await sleep(rulesSettleS * 1000);
    }
    const result = await replayAndJudge(replay, {
      warp,
      ingest,
      keys,
      consoleUrl,
      user: values.user!,
      password: values.password!,
      operators,
      settleS,
      pool,
      log: (s) => void log(s),
    });
    const meta: SichuanMeta = {
      runId,
      seed,
      fold,
      folds,
      days,
      warp,
      data,
      dataSha256: dataSha,
      model: choice
        ? {
            path: choice.path,
            version: choice.model.version,
            sha256: choice.model.sha256,
            excludedFold: choice.excludedFold,
          }
        : null,
      fingerprint: replay.fingerprint,
      numbers: replay.numbers.length,
      fraudNumbers,
      calls: replay.calls.length,
      replayBase: new Date(baseMs).toISOString().slice(0, 10),
      ...result.meta,
    };
    const text = formatSichuanReport(result.figures, meta);
    process.stdout.write(text + '\n');
    if (values.report) {
      const files = writeSichuanReport(values.report, result.figures, meta, text);
      log(`[eval] report written: ${files.join(', ')}`);
    }
    return 0;
  } finally {
    try {
      await restore?.();
    } catch (e) {
      log(`[eval] could not restore the caller_model rule: ${(e as Error).message}`);
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pool.end();
    redis.disconnect();
  }
}

interface ReplayRunOptions {
  warp: number;
  ingest: string;
  keys: Map<string, string>;
  consoleUrl: string;
  user: string;
  password: string;
  operators: number;
  settleS: number;
  pool: Pool;
  log: (s: string) => void;
}

/** Streams the replay through ingest, watches the console, and evaluates what arrived. */
async function replayAndJudge(
  replay: SichuanReplay,
  o: ReplayRunOptions,
): Promise<{
  figures: {
    detector: ReturnType<typeof evaluateSichuan> | null;
    console: ReturnType<typeof evaluateSichuan>;
  };
  meta: Pick<
    SichuanMeta,
    'startedAt' | 'wallSeconds' | 'eventsSent' | 'eventsAccepted' | 'eventsRejected' | 'restOnlyAlerts'
  >;
}> {
  const consoleClient = new ConsoleClient({ baseUrl: o.consoleUrl, username: o.user, password: o.password });
  await consoleClient.connect();
  o.log(`[eval] watching alerts at ${o.consoleUrl} as ${o.user}`);
  const wallStart = Date.now();
  // once no new call starts, the remaining long calls finish at ten times the warp
  const tw = new TimeWarp(replay.startMs, wallStart, o.warp, {
    fromSimMs: Math.max(replay.startMs, replay.lastStartMs),
    warp: o.warp * 10,
  });
  const clock = { lagMs: 0, simMs: replay.startMs };
  const simNow = (wall: number): number => tw.simAt(wall - clock.lagMs);
  const simSeen = new Map<string, number>();
  consoleClient.onAlert = (a, created) => {
    if (created) simSeen.set(a.view.id, simNow(a.firstSeenWallMs));
  };
  const samples: [number, number][] = [];
  const sampler = setInterval(() => samples.push([Date.now(), simNow(Date.now())]), 250);
  const abort = new AbortController();
  let abortReason = '';
  const streams = openStreams(o.ingest, o.keys, {
    onStreamError: (e, retry) => o.log(`[eval] ingest stream: ${e.message}${retry ? ' (reconnecting)' : ''}`),
  });
  o.log(
    `[eval] streaming ${replay.events.length} events to ${o.ingest} at warp ${o.warp} ` +
      `(about ${((replay.lastStartMs - replay.startMs) / o.warp / 1000).toFixed(0)} s, then the long calls' tail)`,
  );
  const source = new ReplaySource(replay.events);
  const final = await streamRun(source as unknown as Generator, {
    warp: tw,
    streams,
    live: clock,
    signal: abort.signal,
    onProgress: (p) => {
      o.log(progressLine(p, consoleClient.created));
      for (const s of streams.values()) {
        const old = s.stats.rejectedByReason.get('EVENT_TIME_TOO_OLD') ?? 0;
        if (old > 0 && !abort.signal.aborted) {
          abortReason =
            `ingest refuses the replay's events as too old: start the stack with ` +
            `INGEST_MAX_EVENT_AGE_MS=345600000 (4 days)`;
          abort.abort();
        }
      }
    },
  });
  o.log(progressLine(final, consoleClient.created));
  for (const s of streams.values()) {
    for (const [reason, n] of s.stats.rejectedByReason) o.log(`[eval] rejected by ingest: ${n} x ${reason}`);
    s.close();
  }
  if (abortReason) {
    clearInterval(sampler);
    consoleClient.close();
    throw new Error(abortReason);
  }
  o.log(`[eval] streaming done; waiting ${o.settleS} s for the last alerts`);
  await sleep(o.settleS * 1000);
  clearInterval(sampler);
  let restOnly = 0;
  try {
    const added = await consoleClient.sweep();
    if (added) o.log(`[eval] ${added} alerts (of this and earlier runs) came only through the REST listing`);
  } catch (e) {
    o.log(`[eval] REST listing of alerts failed (${(e as Error).message}); using the socket.io events only`);
  }
  consoleClient.close();
  const simAtWall = (wall: number): number => {
    let best = samples.length ? samples[0][1] : simNow(wall);
    for (const [w, s] of samples) if (w <= wall) best = s;
    return best;
  };

  // only alerts about this run's traffic
  const prefix = `${replay.runId}-`;
  const tokens = new Set<string>();
  for (const c of replay.calls) tokens.add(c.caller).add(c.callee);
  const ours = [...consoleClient.alerts.values()].filter(
    (a) =>
      a.firstSeenWallMs >= wallStart &&
      (a.view.callId ? a.view.callId.startsWith(prefix) : tokens.has(a.view.suspect)),
  );
  const consoleTimed: TimedAlert[] = ours.map((a) => {
    const seen = simSeen.get(a.view.id);
    if (seen === undefined) restOnly++;
    return { view: a.view, eventMs: seen ?? simAtWall(a.firstSeenWallMs) };
  });
  // the event time the detector stamped on each alert (PostgreSQL alerts.event_time)
  let detectorTimed: TimedAlert[] | null = null;
  try {
    const ids = ours.map((a) => a.view.id);
    const { rows } = await o.pool.query<{ id: string; t: number | null }>(
      `SELECT id::text AS id, (extract(epoch FROM event_time) * 1000)::float8 AS t
         FROM alerts WHERE id::text = ANY($1::text[])`,
      [ids],
    );
    const t = new Map(rows.map((r) => [r.id, r.t]));
    detectorTimed = ours
      .filter((a) => typeof t.get(a.view.id) === 'number')
      .map((a) => ({ view: a.view, eventMs: t.get(a.view.id)! }));
    if (detectorTimed.length < ours.length)
      o.log(`[eval] ${ours.length - detectorTimed.length} alerts have no event time in PostgreSQL`);
  } catch (e) {
    o.log(`[eval] could not read the alerts' event times (${(e as Error).message}); console timing only`);
  }
  if (restOnly) o.log(`[eval] ${restOnly} of this run's ${ours.length} alerts were missed by socket.io`);
  const truth = truthOf(replay);
  return {
    figures: {
      detector: detectorTimed ? evaluateSichuan(truth, detectorTimed, { operators: o.operators }) : null,
      console: evaluateSichuan(truth, consoleTimed, { operators: o.operators }),
    },
    meta: {
      startedAt: new Date(wallStart).toISOString(),
      wallSeconds: (Date.now() - wallStart) / 1000,
      eventsSent: final.eventsSent,
      eventsAccepted: final.accepted,
      eventsRejected: final.rejected,
      restOnlyAlerts: restOnly,
    },
  };
}
