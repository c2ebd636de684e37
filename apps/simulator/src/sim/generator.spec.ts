import { createHash } from 'node:crypto';
import { ingestV1 } from '@eagle-eye/contracts';
import { classifyPseudonym } from '@eagle-eye/pseudonym';
import { Generator, SimEvent } from './generator';
import { GroundTruthRecord, HookedRecord, ScamCallRecord } from './ground-truth';
import { CARRIERS, LOCAL_UTC_OFFSET_MS } from './model';
import { ScenarioConfig, SCENARIOS } from './scenarios';

const T0 = Date.UTC(2026, 0, 5, 2, 0, 0); // 10:00 in Chengdu

function run(seed: number, minutes = 20, scenario = SCENARIOS.default, subscribers = 20_000) {
  const records: GroundTruthRecord[] = [];
  const events: SimEvent[] = [];
  const gen = new Generator(
    { seed, runId: 't1', subscribers, scenario, startMs: T0, durationMs: minutes * 60_000 },
    (r) => records.push(r),
  );
  // the way the streamer drives it: peek, then take
  while (gen.peekTime() !== Infinity) events.push(gen.next()!);
  return { gen, records, events };
}

function digest(events: SimEvent[]): string {
  const h = createHash('sha256');
  for (const e of events) h.update(e.carrierId + JSON.stringify(ingestV1.CallEvent.toJSON(e.event)));
  return h.digest('hex');
}

describe('Generator', () => {
  const a = run(7);

  it('is deterministic for a seed and differs across seeds', () => {
    const b = run(7);
    expect(b.events.length).toBe(a.events.length);
    expect(digest(b.events)).toBe(digest(a.events));
    expect(JSON.stringify(b.records)).toBe(JSON.stringify(a.records));
    expect(digest(run(8).events)).not.toBe(digest(a.events));
  });

  it('keeps the scams of a seed across run ids when given a fixed scam key (the evaluation)', () => {
    const scams = (runId: string, scamKey?: string) => {
      const records: GroundTruthRecord[] = [];
      const gen = new Generator(
        {
          seed: 7,
          runId,
          subscribers: 20_000,
          scenario: SCENARIOS.default,
          startMs: T0,
          durationMs: 10 * 60_000,
          scamKey,
        },
        (r) => records.push(r),
      );
      while (gen.next()) {
        /* drain */
      }
      // what happened, not the ids and tokens (those are per run)
      return JSON.stringify(
        records
          .filter((r): r is ScamCallRecord => r.type === 'scam_call')
          .map((r) => [
            r.scenario,
            r.group,
            r.carrierId,
            r.victim,
            r.attemptMs,
            r.answeredMs,
            r.endedMs,
            r.hooked,
          ]),
      );
    };
    expect(scams('k1', 'seed-7')).toBe(scams('k2', 'seed-7'));
    expect(scams('k1')).not.toBe(scams('k2'));
  });

  it('gives the same events for the same options whatever the wall clock and Math.random say', () => {
    // a history import and forced hooks included (the demo), so every code path is covered
    const opts = {
      seed: 21,
      runId: 'det1',
      subscribers: 20_000,
      scenario: SCENARIOS.demo,
      startMs: T0 - 30 * 60_000,
      durationMs: 40 * 60_000,
      liveFromMs: T0,
    };
    const once = (): { digest: string; records: string } => {
      const records: GroundTruthRecord[] = [];
      const gen = new Generator(opts, (r) => records.push(r));
      const events: SimEvent[] = [];
      // held at the live start, then released, as the demo streams it
      gen.holdFromMs = T0;
      for (let e = gen.next(); e; e = gen.next()) events.push(e);
      gen.holdFromMs = Infinity;
      for (let e = gen.next(); e; e = gen.next()) events.push(e);
      return { digest: digest(events), records: JSON.stringify(records) };
    };
    const first = once();
    const random = jest.spyOn(Math, 'random').mockImplementation(() => 0.999);
    const now = jest.spyOn(Date, 'now').mockImplementation(() => 1);
    try {
      const second = once();
      expect(second.digest).toBe(first.digest);
      expect(second.records).toBe(first.records);
      expect(random).not.toHaveBeenCalled();
      expect(now).not.toHaveBeenCalled();
    } finally {
      random.mockRestore();
      now.mockRestore();
    }
    // holding the stream changes nothing: the same events as one straight run
    const records: GroundTruthRecord[] = [];
    const straight = new Generator(opts, (r) => records.push(r));
    const events: SimEvent[] = [];
    for (let e = straight.next(); e; e = straight.next()) events.push(e);
    expect(digest(events)).toBe(first.digest);
  });

  it('emits events in event-time order with unique ids and only pseudonym tokens', () => {
    const ids = new Set<string>();
    let last = 0;
    for (const { event: e } of a.events) {
      expect(e.eventTimeMs).toBeGreaterThanOrEqual(last);
      last = e.eventTimeMs;
      expect(ids.has(e.eventId)).toBe(false);
      ids.add(e.eventId);
      expect(e.eventId).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
      expect(classifyPseudonym(e.caller)).toBe('ok');
      expect(classifyPseudonym(e.callee)).toBe('ok');
      if (e.callerDevice) expect(classifyPseudonym(e.callerDevice)).toBe('ok');
      expect(e.caller).not.toBe(e.callee);
    }
    // a city of normal callers, bulk callers and scams: every kind is present
    const kinds = new Set(
      a.records.filter((r): r is ScamCallRecord => r.type === 'scam_call').map((r) => r.scenario),
    );
    expect([...kinds].sort()).toEqual(['callback', 'fanout', 'overseas', 'romance', 'simfarm']);
    expect(a.records.some((r) => r.type === 'trap')).toBe(true);
  });

  it('writes ground truth that matches the emitted events', () => {
    const byCall = new Map<string, ingestV1.CallEvent[]>();
    for (const { carrierId, event } of a.events) {
      const k = `${carrierId}/${event.callId}`;
      byCall.set(k, [...(byCall.get(k) ?? []), event]);
    }
    const scamCalls = a.records.filter((r): r is ScamCallRecord => r.type === 'scam_call');
    expect(scamCalls.length).toBeGreaterThan(50);
    for (const c of scamCalls) {
      const evs = byCall.get(`${c.carrierId}/${c.callId}`);
      expect(evs).toBeDefined();
      const attempt = evs!.find((e) => e.type === ingestV1.CallEventType.CALL_ATTEMPT)!;
      const answered = evs!.find((e) => e.type === ingestV1.CallEventType.CALL_ANSWERED);
      const ended = evs!.find((e) => e.type === ingestV1.CallEventType.CALL_ENDED)!;
      expect(attempt.caller).toBe(c.caller);
      expect(attempt.callee).toBe(c.callee);
      expect(attempt.eventTimeMs).toBe(c.attemptMs);
      expect(answered?.eventTimeMs ?? null).toBe(c.answeredMs);
      expect(ended.eventTimeMs).toBe(c.endedMs);
      expect(ended.talkDurationS).toBe(c.talkS);
      expect([c.caller, c.callee]).toContain(c.victim);
      expect([c.caller, c.callee]).toContain(c.suspect);
    }
    const scammers = new Set(
      a.records
        .filter((r) => r.type === 'scammer')
        .map((r) => (r.type === 'scammer' ? `${r.carrierId}/${r.token}` : '')),
    );
    for (const c of scamCalls) expect(scammers.has(`${c.carrierId}/${c.suspect}`)).toBe(true);

    const hooked = a.records.filter((r): r is HookedRecord => r.type === 'hooked');
    expect(hooked.length).toBeGreaterThan(3);
    const scamById = new Map(scamCalls.map((c) => [`${c.carrierId}/${c.callId}`, c]));
    for (const h of hooked) {
      expect(h.answeredMs).toBe(h.calls[0].answeredMs);
      for (const call of h.calls) {
        const c = scamById.get(`${h.carrierId}/${call.callId}`)!;
        expect(c.hooked).toBe(true);
        expect(c.victim).toBe(h.victim);
        expect(c.answeredMs).toBe(call.answeredMs);
        // hooked victims stay on the line for minutes
        expect(c.talkS).toBeGreaterThanOrEqual(120);
        expect(c.endedMs).toBe(call.endedMs);
      }
    }
    const summary = a.records.find((r) => r.type === 'summary');
    expect(summary).toMatchObject({
      events: a.events.length,
      scamCalls: scamCalls.length,
      hookedEpisodes: hooked.length,
    });
  });

  it('hands a hooked fan-out victim over between numbers of one ring', () => {
    const { records } = run(3, 60, SCENARIOS.fanout);
    const multi = records.filter((r): r is HookedRecord => r.type === 'hooked' && r.calls.length > 1);
    expect(multi.length).toBeGreaterThan(0);
    for (const h of multi) expect(new Set(h.calls.map((c) => c.suspect)).size).toBeGreaterThan(1);
  });

  it('marks overseas calls as entering from abroad, unverified, mostly with a spoofed domestic display', () => {
    const { events, records } = run(5, 20, SCENARIOS.overseas);
    // the scammers' own calls (not the call-backs of curious callees)
    const calls = new Set(
      records
        .filter((r): r is ScamCallRecord => r.type === 'scam_call' && r.caller === r.suspect)
        .map((r) => r.callId),
    );
    const attempts = events.filter(
      (e) => calls.has(e.event.callId) && e.event.type === ingestV1.CallEventType.CALL_ATTEMPT,
    );
    expect(attempts.length).toBeGreaterThan(20);
    for (const { event: e } of attempts) {
      // a spoofed call shows a domestic mobile display; an honest one an international number
      expect(e.callerClass).toBe(
        e.callerDisplayMismatch ? ingestV1.CallerClass.MOBILE : ingestV1.CallerClass.INTERNATIONAL,
      );
      expect(e.callerCountry).not.toBe('CN');
      expect([
        ingestV1.CallerIdVerification.ATTESTATION_C,
        ingestV1.CallerIdVerification.UNVERIFIED,
      ]).toContain(e.callerIdVerified);
    }
    const mismatched = attempts.filter((a) => a.event.callerDisplayMismatch).length / attempts.length;
    expect(mismatched).toBeGreaterThan(0.5);
  });

  it('runs a SIM farm: one handset seen with many SIMs', () => {
    const { events, records } = run(9, 30, SCENARIOS.simfarm);
    const calls = new Set(
      records
        .filter((r): r is ScamCallRecord => r.type === 'scam_call' && r.caller === r.suspect)
        .map((r) => r.callId),
    );
    const simsPerDevice = new Map<string, Set<string>>();
    for (const { carrierId, event: e } of events)
      if (calls.has(e.callId) && e.callerDevice) {
        const k = `${carrierId}/${e.callerDevice}`;
        simsPerDevice.set(k, (simsPerDevice.get(k) ?? new Set()).add(e.caller));
      }
    expect(Math.max(...[...simsPerDevice.values()].map((s) => s.size))).toBeGreaterThanOrEqual(10);
  });

  it('puts a demo victim on the line within the first minute, in a demo police region', () => {
    const gen = new Generator({
      seed: 2,
      runId: 'demo1',
      subscribers: 200_000,
      scenario: SCENARIOS.demo,
      startMs: T0,
      durationMs: 2 * 60_000,
    });
    const hooked: HookedRecord[] = [];
    const g2 = new Generator(gen.opts, (r) => r.type === 'hooked' && hooked.push(r));
    while (g2.peekTime() !== Infinity) g2.next();
    const first = hooked.filter((h) => h.answeredMs - T0 <= 60_000);
    expect(first.length).toBeGreaterThan(0);
    expect(first.some((h) => h.region === '510100' || h.region === '510700')).toBe(true);
  });

  it('keeps memory bounded: pending events are the calls in progress, not the city', () => {
    const gen = new Generator({
      seed: 1,
      runId: 'big',
      subscribers: 5_000_000,
      scenario: SCENARIOS.default,
      startMs: T0,
      durationMs: 2 * 60_000,
    });
    let n = 0;
    for (let e = gen.next(); e; e = gen.next()) n++;
    expect(n).toBeGreaterThan(1000);
    expect(gen.stats.legitCalls).toBeGreaterThan(500);
  });

  it('marks the measured window after a warm-up and counts its legitimate calls apart', () => {
    const records: GroundTruthRecord[] = [];
    const gen = new Generator(
      {
        seed: 7,
        runId: 't1',
        subscribers: 20_000,
        scenario: SCENARIOS.default,
        startMs: T0,
        durationMs: 20 * 60_000,
        measureFromMs: T0 + 10 * 60_000,
      },
      (r) => records.push(r),
    );
    while (gen.next()) {
      /* drain */
    }
    const runRec = records.find((r) => r.type === 'run');
    expect(runRec).toMatchObject({ measureFromMs: T0 + 10 * 60_000 });
    const sum = records.find((r) => r.type === 'summary')!;
    if (sum.type !== 'summary') throw new Error('no summary');
    expect(sum.legitCallsMeasured).toBeGreaterThan(0.3 * sum.legitCalls);
    expect(sum.legitCallsMeasured).toBeLessThan(0.7 * sum.legitCalls);
    // without a warm-up every call is measured and the run record has no window
    expect(records.length).toBeGreaterThan(0);
    const plain = run(7, 5);
    expect(plain.records[0]).not.toHaveProperty('measureFromMs');
    const plainSum = plain.records.find((r) => r.type === 'summary');
    expect(plainSum).toMatchObject({ legitCallsMeasured: (plainSum as { legitCalls: number }).legitCalls });
  });
  it('imports history before the live part: nobody hooked in it, scripted victims flagged and called by numbers with a visible fan-out', () => {
    const live = T0 + 2 * 3_600_000;
    const records: GroundTruthRecord[] = [];
    const gen = new Generator(
      {
        seed: 4,
        runId: 'hist1',
        subscribers: 50_000,
        scenario: SCENARIOS.demo,
        startMs: live - 2 * 3_600_000,
        durationMs: 2 * 3_600_000 + 6 * 60_000,
        liveFromMs: live,
        measureFromMs: live,
      },
      (r) => records.push(r),
    );
    const calls = new Map<string, number>(); // carrier/caller -> outgoing attempts so far
    const seenAtAnswer: number[] = [];
    const hookedByCall = new Map<string, HookedRecord>();
    let scamInHistory = 0;
    for (let e = gen.next(); e; e = gen.next()) {
      for (const r of records.splice(0)) {
        if (r.type === 'hooked') hookedByCall.set(r.calls[0].callId, r);
        if (r.type === 'scam_call' && r.attemptMs < live) scamInHistory++;
      }
      const k = `${e.carrierId}/${e.event.caller}`;
      if (e.event.type === ingestV1.CallEventType.CALL_ATTEMPT) calls.set(k, (calls.get(k) ?? 0) + 1);
      const h = hookedByCall.get(e.event.callId);
      if (h?.forced && e.event.type === ingestV1.CallEventType.CALL_ANSWERED)
        seenAtAnswer.push(calls.get(k)!);
    }
    const hooked = [...hookedByCall.values()];
    expect(hooked.every((h) => h.answeredMs >= live)).toBe(true);
    const forced = hooked.filter((h) => h.forced);
    // 20 s, then every 45 s, in six minutes: 8 scripted victims, the first within the first minute
    expect(forced.length).toBe(8);
    expect(Math.min(...forced.map((h) => h.answeredMs)) - live).toBeLessThan(60_000);
    expect(forced.every((h) => h.region === '510100' || h.region === '510700')).toBe(true);
    // each was called by a number its carrier had already seen call a handful of strangers
    expect(seenAtAnswer.length).toBe(8);
    for (const n of seenAtAnswer) expect(n).toBeGreaterThanOrEqual(5);
    // deferred, the scripted victims wait for the demo to arm them
    const deferred = new Generator(
      { ...gen.opts, deferForcedHooks: true, durationMs: 2 * 3_600_000 + 3 * 60_000 },
      (r) => records.push(r),
    );
    deferred.holdFromMs = live;
    while (deferred.next()) {
      /* the history */
    }
    deferred.holdFromMs = Infinity;
    expect(deferred.armForcedHooks(live + 60_000)).toBe(live + 80_000);
    const deferredHooks: HookedRecord[] = [];
    records.length = 0;
    while (deferred.next())
      for (const r of records.splice(0)) if (r.type === 'hooked' && r.forced) deferredHooks.push(r);
    expect(deferredHooks.length).toBe(3); // at 80, 125 and 170 s
    expect(Math.min(...deferredHooks.map((h) => h.answeredMs))).toBeGreaterThanOrEqual(live + 80_000);
    // the scam numbers' own calls fill the history window (the fan-out the detector learns from)
    expect(scamInHistory).toBeGreaterThan(500);
  });

  /**
   * Fan-out numbers of the `default` scenario against the Sichuan data (../shared/data/README.md):
   * fraud numbers make a median 36 calls per active day to 22 distinct callees, 1.24 calls per
   * counterpart, answered calls only (the attempts behind them are no flood); an hourly threshold
   * of 15 distinct callees sees only about a quarter of them. One simulated active day per number
   * (call-centre hours), every ring number's calls merged across the carriers that carried them.
   */
  it('calibrates the default fan-out numbers against the labelled data; the stress scenarios keep the old floods', () => {
    const perNumber = (scenario: ScenarioConfig, rings: number, hours: number) => {
      const sc: ScenarioConfig = {
        ...scenario,
        overseasGroups: 0,
        simFarms: 0,
        wangiriNumbers: 0,
        romanceScammers: 0,
        fanoutRings: rings,
        normalTraffic: false,
        traps: false,
        workingHoursOnly: true,
        numberLifetimeAttempts: 1e9, // one whole active day per number
      };
      // 09:00 to 20:00 local, one call-centre day
      const start = Date.UTC(2026, 0, 5, 9) - LOCAL_UTC_OFFSET_MS;
      const gen = new Generator({
        seed: 5,
        runId: 'calib',
        subscribers: 100_000,
        scenario: sc,
        startMs: start,
        durationMs: hours * 3_600_000,
      });
      const numberOf = new Map<string, number>();
      for (let g = 0; g < rings; g++)
        for (let n = 0; n < 10; n++)
          for (const c of CARRIERS)
            numberOf.set(gen.city.token(c.id, gen.scamBase + g * 1000 + n), gen.scamBase + g * 1000 + n);
      const st = new Map<
        number,
        {
          attempts: number;
          answered: number;
          callees: Set<string>;
          answeredCallees: Set<string>;
          hours: Map<number, Set<string>>;
        }
      >();
      for (let e = gen.next(); e; e = gen.next()) {
        const n = numberOf.get(e.event.caller);
        if (n === undefined) continue;
        let s = st.get(n);
        if (!s)
          st.set(
            n,
            (s = {
              attempts: 0,
              answered: 0,
              callees: new Set(),
              answeredCallees: new Set(),
              hours: new Map(),
            }),
          );
        const callee = `${n}/${e.event.callee}`;
        if (e.event.type === ingestV1.CallEventType.CALL_ATTEMPT) {
          s.attempts++;
          s.callees.add(callee);
          const h = Math.floor(e.event.eventTimeMs / 3_600_000);
          s.hours.set(h, (s.hours.get(h) ?? new Set()).add(callee));
        }
        if (e.event.type === ingestV1.CallEventType.CALL_ENDED && e.event.talkDurationS > 0) {
          s.answered++;
          s.answeredCallees.add(callee);
        }
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
      const xs = [...st.values()];
      return {
        numbers: xs.length,
        answeredPerDay: med(xs.map((x) => x.answered)),
        distinctAnsweredPerDay: med(xs.map((x) => x.answeredCallees.size)),
        attemptsPerDay: med(xs.map((x) => x.attempts)),
        attemptsPerHour: med(xs.map((x) => x.attempts / hours)),
        answeredShare: med(xs.map((x) => x.answered / x.attempts)),
        callsPerCounterpart: med(xs.map((x) => x.answered / Math.max(1, x.answeredCallees.size))),
        distinctPerHour: med(xs.flatMap((x) => [...x.hours.values()].map((h) => h.size))),
        // share of numbers that ever reach 15 distinct callees in an hour (the fanout rule's bar)
        reach15PerHour: xs.filter((x) => [...x.hours.values()].some((h) => h.size >= 15)).length / xs.length,
      };
    };
    const d = perNumber(SCENARIOS.default, 24, 11);
    if (process.env.SIM_CALIBRATION_PRINT) console.log(d, perNumber(SCENARIOS.stress, 8, 2));
    expect(d.numbers).toBeGreaterThan(100);
    // data: a median 36 calls per active day (answered) to 22 distinct callees
    expect(d.answeredPerDay).toBeGreaterThanOrEqual(25);
    expect(d.answeredPerDay).toBeLessThanOrEqual(45);
    expect(d.distinctAnsweredPerDay).toBeGreaterThanOrEqual(18);
    expect(d.distinctAnsweredPerDay).toBeLessThanOrEqual(35);
    // data: 1.24 calls per counterpart
    expect(d.callsPerCounterpart).toBeGreaterThanOrEqual(1.1);
    expect(d.callsPerCounterpart).toBeLessThanOrEqual(1.4);
    // answered calls only in the data: attempts are no flood, most of them answered
    expect(d.answeredShare).toBeGreaterThanOrEqual(0.6);
    expect(d.attemptsPerDay).toBeLessThanOrEqual(70);
    expect(d.distinctPerHour).toBeLessThanOrEqual(8);
    // data: an hourly bar of 15 distinct callees sees only about a quarter of fraud numbers
    expect(d.reach15PerHour).toBeLessThan(0.4);
    // the stress scenario is the project's earlier default: floods of mostly unanswered attempts
    const s = perNumber(SCENARIOS.stress, 8, 2);
    expect(s.attemptsPerHour).toBeGreaterThan(4 * d.attemptsPerHour);
    expect(s.answeredShare).toBeLessThan(0.5);
    expect(s.distinctPerHour).toBeGreaterThanOrEqual(15);
  });
});
