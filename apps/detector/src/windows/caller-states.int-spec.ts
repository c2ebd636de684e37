import { fnv1a32, HandoffEvent } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { defaultRule, ResolvedRules, RULE_IDS } from '@eagle-eye/rules';
import { CallerState, LONG_CALL_S } from '@eagle-eye/scoring';
import { connectTestRedis, dropRedisPrefix, uniqueId } from '@eagle-eye/testing';
import Redis from 'ioredis';
import { AlertJob } from '../detection/alert.publisher';
import { createDetection, DetectionService } from '../detection/detection.service';
import { BENCH_DETECTION_OPTIONS, fixedHourOfTraffic } from '../bench/synthetic-traffic';
import { callFp, numberFp } from '../detection/fingerprint';
import { DetectorScripts } from '../lua/detector-scripts';
import { callerStates as metrics } from '../metrics';
import { Staged } from '../pipeline/work';

/**
 * The caller windows applied in the detector (DETECTOR_CALLER_WINDOWS=node) against
 * caller-batch-1.lua on the same traffic: every event's status, call mask, caller score and the
 * alerts of both stages must be the same; two replicas applying the same numbers at once must end
 * with what one would have; a deployment switching from the script keeps each number's history.
 */
const START = Date.UTC(2026, 10, 24, 8);
const ROUND = 500;
const rules = Object.fromEntries(RULE_IDS.map((id) => [id, defaultRule(id)])) as ResolvedRules;

/** Three hours of the benchmark's traffic (the same numbers every hour), in rounds. */
function traffic(subscribers: number, hours: number): HandoffEvent[][] {
  const events: HandoffEvent[] = [];
  for (let h = 0; h < hours; h++)
    // the generator numbers calls from 0 every hour: one call id per call
    for (const e of fixedHourOfTraffic(subscribers, START + h * 3600_000, 'states'))
      events.push({ ...e, call: `h${h}${e.call}`, id: `h${h}${e.id}` });
  // an hour's calls end in the next: in event-time order, so two replicas applying halves of a
  // round are never a lateness apart (which order they apply in would decide what is late)
  events.sort((a, b) => a.t - b.t);
  const rounds: HandoffEvent[][] = [];
  for (let i = 0; i < events.length; i += ROUND) rounds.push(events.slice(i, i + ROUND));
  return rounds;
}

interface Outcome {
  /** per event: status, mask, caller score total (NaN when not scored) */
  events: string[];
  jobs: string[];
}

describe('caller windows in the detector (DETECTOR_CALLER_WINDOWS=node)', () => {
  let redis: Redis;
  let scripts: DetectorScripts;
  const prefixes: string[] = [];
  const rounds = traffic(800, 3);

  beforeAll(async () => {
    redis = await connectTestRedis();
    scripts = new DetectorScripts(redis);
    await scripts.load();
  });
  afterAll(async () => {
    for (const p of prefixes) await dropRedisPrefix(redis, p);
    redis.disconnect();
  });

  async function detection(
    mode: 'script' | 'node',
    prefix = uniqueId('cs'),
    jobs: AlertJob[] = [],
    callerWriteDelayMs = 0,
    callerStatesHeld?: number,
  ): Promise<{ d: DetectionService; keys: RedisKeys; jobs: AlertJob[] }> {
    const keys = new RedisKeys(prefix);
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
    await redis.set(keys.detectorObservingSince(), String(START - 30 * 86400_000));
    const d = createDetection({
      redis,
      keys,
      scripts,
      rules: { forCarrier: () => rules },
      alerts: { publish: async (j) => void jobs.push(...j) },
      options: { ...BENCH_DETECTION_OPTIONS, callerWindows: mode, callerWriteDelayMs, callerStatesHeld },
      clock: () => 0,
    });
    return { d, keys, jobs };
  }

  function record(out: Outcome, staged: Staged): void {
    for (const w of staged.works)
      out.events.push(`${w.ev.call}/${w.ev.type} ${w.status} ${w.mask} ${w.caller ? w.caller.total : NaN}`);
  }

  async function run(
    d: DetectionService,
    jobs: AlertJob[],
    rs: HandoffEvent[][],
    out: Outcome,
  ): Promise<void> {
    for (const events of rs) {
      const staged = await d.applyCallers([{ carrierId: 'carrier-a', events }]);
      record(out, staged);
      await d.finish(staged);
    }
    out.jobs.push(...jobs.map((j) => `${j.name} ${JSON.stringify(j.data)}`));
    jobs.length = 0;
  }

  it('scores every event and raises every alert exactly as the caller script does', async () => {
    const a = await detection('script');
    const b = await detection('node');
    const outA: Outcome = { events: [], jobs: [] };
    const outB: Outcome = { events: [], jobs: [] };
    await run(a.d, a.jobs, rounds, outA);
    await run(b.d, b.jobs, rounds, outB);
    expect(outA.events.length).toBeGreaterThan(20_000);
    expect(outB.events).toEqual(outA.events);
    expect(outA.jobs.length).toBeGreaterThan(0);
    expect(outB.jobs).toEqual(outA.jobs);
  }, 300_000);

  it('keeps the history of a deployment that switches from the caller script', async () => {
    // the script throughout (a restarted detector for the second half, as the switch is a restart)
    const wholePrefix = uniqueId('cs');
    const first = await detection('script', wholePrefix);
    const half = Math.floor(rounds.length / 2);
    await run(first.d, first.jobs, rounds.slice(0, half), { events: [], jobs: [] });
    const whole = await detection('script', wholePrefix);
    const outWhole: Outcome = { events: [], jobs: [] };
    await run(whole.d, whole.jobs, rounds.slice(half), outWhole);
    // the first half through the script, the second through the detector, on the same keys
    const prefix = uniqueId('cs');
    const before = await detection('script', prefix);
    await run(before.d, before.jobs, rounds.slice(0, half), { events: [], jobs: [] });
    const after = await detection('node', prefix);
    const reads = await metricValue('script-hash');
    const outSwitched: Outcome = { events: [], jobs: [] };
    await run(after.d, after.jobs, rounds.slice(half), outSwitched);
    expect(await metricValue('script-hash')).toBeGreaterThan(reads + 500);
    expect(outSwitched.events).toEqual(outWhole.events);
    expect(outSwitched.jobs).toEqual(outWhole.jobs);
    // moved: a caller's windows hash keeps only received calls (J K I R)
    const caller = rounds[0][0].caller;
    const fields = await redis.hkeys(after.keys.numWindows(caller));
    expect(fields.filter((f) => !/^[JKIR]\d/.test(f) && f !== 'rv')).toEqual([]);
    expect(await redis.exists(after.keys.numState(caller))).toBe(1);
  }, 300_000);

  it('ends with the windows one replica would have when two apply the same numbers at once', async () => {
    // rounds of 100 events (about 40 s of traffic): two replicas can then never be a lateness apart
    const small = rounds.flat().reduce<HandoffEvent[][]>((out, e, i) => {
      if (i % 100 === 0) out.push([]);
      out[out.length - 1].push(e);
      return out;
    }, []);
    const single = await detection('node');
    await run(single.d, single.jobs, small, { events: [], jobs: [] });
    // two replicas on one prefix; each round split in two halves applied at the same time, so a
    // number's events of one round go to both (the hand-off partitions by call, not by number)
    const prefix = uniqueId('cs');
    const r1 = await detection('node', prefix);
    const r2 = await detection('node', prefix);
    const conflicts = (await metrics.conflicts.get()).values[0]?.value ?? 0;
    for (const events of small) {
      const byCall = (odd: number) =>
        events.filter((e) => (e.call.charCodeAt(e.call.length - 1) & 1) === odd);
      await Promise.all(
        [r1.d, r2.d].map(async (d, i) => {
          // a replica re-applies a round that failed (here: when the other kept writing its numbers)
          for (let tries = 0; ; tries++) {
            try {
              await d.process([{ carrierId: 'carrier-a', events: byCall(i) }]);
              return;
            } catch (e) {
              if (tries > 20) throw e;
            }
          }
        }),
      );
    }
    expect((await metrics.conflicts.get()).values[0]?.value ?? 0).toBeGreaterThan(conflicts);
    // every number's stored windows, read at the end, as the single replica's
    const numbers = [...new Set(rounds.flat().map((e) => e.caller))];
    const end = rounds[rounds.length - 1].at(-1)!.t;
    const opts = { latenessMs: BENCH_DETECTION_OPTIONS.latenessMs, longCallS: LONG_CALL_S };
    const read = async (keys: RedisKeys) =>
      Promise.all(
        numbers.map(async (n) => {
          const blob = await redis.getBuffer(keys.numState(n));
          if (!blob) return null;
          const s = CallerState.decode(blob, opts);
          // the last callee region depends on which replica applied last (and so does when the
          // replay guards of ended calls are dropped: when a new 2-minute bucket opens)
          return { ...s.read(end), region: '' };
        }),
      );
    expect(await read(new RedisKeys(prefix))).toEqual(await read(single.keys));
  }, 300_000);

  it('defers windows writes and, after a replica dies before writing, applies its rounds again to the same end', async () => {
    const part = rounds.slice(0, 24);
    const numbers = [...new Set(part.flat().flatMap((e) => [e.caller, e.callee]))];
    const end = part[part.length - 1].at(-1)!.t;
    const opts = { latenessMs: BENCH_DETECTION_OPTIONS.latenessMs, longCallS: LONG_CALL_S };
    /** what Redis ends with: windows strings (read at the end), familiarity and received calls */
    const stored = async (keys: RedisKeys) =>
      Promise.all(
        numbers.map(async (n) => {
          const blob = await redis.getBuffer(keys.numState(n));
          const w = await redis.hgetall(keys.numWindows(n));
          delete w.rv; // how many times received calls were counted in, not what they are
          return {
            state: blob ? CallerState.decode(blob, opts).read(end) : null,
            familiar: await redis.hgetall(keys.numFamiliar(n)),
            received: w,
          };
        }),
      );
    /**
     * The rounds through a replica as the hand-off consumer runs them: each acknowledged once
     * durable. `crashAfter`: the replica dies after that round (what it held is lost) and a new
     * one applies the rounds not acknowledged again, then the rest.
     */
    const consume = async (prefix: string, delay: number, crashAfter = -1, held?: number) => {
      let r = await detection('node', prefix, [], delay, held);
      let mostWaiting = 0;
      let unacked: { i: number; round: number | undefined }[] = [];
      let replayed = 0;
      for (let i = 0; i < part.length; i++) {
        const staged = await r.d.applyCallers([{ carrierId: 'carrier-a', events: part[i] }]);
        await r.d.finish(staged);
        unacked.push({ i, round: staged.round });
        unacked = unacked.filter((u) => !r.d.durable(u.round));
        mostWaiting = Math.max(mostWaiting, (await metrics.dirty.get()).values[0]?.value ?? 0);
        if (i === crashAfter) {
          r = await detection('node', prefix, [], delay);
          const again = unacked.map((u) => u.i);
          replayed = again.length;
          unacked = [];
          for (const k of again) {
            const s2 = await r.d.applyCallers([{ carrierId: 'carrier-a', events: part[k] }]);
            await r.d.finish(s2);
            unacked.push({ i: k, round: s2.round });
          }
        }
      }
      await r.d.flushWindows(true);
      expect(unacked.filter((u) => !r.d.durable(u.round))).toEqual([]);
      if (held !== undefined) expect(mostWaiting).toBeLessThanOrEqual(held);
      return replayed;
    };
    const written = (await metrics.written.get()).values[0]?.value ?? 0;
    const deferredBefore = (await metrics.deferred.get()).values[0]?.value ?? 0;
    const every = uniqueId('cs');
    await consume(every, 0);
    const writesEvery = ((await metrics.written.get()).values[0]?.value ?? 0) - written;
    // five minutes of event time: a number's events of about two rounds share one write
    const deferred = uniqueId('cs');
    await consume(deferred, 300_000);
    const writesDeferred = ((await metrics.written.get()).values[0]?.value ?? 0) - written - writesEvery;
    expect((await metrics.deferred.get()).values[0]?.value ?? 0).toBeGreaterThan(deferredBefore);
    expect(writesDeferred).toBeLessThan(writesEvery * 0.9);
    const crashed = uniqueId('cs');
    const replayed = await consume(crashed, 300_000, 15);
    expect(replayed).toBeGreaterThan(0);
    // at most 60 numbers may wait (DETECTOR_CALLER_STATES_HELD): the oldest are written early
    const earlyBefore = (await metrics.early.get()).values[0]?.value ?? 0;
    const bounded = uniqueId('cs');
    await consume(bounded, 300_000, -1, 60);
    expect((await metrics.early.get()).values[0]?.value ?? 0).toBeGreaterThan(earlyBefore);
    prefixes.push(every, deferred, crashed, bounded);
    const reference = await stored(new RedisKeys(every));
    expect(reference.filter((x) => x.state).length).toBeGreaterThan(500);
    expect(reference.filter((x) => Object.keys(x.received).length).length).toBeGreaterThan(300);
    expect(await stored(new RedisKeys(deferred))).toEqual(reference);
    expect(await stored(new RedisKeys(crashed))).toEqual(reference);
    expect(await stored(new RedisKeys(bounded))).toEqual(reference);
  }, 300_000);

  it("sets the day's familiarity TTL when a round whose notes failed is applied again", async () => {
    const { d, keys } = await detection('node');
    const t = START + 3600_000;
    const day = Math.floor(t / 86400_000);
    // a number of the traffic, on a prefix of their own (nothing applied before)
    const { caller, callee } = rounds[0][0];
    const round: HandoffEvent[] = [
      { ...rounds[0][0], id: 'ttl-c1-a', call: 'ttl-c1', type: 'ATTEMPT', t, talk: undefined },
    ];
    const fam = keys.numFamiliar(caller);
    // a real failure of the notes script: the familiarity key holds a string
    await redis.set(fam, 'not a hash');
    await expect(d.process([{ carrierId: 'carrier-a', events: round }])).rejects.toThrow(/WRONGTYPE/);
    // the hash as it may be found: the callee called the day before, no TTL (so only the day's
    // first attempt sets one: the failed round must not have used that up)
    await redis.del(fam);
    await redis.hset(fam, numberFp(callee), String(2 * (day - 1)));
    await d.process([{ carrierId: 'carrier-a', events: round }]);
    // the day (called the day before too), then the call's tag
    expect(await redis.hget(fam, numberFp(callee))).toBe(
      String((2 * day + 1) * 2 ** 33 + fnv1a32(callFp('carrier-a', 'ttl-c1'))),
    );
    expect(await redis.ttl(fam)).toBeGreaterThan(0);
  });
});

async function metricValue(source: string): Promise<number> {
  const m = await metrics.reads.get();
  return m.values.find((v) => v.labels.source === source)?.value ?? 0;
}
