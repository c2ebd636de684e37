import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import {
  AlertJobName,
  CallEndedJob,
  callEventToHandoff,
  HandoffEvent,
  handoffPartition,
  packEvents,
  parseCallEventLine,
  HandoffEntry,
  ingestV1,
  SuspectNumberJob,
  validateBatch,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { CallerModelsRepository, RulesRepository } from '@eagle-eye/rules';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  TestSchema,
  testRedisUrl,
  uniqueId,
} from '@eagle-eye/testing';
import { AlertRepository } from '../../../alert-worker/src/alert.repository';
import { Generator } from '../../../simulator/src/sim/generator';
import { scenarioByName } from '../../../simulator/src/sim/scenarios';
import { AlertJob } from '../detection/alert.publisher';
import { createDetection } from '../detection/detection.service';
import { DetectionOptions } from '../pipeline/work';
import { TEST_DETECTION_OPTIONS } from '../test/harness';
import { DetectorScripts } from '../lua/detector-scripts';
import { RulesCache } from '../rules/rules-cache';
import { ModelRegistry } from '../scoring/model-registry';
import { compareAlerts, LiveAlert } from './backtest-compare';
import { replay, ReplayOptions, ReplayResult } from './backtest-replay';
import { runBacktest } from './backtest.command';
import { ndjsonFileEvents, newCounters } from './backtest-source';
import { applyCandidate, FixedRules, parseCandidateChanges } from './candidate-rules';
import { LiveAlertsRepository } from './live-alerts.repository';

const START = Date.UTC(2026, 10, 24, 2, 0, 0);
const MINUTES = 25;
const SWEEP_EVERY_MS = 200;
const DETECTION: Omit<DetectionOptions, 'partitions'> = TEST_DETECTION_OPTIONS;

/** (kind, call id or suspect, severity): what the acceptance compares */
const triple = (a: { kind: string; callId?: string; suspect: string; severity: string }): string =>
  `${a.kind} ${a.callId ?? a.suspect} ${a.severity}`;

/**
 * Issue 18's acceptance: a simulator run goes through the detector the way the live system runs it
 * (ingest's validation and batching, rounds of whatever arrived in 200 ms of its clock, the sweep on
 * that clock, the real Redis scripts, rules from PostgreSQL) and its alerts are stored by the alert
 * worker's repository in PostgreSQL; desks record outcomes on some. The backtest then replays the
 * NDJSON export of the same run in event time in a keyspace of its own, and must raise exactly the
 * live run's alerts. A candidate that raises the victim thresholds must drop the victim alerts,
 * confirmed ones included.
 */
describe('backtest against a recorded simulator run (real Redis and PostgreSQL)', () => {
  let schema: TestSchema;
  let redis: Redis;
  let liveKeys: RedisKeys;
  let file: string;
  let liveAlerts: LiveAlert[];
  let lastEventMs: number;
  let events: number;
  const confirmed: string[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    redis = await connectTestRedis();
    liveKeys = new RedisKeys(uniqueId('ee'));
    await schema.pool.query(
      `INSERT INTO carriers (id, name) VALUES ('carrier-a', 'A'), ('carrier-b', 'B'), ('carrier-c', 'C')
       ON CONFLICT DO NOTHING`,
    );

    // the recorded run, exported as `npm run simulate -- --out` writes it
    const gen = new Generator({
      seed: 21,
      runId: 'bt21',
      subscribers: 20_000,
      scenario: scenarioByName('demo'),
      startMs: START,
      durationMs: MINUTES * 60_000,
    });
    const all: { carrierId: string; event: ingestV1.CallEvent }[] = [];
    for (let e = gen.next(); e; e = gen.next()) all.push(e);
    events = all.length;
    lastEventMs = all[all.length - 1].event.eventTimeMs;
    file = join(tmpdir(), `${uniqueId('backtest')}.ndjson`);
    writeFileSync(
      file,
      all
        .map((e) => JSON.stringify({ carrierId: e.carrierId, event: ingestV1.CallEvent.toJSON(e.event) }))
        .join('\n') + '\n',
    );

    // one caller of the run is on the blacklist (mirrored into each keyspace from PostgreSQL)
    const rulesRepo = new RulesRepository(schema.pool, redis, liveKeys);
    await rulesRepo.addListEntry({
      list: 'black',
      numberToken: all[500].event.caller,
      scope: '*',
      reason: 'confirmed by police',
      actor: 'sup-1',
      actorRole: 'supervisor',
    });

    // the live run
    const scripts = new DetectorScripts(redis);
    await scripts.load();
    const rules = new RulesCache(rulesRepo, schema.pool, 60_000);
    await rules.start();
    const models = new ModelRegistry(new CallerModelsRepository(schema.pool));
    await models.start();
    await rulesRepo.syncListsToRedis();
    const jobs: AlertJob[] = [];
    let wall = START;
    const live = createDetection({
      redis,
      keys: liveKeys,
      scripts,
      rules,
      alerts: { publish: (j) => Promise.resolve(void jobs.push(...j)) },
      options: { ...DETECTION, partitions: 4 },
      clock: () => wall,
      models,
    });
    let i = 0;
    for (; i < all.length || wall <= lastEventMs + 15 * 60_000; wall += SWEEP_EVERY_MS) {
      const arrived = new Map<string, ingestV1.CallEvent[]>();
      for (; i < all.length && all[i].event.eventTimeMs <= wall; i++) {
        const list = arrived.get(all[i].carrierId) ?? [];
        list.push(all[i].event);
        arrived.set(all[i].carrierId, list);
      }
      const entries: HandoffEntry[] = [];
      for (const [carrierId, evs] of arrived) {
        const { valid, rejected } = validateBatch(evs, wall, { maxFutureSkewMs: 5000, maxAgeMs: 3600_000 });
        expect(rejected).toEqual([]);
        for (let k = 0; k < valid.length; k += 100)
          entries.push({ carrierId, events: valid.slice(k, k + 100) });
      }
      if (entries.length) await live.process(entries);
      await live.sweep(wall);
    }
    await rules.stop();

    // the alert worker stores them
    const alerts = new AlertRepository(schema.pool);
    for (const j of jobs) {
      if (j.name === AlertJobName.VictimOnCall) await alerts.upsertCallAlert(j.data as VictimOnCallJob);
      else if (j.name === AlertJobName.SuspectNumber)
        await alerts.upsertSuspectAlert(j.data as SuspectNumberJob);
      else if (j.name === AlertJobName.CallEnded) await alerts.recordCallEnded(j.data as CallEndedJob);
    }
    // desks record outcomes: three victim alerts confirmed as fraud, one suspect a false positive
    const { rows } = await schema.pool.query<{ id: string }>(
      `UPDATE alerts SET outcome = 'confirmed_fraud', state = 'closed'
        WHERE id IN (SELECT id FROM alerts WHERE kind <> 'suspect_number' ORDER BY id LIMIT 3) RETURNING id`,
    );
    confirmed.push(...rows.map((r) => r.id));
    await schema.pool.query(
      `UPDATE alerts SET outcome = 'false_positive', state = 'closed'
        WHERE id = (SELECT min(id) FROM alerts WHERE kind = 'suspect_number')`,
    );
    liveAlerts = await new LiveAlertsRepository(schema.pool).between(START, lastEventMs + 15 * 60_000, []);
  }, 600_000);

  afterAll(async () => {
    await dropRedisPrefix(redis, liveKeys.prefix);
    redis.disconnect();
    await schema.drop();
  });

  async function backtest(changes = '[]'): Promise<ReplayResult> {
    const repo = new RulesRepository(schema.pool, redis, liveKeys);
    const models = new ModelRegistry(new CallerModelsRepository(schema.pool));
    await models.start();
    const o: ReplayOptions = {
      redis,
      rules: new FixedRules(applyCandidate(await repo.getActiveRuleSet(), parseCandidateChanges(changes))),
      models,
      detection: DETECTION,
      roundMs: 200,
      reorderMs: 60_000,
      tailMs: 15 * 60_000,
      mirrorLists: (keys) => new RulesRepository(schema.pool, redis, keys).syncListsToRedis(),
    };
    const counters = newCounters();
    const result = await replay(ndjsonFileEvents(file, undefined, counters), o);
    expect(counters).toMatchObject({ events, refused: new Map() });
    return result;
  }

  it('reproduces the alerts the live run raised: same kind, call and severity', async () => {
    const liveKeyCount = (await redis.keys(`${liveKeys.prefix}:*`)).length;
    const result = await backtest();

    // the run is worth comparing: every kind of alert, a few dozen of them
    const kinds = new Set(liveAlerts.map((a) => a.kind));
    expect(kinds).toEqual(new Set(['victim_on_call', 'post_call', 'suspect_number']));
    expect(liveAlerts.length).toBeGreaterThanOrEqual(20);

    expect(result.alerts.map(triple).sort()).toEqual(liveAlerts.map(triple).sort());
    // deterministic: a second replay of the same input raises the same alerts at the same event times
    expect((await backtest()).alerts).toEqual(result.alerts);
    const cmp = compareAlerts(liveAlerts, result.alerts);
    expect(cmp.counts).toMatchObject({ missed: 0, new: 0, severityChanged: 0, matched: liveAlerts.length });
    expect(cmp.counts.byOutcome.confirmed_fraud).toEqual({ live: 3, kept: 3, dropped: 0 });
    expect(result.listEntries).toBe(1);
    expect(result.progress.events).toBe(events);
    expect(result.progress.late).toBe(0);

    // its keyspace is gone, the live one untouched
    expect(await redis.keys(`${result.prefix}*`)).toEqual([]);
    expect((await redis.keys(`${liveKeys.prefix}:*`)).length).toBe(liveKeyCount);
  }, 300_000);

  it('a candidate that raises the victim thresholds drops the victim alerts, confirmed ones included', async () => {
    const result = await backtest(
      JSON.stringify([
        { ruleId: 'alert_policy', scope: '*', params: { victimWarning: 900, victimCritical: 990 } },
      ]),
    );
    const cmp = compareAlerts(liveAlerts, result.alerts);
    const victimLive = liveAlerts.filter((a) => a.kind !== 'suspect_number');
    expect(victimLive.length).toBeGreaterThan(0);
    expect(result.alerts.filter((a) => a.kind !== 'suspect_number')).toEqual([]);
    expect(cmp.counts.missed).toBe(victimLive.length);
    expect(cmp.counts.byOutcome.confirmed_fraud).toEqual({ live: 3, kept: 0, dropped: 3 });
    expect(cmp.missed.map((a) => a.id)).toEqual(expect.arrayContaining(confirmed));
    // suspect-number alerts do not depend on the victim thresholds
    expect(cmp.counts.byKind.suspect_number.missed).toBe(0);
  }, 300_000);

  let extraEnv: Record<string, string> = {};
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runBacktest(
      args,
      {
        ...process.env,
        DATABASE_URL: schema.url,
        REDIS_URL: testRedisUrl(),
        USER: 'sup-1',
        ...extraEnv,
      },
      { out: (t) => (out += t), err: (t) => (err += t) },
    );
    return { code, out, err };
  }

  it('npm run backtest prints the comparison and audits the run', async () => {
    const json = join(tmpdir(), `${uniqueId('backtest')}.json`);
    const r = await cli(
      '--input',
      file,
      '--rules',
      JSON.stringify([{ ruleId: 'alert_policy', params: { victimWarning: 900, victimCritical: 990 } }]),
      '--tail-s',
      '900',
      '--json',
      json,
      '--list',
      '2',
    );
    expect(r.err).toContain(`backtest: ${events} events`);
    expect(r.code).toBe(0);
    const victims = liveAlerts.filter((a) => a.kind !== 'suspect_number').length;
    const suspects = liveAlerts.length - victims;
    expect(r.out).toContain(`alerts: live ${liveAlerts.length}, backtest ${suspects}`);
    expect(r.out).toContain(
      `matched ${suspects} (severity differs on 0), missed ${victims} (live only), new 0`,
    );
    expect(r.out).toMatch(/confirmed as fraud\s+3 \(kept 0, dropped 3\)/);
    expect(r.out).toContain(
      'WARNING: this change would have dropped 3 alert(s) that desks confirmed as fraud',
    );
    expect(r.out).toContain(`missed (raised live, not by the candidate) (first 2 of ${victims}):`);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ counts: { missed: victims, new: 0 } });
    const audit = await schema.pool.query<{ actor: string; detail: { counts: { missed: number } } }>(
      `SELECT actor, detail FROM audit_log WHERE action = 'backtest.run' ORDER BY id DESC LIMIT 1`,
    );
    expect(audit.rows[0]).toMatchObject({ actor: 'sup-1', detail: { counts: { missed: victims } } });

    // one carrier only, the active rules: that carrier's live alerts, all matched
    const a = await cli('--input', file, '--carrier', 'carrier-a');
    const liveA = liveAlerts.filter((x) => x.carrierId === 'carrier-a').length;
    expect(a.code).toBe(0);
    expect(a.out).toContain(`alerts: live ${liveA}, backtest ${liveA}`);
    expect(a.out).toContain('the candidate raises exactly the live alerts');
  }, 300_000);

  it('reproduces them from the retained hand-off streams too, reading them only', async () => {
    // ingest's hand-off of the same run: per carrier and partition, in arrival order, packed entries
    const handoff = new RedisKeys(uniqueId('ho'));
    const chunks = new Map<string, HandoffEvent[]>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const parsed = parseCallEventLine(line, 0);
      if (!parsed?.ok || !parsed.carrierId) continue;
      const ev = callEventToHandoff(parsed.event);
      if (typeof ev === 'string') throw new Error(ev);
      const k = `${parsed.carrierId} ${handoffPartition(ev.caller, 4)}`;
      const list = chunks.get(k) ?? [];
      list.push(ev);
      chunks.set(k, list);
    }
    for (const [k, evs] of chunks) {
      const [carrierId, p] = k.split(' ');
      for (let i = 0; i < evs.length; i += 50)
        await redis.xadd(
          handoff.handoffStream(Number(p)),
          '*',
          'c',
          carrierId,
          'p',
          packEvents(evs.slice(i, i + 50)),
        );
    }
    const lengths = async () => Promise.all([0, 1, 2, 3].map((p) => redis.xlen(handoff.handoffStream(p))));
    const before = await lengths();
    // the live detector's start of observation, as it recorded it: the backtest reads it
    await redis.set(handoff.detectorObservingSince(), String(START));
    try {
      extraEnv = { REDIS_KEY_PREFIX: handoff.prefix, HANDOFF_PARTITIONS: '4' };
      const r = await cli('--handoff', '--list', '0');
      expect(r.err).toContain(`backtest: ${events} events`);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Backtest of the hand-off streams of ${handoff.prefix} (4 partitions)`);
      expect(r.out).toContain(`alerts: live ${liveAlerts.length}, backtest ${liveAlerts.length}`);
      expect(r.out).toContain('the candidate raises exactly the live alerts');
      expect(r.out).toContain(
        `observing since ${new Date(START).toISOString()} (the live detector, ${handoff.prefix})`,
      );
      expect(await lengths()).toEqual(before);
      expect(await redis.get(handoff.detectorObservingSince())).toBe(String(START));
    } finally {
      extraEnv = {};
      await dropRedisPrefix(redis, handoff.prefix);
    }
  }, 300_000);

  it('refuses bad input clearly, and never repeats a clear number', async () => {
    const bad = await cli('--input', file, '--round-ms', '5000');
    expect(bad).toMatchObject({
      code: 2,
      err: expect.stringContaining('--round-ms must be an integer from 1 to 1000'),
    });
    const rule = await cli(
      '--input',
      file,
      '--rules',
      '[{"ruleId":"fanout","params":{"distinct1h":"many"}}]',
    );
    expect(rule).toMatchObject({
      code: 2,
      err: expect.stringContaining('change 1: rule fanout parameter distinct1h'),
    });
    expect((await cli('--input', file, '--from', 'yesterday')).code).toBe(2);
    const missing = await cli('--input', join(tmpdir(), 'no-such-file.ndjson'));
    expect(missing).toMatchObject({ code: 1, err: expect.stringContaining('cannot read --input') });

    const lines = readFileSync(file, 'utf8').split('\n').slice(0, 40);
    const clear = JSON.parse(lines[0]) as { carrierId: string; event: Record<string, unknown> };
    clear.event.caller = '+8613812345678';
    const mixed = join(tmpdir(), `${uniqueId('backtest')}.ndjson`);
    writeFileSync(mixed, [JSON.stringify(clear), ...lines.slice(1), 'not json'].join('\n'));
    const r = await cli('--input', mixed);
    expect(r.code).toBe(0);
    expect(r.out).toContain('refused 1 line(s): caller is a clear phone number, not a pseudonym token');
    expect(r.out).toContain('refused 1 line(s): not a JSON object');
    expect(r.out + r.err).not.toContain('13812345678');
  }, 300_000);
});
