import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { CARRIER_ID } from '@eagle-eye/contracts';
import { loadConfig } from '@eagle-eye/config';
import { assertPostgresReachable, createPool } from '@eagle-eye/db';
import { createRedis, RedisKeys } from '@eagle-eye/redis';
import { CallerModelsRepository, RulesRepository, RuleSet, str } from '@eagle-eye/rules';
import { detectionOptions, DetectorConfigSchema } from '../config';
import { ModelRegistry } from '../scoring/model-registry';
import { compareAlerts, formatComparison, LiveAlert, BacktestAlert } from './backtest-compare';
import { replay, ReplayProgress } from './backtest-replay';
import { handoffEvents, ndjsonFileEvents, newCounters } from './backtest-source';
import { applyCandidate, CandidateChange, FixedRules, parseCandidateChanges } from './candidate-rules';
import { LiveAlertsRepository } from './live-alerts.repository';

const USAGE = `Usage: npm run backtest -- (--input events.ndjson | --handoff) [options]

Replays recorded call events through the detector in event time, in a Redis keyspace of its own
(REDIS_URL; a random prefix, deleted afterwards; the live keys are never touched), with the active
rules from PostgreSQL (DATABASE_URL) or a candidate change of them, and compares the alerts it would
have raised with the alerts PostgreSQL holds for the same period: matched, missed (live only), new
(backtest only), and per outcome desks recorded on the live alerts. Nothing is written but an
audit_log row.

  --input F               NDJSON of call events (- for standard input): \`npm run simulate -- --out\`
                          lines ({"carrierId", "event"}) or bare eagleeye.v1.CallEvent JSON
                          (\`npm run pseudonymise\`; then give --carrier). Lines ingest would refuse,
                          clear phone numbers among them, are counted and skipped.
  --handoff               instead of a file: the events still retained in this deployment's
                          hand-off streams (REDIS_KEY_PREFIX, HANDOFF_PARTITIONS), read only
  --carrier C             compare this carrier's alerts only (repeatable); with one, bare lines
                          belong to it. The whole file is replayed either way (numbers' windows
                          span carriers).
  --rules-file F          candidate rule changes, JSON: [{"ruleId", "scope", "enabled",
  --rules JSON              "reportOnly", "points", "params"}] on top of the active rules
  --model F               candidate caller-risk model file, in place of the bundled one
  --from ISO --to ISO     compare alerts first raised in this event-time period (default: the
                          recording's first event to its last plus --tail-s); earlier events
                          still replay, as warm-up
  --observing-since ISO   when the live deployment began observing (decides what counts as a
                          new number; default: what the live detector recorded, read only, else
                          the first event)
  --round-ms N            event time applied as one detector round (200, at most 1000)
  --reorder-s N           input may be out of event-time order by this much (60)
  --tail-s N              keep checking calls in progress this long after the last event (900)
  --list N                list up to N missed / new / changed alerts (20)
  --json F                write the whole comparison as JSON
  --actor NAME            who runs it, for the audit log (default: the login name)
  --progress-s N          progress line every N seconds on stderr (5)

Exit status: 0 done, 1 failed (unreachable service, unreadable input), 2 bad usage.`;

class UsageError extends Error {}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

interface Options {
  input: string;
  /** read the retained hand-off streams instead of a file */
  handoff: boolean;
  carriers: string[];
  from: number | undefined;
  to: number | undefined;
  observingSince: number | undefined;
  roundMs: number;
  reorderMs: number;
  tailMs: number;
  list: number;
  progressMs: number;
  actor: string;
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function time(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}T/.test(v))
    throw new UsageError(`--${name} must be an ISO date-time such as 2026-11-24T02:00:00Z`);
  return t;
}

function int(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

/** The model versions the rules name: loaded before the replay, so none scores as "still loading". */
function namedModels(set: RuleSet): string[] {
  const rules = [
    set.global.get('caller_model'),
    ...[...set.overrides.values()].map((m) => m.get('caller_model')),
  ];
  const out = new Set<string>();
  for (const r of rules) {
    if (!r) continue;
    for (const p of ['model', 'shadowModel']) if (str(r, p)) out.add(str(r, p));
  }
  return [...out];
}

function describe(a: BacktestAlert | LiveAlert): string {
  const what = a.kind === 'suspect_number' ? `suspect ${a.suspect}` : `call ${a.callId ?? ''}`;
  const live = 'outcome' in a ? `  alert ${a.id}, ${a.outcome ?? 'no outcome'}` : '';
  return `${a.kind.padEnd(15)} ${a.carrierId.padEnd(12)} ${what}  ${a.severity}  at ${iso(a.eventTimeMs)}${live}`;
}

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/**
 * \`npm run backtest\` (backtest.cli.ts is its entry point): parses the arguments, runs the replay and
 * the comparison, prints the report. Returns the exit status.
 */
export async function runBacktest(argv: string[], env: NodeJS.ProcessEnv, io: CommandIo): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        handoff: { type: 'boolean', default: false },
        carrier: { type: 'string', multiple: true },
        'rules-file': { type: 'string' },
        rules: { type: 'string' },
        model: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        'observing-since': { type: 'string' },
        'round-ms': { type: 'string', default: '200' },
        'reorder-s': { type: 'string', default: '60' },
        'tail-s': { type: 'string', default: '900' },
        list: { type: 'string', default: '20' },
        json: { type: 'string' },
        actor: { type: 'string' },
        'progress-s': { type: 'string', default: '5' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    io.err(`backtest: ${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out(USAGE + '\n');
    return 0;
  }
  let changes: CandidateChange[];
  let opts: Options;
  try {
    if (!values.input === !values.handoff)
      throw new UsageError('give --input (a file, or - for standard input) or --handoff, one of them');
    const carriers = values.carrier ?? [];
    for (const c of carriers)
      if (!CARRIER_ID.test(c)) throw new UsageError(`--carrier ${JSON.stringify(c)} is not a carrier id`);
    if (values['rules-file'] && values.rules) throw new UsageError('give --rules-file or --rules, not both');
    let rulesJson = values.rules ?? '[]';
    if (values['rules-file']) {
      try {
        rulesJson = readFileSync(values['rules-file'], 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read --rules-file: ${(e as Error).message}`);
      }
    }
    changes = parseCandidateChanges(rulesJson);
    const from = time('from', values.from);
    const to = time('to', values.to);
    if (from !== undefined && to !== undefined && to <= from)
      throw new UsageError('--to must be after --from');
    const actor = (values.actor ?? env.USER ?? env.LOGNAME ?? osUser()).trim();
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(actor))
      throw new UsageError('--actor (or $USER) must name who runs the backtest: 1-64 of [A-Za-z0-9._@-]');
    opts = {
      input: values.input ?? '',
      handoff: values.handoff ?? false,
      carriers,
      from,
      to,
      observingSince: time('observing-since', values['observing-since']),
      roundMs: int('round-ms', values['round-ms'], 1, 1000),
      reorderMs: int('reorder-s', values['reorder-s'], 0, 86400) * 1000,
      tailMs: int('tail-s', values['tail-s'], 0, 86400) * 1000,
      list: int('list', values.list, 0, 100000),
      progressMs: int('progress-s', values['progress-s'], 1, 3600) * 1000,
      actor,
    };
  } catch (e) {
    if (e instanceof UsageError || (e as Error).name === 'CandidateRulesError') {
      io.err(`backtest: ${(e as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }

  try {
    return await compare(opts, changes, values.model, values.json, env, io);
  } catch (e) {
    io.err(`backtest: ${(e as Error).message}\n`);
    return 1;
  }
}

async function compare(
  opts: Options,
  changes: CandidateChange[],
  model: string | undefined,
  json: string | undefined,
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  if (!opts.handoff && opts.input !== '-') {
    try {
      accessSync(opts.input, constants.R_OK);
    } catch {
      throw new Error(`cannot read --input ${opts.input}`);
    }
  }
  const config = loadConfig(DetectorConfigSchema, env);
  const source = opts.handoff
    ? `the hand-off streams of ${config.REDIS_KEY_PREFIX} (${config.HANDOFF_PARTITIONS} partitions)`
    : opts.input === '-'
      ? 'standard input'
      : opts.input;
  await assertPostgresReachable(config.DATABASE_URL);
  const pool = createPool(config.DATABASE_URL, { max: 2 });
  const redis = createRedis(config.REDIS_URL);
  try {
    // reads the rules from PostgreSQL only; its keys are never used (lists go to the replay's keyspace)
    const repo = new RulesRepository(pool, redis, new RedisKeys('bt-rules-unused'));
    // the live detector's start of observation (one GET of its key; nothing live is written)
    const recorded =
      opts.observingSince === undefined
        ? Number(await redis.get(new RedisKeys(config.REDIS_KEY_PREFIX).detectorObservingSince()))
        : NaN;
    const observing: { at?: number; from: string } =
      opts.observingSince !== undefined
        ? { at: opts.observingSince, from: '--observing-since' }
        : Number.isSafeInteger(recorded) && recorded > 0
          ? { at: recorded, from: `the live detector, ${config.REDIS_KEY_PREFIX}` }
          : { from: 'the first event' };
    const active = await repo.getActiveRuleSet().catch((e: Error) => {
      throw /does not exist/.test(e.message)
        ? new Error(
            `detection rules tables missing (${e.message}): apply the migrations with \`npm run migrate\``,
          )
        : e;
    });
    const set = applyCandidate(active, changes);
    let models: ModelRegistry;
    try {
      models = new ModelRegistry(
        new CallerModelsRepository(pool),
        model || config.DETECTOR_MODEL_PATH || undefined,
      );
    } catch (e) {
      throw new Error(
        `cannot load the caller-risk model${model ? ` ${model}` : ''}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    for (const v of namedModels(set)) {
      if (!(await models.load(v)))
        io.err(`backtest: the rules name caller-risk model ${v}, which the registry does not have\n`);
    }
    const counters = newCounters();
    const started = Date.now();
    let lastPrint = started;
    let lastPrinted = -1;
    const progressLine = (p: ReplayProgress): string =>
      `backtest: ${p.events} events (${counters.lines} lines read), event time ${iso(p.eventTimeMs || null)}, ` +
      `${p.rounds} rounds, ${p.sweeps} step checks, ${p.alerts} alerts, ` +
      `${Math.round(p.events / Math.max((Date.now() - started) / 1000, 0.001))} events/s\n`;
    io.err(
      `backtest: replaying ${source} with rule set version ${active.version}` +
        `${changes.length ? ` + ${changes.length} candidate change(s)` : ' (the active rules)'}` +
        `, model ${models.bundled.version}${model ? ' (candidate)' : ''}\n`,
    );
    const result = await replay(
      opts.handoff
        ? handoffEvents(redis, new RedisKeys(config.REDIS_KEY_PREFIX), config.HANDOFF_PARTITIONS, counters)
        : ndjsonFileEvents(opts.input, opts.carriers.length === 1 ? opts.carriers[0] : undefined, counters),
      {
        redis,
        rules: new FixedRules(set),
        models,
        detection: detectionOptions(config),
        roundMs: opts.roundMs,
        reorderMs: opts.reorderMs,
        tailMs: opts.tailMs,
        ...(observing.at !== undefined ? { observingSince: observing.at } : {}),
        mirrorLists: (keys) => new RulesRepository(pool, redis, keys).syncListsToRedis(),
        progressEvery: 5000,
        onProgress: (p) => {
          if (Date.now() - lastPrint < opts.progressMs) return;
          lastPrint = Date.now();
          lastPrinted = p.events;
          io.err(progressLine(p));
        },
      },
    );
    if (result.progress.events !== lastPrinted) io.err(progressLine(result.progress));
    if (result.firstEventMs === null || result.lastEventMs === null) {
      io.err(`backtest: no event to replay in ${source}\n`);
      for (const [reason, n] of counters.refused) io.err(`  refused ${n}: ${reason}\n`);
      return 1;
    }
    const from = opts.from ?? result.firstEventMs;
    const to = opts.to ?? result.lastEventMs + opts.tailMs;
    const inScope = (a: { carrierId: string; eventTimeMs: number }): boolean =>
      a.eventTimeMs >= from &&
      a.eventTimeMs <= to &&
      (!opts.carriers.length || opts.carriers.includes(a.carrierId));
    const liveRepo = new LiveAlertsRepository(pool);
    const live = (await liveRepo.between(from, to, opts.carriers)).filter(inScope);
    const cmp = compareAlerts(live, result.alerts.filter(inScope));

    const out: string[] = [
      `Backtest of ${source}`,
      `  events: ${result.progress.events} replayed, ${iso(result.firstEventMs)} to ${iso(result.lastEventMs)}; ` +
        `${[...counters.refused.values()].reduce((a, b) => a + b, 0)} lines refused; ${result.progress.late} late, ${result.progress.duplicate} duplicates`,
      `  rules: version ${active.version}${changes.length ? ` with ${changes.length} candidate change(s)` : ''}; ` +
        `model ${models.bundled.version}${model ? ' (candidate)' : ''}; ${result.listEntries} list entries mirrored; ` +
        `observing since ${iso(observing.at ?? result.firstEventMs)} (${observing.from})`,
      `  compared with the alerts stored for ${iso(from)} to ${iso(to)}, carriers: ${opts.carriers.length ? opts.carriers.join(', ') : 'all'}`,
      ...formatComparison(cmp),
    ];
    for (const [reason, n] of counters.refused) out.push(`  refused ${n} line(s): ${reason}`);
    for (const x of counters.examples)
      out.push(`    e.g. line ${x.line}${x.eventId ? ` (event ${x.eventId})` : ''}: ${x.reason}`);
    const listed = <T>(title: string, xs: T[], f: (x: T) => string): void => {
      if (!xs.length || !opts.list) return;
      out.push(`  ${title}${xs.length > opts.list ? ` (first ${opts.list} of ${xs.length})` : ''}:`);
      for (const x of xs.slice(0, opts.list)) out.push(`    ${f(x)}`);
    };
    listed('missed (raised live, not by the candidate)', cmp.missed, describe);
    listed('new (raised only by the candidate)', cmp.added, describe);
    listed(
      'severity differs (live -> backtest)',
      cmp.severityChanged,
      (m) => `${describe(m.live)} -> ${m.backtest.severity}`,
    );
    io.out(out.join('\n') + '\n');
    if (json)
      writeFileSync(json, JSON.stringify({ from, to, carriers: opts.carriers, changes, ...cmp }, null, 2));
    await liveRepo.audit({
      actor: opts.actor,
      carriers: opts.carriers,
      from,
      to,
      input: source,
      changes,
      model: model ? models.bundled.version : null,
      counts: cmp.counts,
    });
    return 0;
  } finally {
    redis.disconnect();
    await pool.end();
  }
}
