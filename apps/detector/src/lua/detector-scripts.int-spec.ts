import { createHash } from 'node:crypto';
import { AlertJobName } from '@eagle-eye/contracts';
import { RedisKeys } from '@eagle-eye/redis';
import { defaultRule, ResolvedRules, RULE_IDS } from '@eagle-eye/rules';
import { connectTestRedis, dropRedisPrefix, uniqueId } from '@eagle-eye/testing';
import Redis from 'ioredis';
import { BENCH_DETECTION_OPTIONS, fixedHourOfTraffic } from '../bench/synthetic-traffic';
import { createDetection } from '../detection/detection.service';
import { scriptCalls } from '../metrics';
import { call, ev, fanout, Harness, snapshot, startHarness, T0, token } from '../test/harness';
import { singleCallerCall } from './caller-args';
import { parseRead } from '../windows/caller-states';
import { DetectorScripts, groupsSource, loadScripts, ScriptCall } from './detector-scripts';

/** CRC16/XMODEM of the hash tag, mod 16384: the Redis Cluster slot of a key. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let s = key;
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) s = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(s)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

// Changing a script changes its SHA: update the pin deliberately, together with the script.
const PINNED: Record<string, string> = {
  'alert-claim-1.lua': '7494951c870ec4e5568d8f0e92b90d50dc7cf590',
  'callee-batch-1.lua': '3f9634f3e7e5017b49aadf36aa98f78df009d09d',
  'caller-batch-1.lua': '070dae34bc4bfc3f2f8b9502d5cf5c5dbc73d2a5',
  'caller-notes-1.lua': '3c3d067d8b05f98cca042c893ec0357035dc319d',
  'caller-state-read-1.lua': 'ee242c51cc8157a8f5d75dea9f584667421baa8e',
  'caller-state-write-1.lua': 'ccee87b993039dc66a592fc9903092e428217576',
  'due-claim-1.lua': '2fd26fa336722215457ca9a67ee1ea6c696543aa',
};

describe('detector Lua scripts', () => {
  let h: Harness;
  beforeAll(async () => {
    // the caller script's windows hash, whatever DETECTOR_CALLER_WINDOWS says
    h = await startHarness({ callerWindows: 'script' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('computes slots like Redis does (reference values from the CLUSTER KEYSLOT docs)', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('somekey')).toBe(11058);
    expect(keySlot('foo{hash_tag}')).toBe(2515);
    expect(keySlot('bar{hash_tag}')).toBe(2515);
    expect(keySlot('ee:{n:p1.t.a}:w')).toBe(keySlot('other:{n:p1.t.a}:l'));
  });

  it('pins every script SHA on real Redis and documents KEYS and ARGV in a header', async () => {
    const scripts = loadScripts();
    expect([...scripts.values()].map((s) => s.file).sort()).toEqual(Object.keys(PINNED).sort());
    for (const s of scripts.values()) {
      expect(await h.redis.script('LOAD', s.source)).toBe(PINNED[s.file]);
      expect(s.sha).toBe(PINNED[s.file]);
      expect(s.source.startsWith('--[[')).toBe(true);
      for (let i = 1; i <= s.numKeys; i++) expect(s.source).toContain(`KEYS[${i}]`);
      expect(s.source).not.toContain(`KEYS[${s.numKeys + 1}]`);
    }
  });

  it('falls back from EVALSHA to loading the scripts when Redis does not have them', async () => {
    // a variant no Redis has seen (no SCRIPT FLUSH: other suites share the server)
    const scripts = new DetectorScripts(h.redis);
    const due = scripts.get('due-claim');
    const source = `${due.source}\n-- ${uniqueId()}\n`;
    scripts.scripts.set('due-claim', {
      ...due,
      source,
      sha: createHash('sha1').update(source).digest('hex'),
    });
    const key = h.keys.detectorDue(9999); // a shard no sweep reads
    await h.redis.zadd(key, T0, 'a-check');
    const r = await scripts.one({ script: 'due-claim', keys: [key], args: [T0 + 1, 1000, 10] });
    expect(r).toEqual(['a-check', String(T0)]);
  });

  it("keeps a busy number's windows hash bounded and its sums exact (binary buckets, housekeeping)", async () => {
    const caller = token();
    const wKey = h.keys.numWindows(caller);
    // a text bucket of the earlier layout is dropped by the first housekeeping
    await h.redis.hset(wKey, 'm1', '1,0,0,0,0,0', 'dr', '510100');
    // two hours of one call a minute, each answered for 30 s
    for (let i = 0; i < 120; i += 20) {
      const events = [];
      for (let k = i; k < i + 20; k++) events.push(...call(caller, token(), T0 + k * 60_000, 30));
      await h.detection.process([h.entry(events)]);
    }
    const fields = await h.redis.hkeys(wKey);
    expect(fields).not.toContain('m1');
    expect(fields).toContain('dr');
    // buckets: 2-minute ones of the last 10 min + lateness, 10-minute ones of the last hour, 2-hour
    // ones of the day; replay guards only of calls within lateness
    expect(fields.filter((f) => f.startsWith('M')).length).toBeLessThanOrEqual(8);
    expect(fields.filter((f) => f.startsWith('H')).length).toBeLessThanOrEqual(9);
    expect(fields.filter((f) => f.startsWith('c')).length).toBeLessThanOrEqual(4);
    expect(await h.redis.ttl(wKey)).toBeGreaterThan(0);
    // read the windows at the last event: 10 min of attempts, one hour of answered calls and talk
    const last = T0 + 119 * 60_000 + 35_000;
    const read = singleCallerCall(
      h.keys,
      { latenessMs: 120_000, windowTtlS: 3600, historyTtlS: 8 * 86400, familiarTtlS: 3600, simTtlS: 3600 },
      {
        op: 'r',
        token: caller,
        t: last,
        type: 'A',
        callFp: 'x',
        counterpartFp: 'y',
        talkS: 0,
        shortCallS: 10,
        carrierId: h.carrier,
        region: '',
        minTalkS: 60,
      },
    );
    const r = read.decode(await h.scripts.one(read.call)).windows;
    // a bucket counts while any part of it is inside the window: 10 min of 2-min buckets reach
    // back to the bucket holding (last - 10 min), 1 h of 10-min buckets likewise
    const inWindow = (w: number, g: number) =>
      Array.from({ length: 120 }, (_, k) => T0 + k * 60_000).filter(
        (t) => Math.floor(t / g) >= Math.floor((last - w) / g),
      ).length;
    expect(r.attempts10m).toBe(inWindow(600_000, 120_000)); // attempts, 10 min
    expect(r.attempts1h).toBe(inWindow(3_600_000, 600_000)); // attempts, 1 h
    expect(r.answered1h).toBe(inWindow(3_600_000, 600_000)); // answered, 1 h
    expect(r.talk1h).toBe(30 * inWindow(3_600_000, 600_000)); // talk seconds, 1 h
    expect(r.attempts24h).toBe(120); // attempts, 24 h
  });

  it("sets a number's windows and familiarity TTLs once per day of event time, a day longer", async () => {
    const caller = token();
    const wKey = h.keys.numWindows(caller);
    const fKey = h.keys.numFamiliar(caller);
    const hist = 8 * 86400 + 3600 + 86400; // the harness's history TTL, plus the day
    const fam = 30 * 86400 + 86400;
    await h.detection.process([h.entry(call(caller, token(), T0, 30))]);
    expect(await h.redis.ttl(wKey)).toBeGreaterThan(hist - 5);
    expect(await h.redis.ttl(fKey)).toBeGreaterThan(fam - 5);
    // later the same day, in another bucket: the windows hash keeps its TTL ...
    await h.redis.expire(wKey, 1000);
    await h.redis.expire(fKey, 1000);
    const known = token();
    await h.detection.process([h.entry(call(caller, known, T0 + 600_000, 30))]);
    expect(await h.redis.ttl(wKey)).toBeLessThanOrEqual(1000);
    // ... and the familiarity hash gets its TTL again as it gains a field (a new callee) ...
    expect(await h.redis.ttl(fKey)).toBeGreaterThan(fam - 5);
    // ... but not for a callee it knows already
    await h.redis.expire(fKey, 1000);
    await h.detection.process([h.entry(call(caller, known, T0 + 1_200_000, 30))]);
    expect(await h.redis.ttl(fKey)).toBeLessThanOrEqual(1000);
    // the next UTC day of event time sets both again
    await h.detection.process([h.entry(call(caller, known, T0 + 86_400_000, 30))]);
    expect(await h.redis.ttl(wKey)).toBeGreaterThan(hist - 5);
    expect(await h.redis.ttl(fKey)).toBeGreaterThan(fam - 5);
  });

  it('calls every script with keys of one hash slot, across all scenarios', async () => {
    await oneSlotPerCall(h, ['alert-claim', 'callee-batch', 'caller-batch', 'due-claim']);
  });
});

describe('detector Lua scripts, caller windows in the detector (DETECTOR_CALLER_WINDOWS=node)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ callerWindows: 'node' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('calls every script with keys of one hash slot, across all scenarios', async () => {
    await oneSlotPerCall(h, [
      'alert-claim',
      'callee-batch',
      'caller-batch', // the handsets' SIMs only
      'caller-notes',
      'caller-state-read',
      'caller-state-write',
      'due-claim',
    ]);
  });

  it("keeps a number's windows in one string with the history TTL, and the familiarity TTL as the script sets it", async () => {
    const caller = token();
    const sKey = h.keys.numState(caller);
    const fKey = h.keys.numFamiliar(caller);
    const hist = 8 * 86400 + 3600 + 86400;
    const fam = 30 * 86400 + 86400;
    await h.detection.process([h.entry(call(caller, token(), T0, 30))]);
    expect(await h.redis.pttl(sKey)).toBeGreaterThan((hist - 5) * 1000);
    expect(await h.redis.ttl(fKey)).toBeGreaterThan(fam - 5);
    // no script windows hash for a caller (only received calls live there)
    expect(await h.redis.exists(h.keys.numWindows(caller))).toBe(0);
    const known = token();
    await h.redis.expire(fKey, 1000);
    await h.detection.process([h.entry(call(caller, known, T0 + 600_000, 30))]);
    // a new callee later in the day leaves the TTL the day's first attempt set ...
    expect(await h.redis.ttl(fKey)).toBeLessThanOrEqual(1000);
    expect(await h.redis.ttl(fKey)).toBeGreaterThan(0);
    // ... and gives a hash without one its TTL
    await h.redis.persist(fKey);
    await h.detection.process([h.entry(call(caller, token(), T0 + 900_000, 30))]);
    expect(await h.redis.ttl(fKey)).toBeGreaterThan(fam - 5);
    // a known callee changes nothing
    await h.redis.expire(fKey, 1000);
    await h.detection.process([h.entry(call(caller, known, T0 + 1_200_000, 30))]);
    expect(await h.redis.ttl(fKey)).toBeLessThanOrEqual(1000);
    // every write sets the string's TTL
    await h.redis.pexpire(sKey, 1_000_000);
    await h.detection.process([h.entry(call(caller, known, T0 + 1_800_000, 30))]);
    expect(await h.redis.pttl(sKey)).toBeGreaterThan((hist - 5) * 1000);
    // the next UTC day of event time sets the familiarity TTL again
    await h.redis.expire(fKey, 1000);
    await h.detection.process([h.entry(call(caller, known, T0 + 86_400_000, 30))]);
    expect(await h.redis.ttl(fKey)).toBeGreaterThan(fam - 5);
  });
  it('writes a windows string only over the revision it was read at, leaving another as it finds it', async () => {
    const n = token();
    const stem = h.keys.groupStem(h.keys.keyGroup(n));
    const sKey = h.keys.numState(n);
    const scripts = new DetectorScripts(h.redis);
    await scripts.load();
    // a string whose bytes 2..5 hold its revision
    const blob = (rev: number, fill: number): Buffer => {
      const b = Buffer.alloc(40, fill);
      b[0] = 2;
      b.writeUInt32LE(rev, 1);
      return b;
    };
    const write = async (read: number, b: Buffer): Promise<unknown> =>
      (
        await scripts.run([{ script: 'caller-state-write', keys: [stem], args: [600_000, n, read, b, '0'] }])
      )[0];
    // none stored (revision 0): written, with the TTL
    expect(await write(0, blob(1, 7))).toBe('0');
    expect(await h.redis.getBuffer(sKey)).toEqual(blob(1, 7));
    expect(await h.redis.pttl(sKey)).toBeGreaterThan(590_000);
    // a replica that read none meanwhile finds revision 1: not written, revision 1 left as it was
    expect(await write(0, blob(1, 9))).toBe('1');
    expect(await h.redis.getBuffer(sKey)).toEqual(blob(1, 7));
    expect(await h.redis.pttl(sKey)).toBeGreaterThan(0);
    // the replica that read revision 1 writes revision 2
    expect(await write(1, blob(2, 8))).toBe('0');
    expect(await h.redis.getBuffer(sKey)).toEqual(blob(2, 8));
    // a string gone since it was read (expired) is not written by the replica that read it
    await h.redis.del(sKey);
    expect(await write(2, blob(3, 1))).toBe('1');
    expect(await h.redis.exists(sKey)).toBe(0);
  });

  it("drops a number's received-call buckets once no window can read them", async () => {
    const victim = token();
    const wKey = h.keys.numWindows(victim);
    // ten days of calls received every 2 hours, each from a new number
    for (let k = 0; k < 120; k++)
      await h.detection.process([h.entry(call(token(), victim, T0 + k * 7_200_000, 40))]);
    const fields = await h.redis.hkeys(wKey);
    const count = (c: string) => fields.filter((f) => f.startsWith(c)).length;
    // 24 hours of 2-hour buckets (+ lateness), 7 days (+ lateness)
    expect(count('J')).toBeLessThanOrEqual(14);
    expect(count('I')).toBeLessThanOrEqual(8);
    expect(count('J')).toBeGreaterThanOrEqual(12);
    // and their revision
    expect(fields.length).toBe(count('J') + count('I') + 1);
    expect(fields).toContain('rv');
  });
});

/** A scenario that uses every script; each call's keys must share one slot. */
async function oneSlotPerCall(h: Harness, expected: string[]): Promise<void> {
  h.scripts.calls.length = 0;
  const scammer = token();
  const victim = token();
  const device = token();
  const extra = { device };
  await h.repo.addListEntry({
    list: 'gray',
    numberToken: scammer,
    scope: h.carrier,
    reason: 'reported',
    actor: 'a',
    actorRole: 'admin',
  });
  await h.detection.process([
    h.entry([
      ...fanout(scammer, T0, 30, extra),
      ev('ATTEMPT', 'x1', scammer, victim, T0, extra),
      ev('ANSWERED', 'x1', scammer, victim, T0 + 1000, extra),
    ]),
  ]);
  await h.detection.sweep(T0 + 700_000);
  await h.detection.process([
    h.entry([ev('ENDED', 'x1', scammer, victim, T0 + 800_000, { ...extra, talk: 799 })]),
  ]);
  await h.detection.process([h.entry(call(scammer, token(), T0 + 900_000, 300, extra))]);
  expect(h.sink.jobs.some((j) => j.name === AlertJobName.CallEnded)).toBe(true);
  const used = new Set(h.scripts.calls.map((c) => c.script));
  expect([...used].sort()).toEqual(expected);
  for (const c of h.scripts.calls) {
    const slots = new Set(c.keys.map(keySlot));
    expect({ script: c.script, slots: slots.size }).toEqual({ script: c.script, slots: 1 });
    // the batched script builds its keys from the group's stem: they share its hash tag
    if (c.script !== 'alert-claim' && c.script !== 'due-claim') expect(c.keys[0]).toMatch(/:\{g\d+\}:$/);
  }
}

describe('per-group scripts on one Redis server: one request per script and round stage', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const rules = Object.fromEntries(RULE_IDS.map((id) => [id, defaultRule(id)])) as ResolvedRules;
  const start = Date.UTC(2026, 10, 24, 8);

  beforeAll(async () => {
    redis = await connectTestRedis();
  });
  afterAll(async () => {
    for (const p of prefixes) await dropRedisPrefix(redis, p);
    redis.disconnect();
  });

  async function counted(kind: 'calls' | 'requests'): Promise<number> {
    return (await scriptCalls.get()).values
      .filter((v) => v.labels.kind === kind)
      .reduce((n, v) => n + v.value, 0);
  }

  /** An hour of traffic through a detector whose scripts group calls (at most `maxArgs` arguments a request; 0: not at all). */
  async function runHour(mode: 'script' | 'node', maxArgs: number) {
    const prefix = uniqueId('gr');
    prefixes.push(prefix);
    // many groups, so that a request carries many calls (the default has 16)
    const keys = new RedisKeys(prefix, 64);
    await redis.set(keys.detectorObservingSince(), String(start - 30 * 86400_000));
    const scripts = new DetectorScripts(redis, maxArgs);
    await scripts.load();
    const jobs: string[] = [];
    const d = createDetection({
      redis,
      keys,
      scripts,
      rules: { forCarrier: () => rules },
      alerts: {
        publish: async (j) => void jobs.push(...j.map((x) => `${x.name} ${JSON.stringify(x.data)}`)),
      },
      options: { ...BENCH_DETECTION_OPTIONS, callerWindows: mode },
      clock: () => 0,
    });
    const events = fixedHourOfTraffic(400, start, 'grouped');
    const outcomes: string[] = [];
    const calls0 = await counted('calls');
    const requests0 = await counted('requests');
    for (let i = 0; i < events.length; i += 400) {
      const staged = await d.applyCallers([{ carrierId: 'carrier-a', events: events.slice(i, i + 400) }]);
      for (const w of staged.works)
        outcomes.push(`${w.ev.id} ${w.status} ${w.mask} ${w.caller ? w.caller.total : NaN}`);
      await d.finish(staged);
    }
    await d.sweep(start + 3 * 3600_000);
    const calls = (await counted('calls')) - calls0;
    const requests = (await counted('requests')) - requests0;
    const state = await snapshot(redis, prefix);
    return { outcomes, jobs, calls, requests, state, rounds: Math.ceil(events.length / 400) };
  }

  it.each(['script', 'node'] as const)(
    'scores, alerts and stores exactly what one call per key group does (%s windows)',
    async (mode) => {
      const apart = await runHour(mode, 0);
      const grouped = await runHour(mode, Infinity);
      // a request cut off at 300 arguments (DETECTOR_SCRIPT_REQUEST_ARGS): the same again, in more requests
      const capped = await runHour(mode, 300);
      expect(grouped.outcomes.length).toBeGreaterThan(2000);
      expect(grouped.outcomes).toEqual(apart.outcomes);
      expect(grouped.jobs.length).toBeGreaterThan(0);
      expect(grouped.jobs).toEqual(apart.jobs);
      expect(grouped.state).toEqual(apart.state);
      // the same calls, far fewer requests: 64 key groups here, a handful of script stages per round
      expect(grouped.calls).toBe(apart.calls);
      expect(apart.requests).toBe(apart.calls);
      expect(grouped.requests).toBeLessThan(grouped.rounds * 12);
      expect(grouped.requests * 8).toBeLessThan(grouped.calls);
      expect(capped.outcomes).toEqual(apart.outcomes);
      expect(capped.jobs).toEqual(apart.jobs);
      expect(capped.state).toEqual(apart.state);
      expect(capped.requests).toBeGreaterThan(grouped.requests);
      expect(capped.requests).toBeLessThan(apart.requests);
    },
    300_000,
  );

  it('keeps calls apart when their shared arguments differ or another script comes between, in order', async () => {
    const prefix = uniqueId('gr');
    prefixes.push(prefix);
    const keys = new RedisKeys(prefix);
    const [a, b] = [token(), token()];
    // each call's attempts are other calls (tags) than the last's: a repeat, not a replay
    let tag = 0;
    const notes = (n: string, famTtl: number): ScriptCall => ({
      script: 'caller-notes',
      keys: [keys.groupStem(keys.keyGroup(n))],
      args: [famTtl, 'A', n, 'fp-1', 20000, ++tag, 'a', n, 'fp-2', 20000, ++tag],
    });
    const read = (n: string): ScriptCall => ({
      script: 'caller-state-read',
      keys: [keys.groupStem(keys.keyGroup(n))],
      args: [1, n, 'carrier-a', -2, -1],
    });
    const scripts = new DetectorScripts(redis);
    await scripts.load();
    const requests0 = await counted('requests');
    const replies = await scripts.run([
      notes(a, 7200),
      notes(b, 7200),
      notes(a, 9000),
      read(a),
      notes(b, 7200),
    ]);
    // notes a+b share one request; the third has another familiarity TTL; the read; the last notes
    expect((await counted('requests')) - requests0).toBe(4);
    // first attempt of each callee: new distinct callee and new familiar number, then repeats
    expect(replies.slice(0, 3)).toEqual(['1111', '1111', '0000']);
    expect(replies[4]).toBe('0000');
    expect(await redis.ttl(keys.numFamiliar(a))).toBeGreaterThan(7200);
    expect(await redis.ttl(keys.numFamiliar(b))).toBeLessThanOrEqual(7200);
  });

  it('notes a callee new for its day from the day stored in the familiarity hash, late attempts of the day before included', async () => {
    const keys = new RedisKeys(uniqueId('nt'));
    prefixes.push(keys.prefix);
    const n = token();
    const scripts = new DetectorScripts(redis);
    await scripts.load();
    const D = 20400;
    // each attempt's two flags: new for its day, never called before
    // each call its own tag (a replay of one is tested below)
    let tags = 100;
    const attempt = async (callee: string, day: number, op = 'a', tag = tags++): Promise<unknown> =>
      (
        await scripts.run([
          {
            script: 'caller-notes',
            keys: [keys.groupStem(keys.keyGroup(n))],
            args: [7200, op, n, callee, day, tag],
          },
        ])
      )[0];
    expect(await attempt('x', D, 'A')).toBe('11');
    expect(await attempt('x', D)).toBe('00');
    // the next day: new for the day, not new ever; a late attempt of the day before it: not new
    expect(await attempt('x', D + 1)).toBe('10');
    expect(await attempt('x', D)).toBe('00');
    // two days later, then a late one of the day before, which had no call to it: new for that day, once
    expect(await attempt('x', D + 3)).toBe('10');
    expect(await attempt('x', D + 2)).toBe('10');
    expect(await attempt('x', D + 2)).toBe('00');
    expect(await attempt('x', D + 3)).toBe('00');
    // a field the script windows wrote (caller-batch-1.lua: 1): called before, not on this day
    await redis.hset(keys.numFamiliar(n), 'y', '1');
    expect(await attempt('y', D + 3)).toBe('10');
    expect(await attempt('y', D + 3)).toBe('00');
    // ... whose day's HyperLogLog says whether it was called that day
    await redis.hset(keys.numFamiliar(n), 'z', '1');
    await redis.pfadd(keys.numDistinct(n, D + 3), 'z');
    expect(await attempt('z', D + 3)).toBe('00');
    // the day, then the call's tag (2^33 and 2^32 apart: not the first call ever to z)
    expect(await redis.hget(keys.numFamiliar(n), 'z')).toBe(String(2 * (D + 3) * 2 ** 33 + (tags - 1)));
    await redis.del(keys.numDistinct(n, D + 3));
    // a long talk marks the pair; the TTL is set when a field is added and on the day's first attempt
    await scripts.run([
      { script: 'caller-notes', keys: [keys.groupStem(keys.keyGroup(n))], args: [7200, 't', n, 'x', 0, 0] },
    ]);
    expect(await redis.hget(keys.numFamiliar(n), 'tx')).toBe('1');
    expect(await redis.ttl(keys.numFamiliar(n))).toBeGreaterThan(7000);
    // no other key for the number: no HyperLogLog per day made
    expect(await redis.keys(`${keys.prefix}:*`)).toEqual([keys.numFamiliar(n)]);
  });

  it('answers a replayed attempt as the first time: the call that made the day, asked again', async () => {
    const keys = new RedisKeys(uniqueId('nr'));
    prefixes.push(keys.prefix);
    const n = token();
    const scripts = new DetectorScripts(redis);
    await scripts.load();
    const D = 20400;
    const attempt = async (callee: string, day: number, tag: number): Promise<unknown> =>
      (
        await scripts.run([
          {
            script: 'caller-notes',
            keys: [keys.groupStem(keys.keyGroup(n))],
            args: [7200, 'a', n, callee, day, tag],
          },
        ])
      )[0];
    // the first call ever to x, then the same call applied again (windows written before it)
    expect(await attempt('x', D, 7)).toBe('11');
    const stored = await redis.hget(keys.numFamiliar(n), 'x');
    expect(await attempt('x', D, 7)).toBe('11');
    expect(await redis.hget(keys.numFamiliar(n), 'x')).toBe(stored);
    // another call the same day: neither new for the day nor new ever
    expect(await attempt('x', D, 8)).toBe('00');
    // the next day's first call, replayed: new for its day, not new ever, both times
    expect(await attempt('x', D + 1, 9)).toBe('10');
    expect(await attempt('x', D + 1, 9)).toBe('10');
    // the tag of an earlier day does not answer for a later one
    expect(await attempt('x', D + 2, 7)).toBe('10');
    expect(await attempt('x', D + 2, 7)).toBe('10');
    expect(await attempt('x', D + 2, 8)).toBe('00');
    // a value written before tags (2 * day alone) is read as before, and tagged from then on
    await redis.hset(keys.numFamiliar(n), 'y', String(2 * D));
    expect(await attempt('y', D, 3)).toBe('00');
    expect(await attempt('y', D + 1, 3)).toBe('10');
    expect(await attempt('y', D + 1, 3)).toBe('10');
    expect(await redis.hget(keys.numFamiliar(n), 'y')).toBe(String((2 * (D + 1) + 1) * 2 ** 33 + 3));
  });

  it('reads a key group with one MGET and two EXISTS, asking each number only for what is there', async () => {
    // one key group, so every number below is in the same call
    const keys = new RedisKeys(uniqueId('rd'), 1);
    prefixes.push(keys.prefix);
    const [none, full, legacy, held, stale] = [token(), token(), token(), token(), token()];
    const state = (rev: number, fill: number): Buffer => {
      const b = Buffer.alloc(40, fill);
      b[0] = 2;
      b.writeUInt32LE(rev, 1);
      return b;
    };
    await redis.set(keys.numState(full), state(3, 7));
    await redis.hset(keys.numWindows(full), 'J100', '2', 'rv', '5');
    await redis.hset(keys.numLists(full), '*', 'black|0|fraud desk', 'carrier-b', 'white|0|own line');
    // a windows hash of the script windows: fields but no received-calls revision
    await redis.hset(keys.numWindows(legacy), 'b100', '1');
    await redis.set(keys.numState(held), state(9, 1));
    await redis.hset(keys.numWindows(held), 'rv', '2');
    await redis.set(keys.numState(stale), state(4, 2));
    await redis.hset(keys.numLists(stale), 'carrier-a', 'gray|0|');
    const scripts = new DetectorScripts(redis);
    await scripts.load();
    // quadruples: number, carrier, string wanted (-2 / held revision / -1 not), received revision held
    const items: [string, string, number, number][] = [
      [none, 'carrier-a', -2, -1],
      [full, 'carrier-a', -2, -1],
      [legacy, 'carrier-a', -1, -1],
      [held, 'carrier-a', 9, 2],
      [stale, 'carrier-a', 3, 0],
      [full, 'carrier-b', -2, -1],
      [none, 'carrier-b', -1, 0],
    ];
    const [reply] = await scripts.run([
      {
        script: 'caller-state-read',
        keys: [keys.groupStem(0)],
        args: [items.length, ...items.flat()],
      },
    ]);
    const parts = parseRead(reply as Buffer, items.length);
    const text = (fields: [string, Buffer][]) => fields.map(([f, v]) => [f, v.toString()]);
    expect(
      parts.map((p) => [p.blob && p.blob.readUInt32LE(1), p.same, p.lists, p.rv, text(p.fields)]),
    ).toEqual([
      [null, false, ['', ''], 0, []],
      [
        3,
        false,
        ['black|0|fraud desk', ''],
        5,
        [
          ['J100', '2'],
          ['rv', '5'],
        ],
      ],
      [null, false, ['', ''], 0, [['b100', '1']]],
      [null, true, ['', ''], 2, []],
      [4, false, ['', 'gray|0|'], 0, []],
      [
        3,
        false,
        ['black|0|fraud desk', 'white|0|own line'],
        5,
        [
          ['J100', '2'],
          ['rv', '5'],
        ],
      ],
      [null, false, ['', ''], 0, []],
    ]);
    expect(parts[1].blob).toEqual(state(3, 7));
  });

  it('loads the grouped variant when Redis does not have it', async () => {
    const keys = new RedisKeys(uniqueId('gr'));
    prefixes.push(keys.prefix);
    // a variant of the notes script no Redis has seen (no SCRIPT FLUSH: other suites share the server)
    const scripts = new DetectorScripts(redis);
    const base = scripts.get('caller-notes');
    const source = `${base.source}\n-- ${uniqueId()}\n`;
    const groups = groupsSource(base.file, source);
    const sha = (s: string) => createHash('sha1').update(s).digest('hex');
    scripts.scripts.set('caller-notes', {
      ...base,
      source,
      sha: sha(source),
      groups: { source: groups, sha: sha(groups), header: base.groups!.header },
    });
    const [a, b] = [token(), token()];
    const notes = (n: string): ScriptCall => ({
      script: 'caller-notes',
      keys: [keys.groupStem(keys.keyGroup(n))],
      args: [7200, 'A', n, 'fp-1', 20000, 1],
    });
    expect(await scripts.run([notes(a), notes(b)])).toEqual(['11', '11']);
    expect(await redis.script('EXISTS', sha(groups))).toEqual([1]);
  });
});
