import { AlertJobName, HandoffEvent, SuspectNumberJob, VictimOnCallJob } from '@eagle-eye/contracts';
import { callbackProbes } from '../metrics';
import { AlertJob } from './alert.publisher';
import { call, ev, fanout, Harness, snapshot, startHarness, T0, token } from '../test/harness';

const victimJobs = (jobs: AlertJob[]) =>
  jobs.filter((j) => j.name === AlertJobName.VictimOnCall).map((j) => j.data as VictimOnCallJob);

// every scenario with the caller windows in caller-batch-1.lua and in the detector (DETECTOR_CALLER_WINDOWS)
describe.each(['script', 'node'] as const)(
  'detection on real Redis and PostgreSQL (%s caller windows)',
  (windows) => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness({ callerWindows: windows });
    });
    afterEach(async () => {
      await h.close();
    });

    /** due checks still scheduled, over the harness's 4 due shards */
    async function dueLeft(): Promise<number> {
      let n = 0;
      for (let shard = 0; shard < 4; shard++) n += await h.redis.zcard(h.keys.detectorDue(shard));
      return n;
    }

    /** The police-impersonation scenario: a fan-out number reaches an elderly victim who answers. */
    function policeCall(scammer: string, victim: string, extra = {}) {
      const id = 'police-1';
      return {
        id,
        before: fanout(scammer, T0, 30, extra),
        attempt: ev('ATTEMPT', id, scammer, victim, T0, { age: '65_PLUS', ...extra }),
        answered: ev('ANSWERED', id, scammer, victim, T0 + 8000, { age: '65_PLUS', ...extra }),
        ended: (talk: number) =>
          ev('ENDED', id, scammer, victim, T0 + 8000 + talk * 1000, { age: '65_PLUS', talk, ...extra }),
      };
    }

    it('alerts a police-impersonation call from a fan-out number while it runs, and upgrades it', async () => {
      const scammer = token();
      const victim = token();
      const s = policeCall(scammer, victim);
      await h.detection.process([h.entry([...s.before, s.attempt, s.answered])]);

      const atAnswer = victimJobs(h.sink.jobs);
      expect(atAnswer).toHaveLength(1);
      expect(atAnswer[0]).toMatchObject({
        kind: 'victim_on_call',
        severity: 'warning',
        victim,
        suspect: scammer,
        callId: s.id,
        stepS: 0,
        callAnsweredAt: T0 + 8000,
        region: '510100',
      });
      expect(atAnswer[0].reasons.map((r) => r.rule)).toEqual(
        expect.arrayContaining(['fanout', 'call_centre', 'vulnerable_age']),
      );
      // 31 distinct callees, counted by HyperLogLog: a new callee whose hash collides with an earlier
      // one leaves the sketch unchanged, so the count may fall a little short (tokens are random per run).
      const fanoutText = atAnswer[0].reasons.find((r) => r.rule === 'fanout')?.text ?? '';
      const counted = Number(/^called (\d+) different people in the last hour$/.exec(fanoutText)?.[1]);
      expect(counted).toBeGreaterThanOrEqual(29);
      expect(counted).toBeLessThanOrEqual(31);
      expect(atAnswer[0].ingestedAtMs).toBeGreaterThan(0);
      // the caller itself crossed the suspect-number threshold
      const suspect = h.sink.jobs
        .filter((j) => j.name === AlertJobName.SuspectNumber)
        .map((j) => j.data as SuspectNumberJob);
      expect(suspect).toEqual([
        expect.objectContaining({ suspect: scammer, severity: 'warning', carrierId: h.carrier }),
      ]);

      // no next event arrives: the sweep fires the duration steps on (event) time
      h.sink.jobs = [];
      expect(await h.detection.sweep(T0 + 8000 + 59_000)).toBe(0);
      expect(await h.detection.sweep(T0 + 8000 + 60_500)).toBe(1); // 60 s: still warning, nothing new
      expect(victimJobs(h.sink.jobs)).toHaveLength(0);
      await h.detection.sweep(T0 + 8000 + 180_200);
      const upgraded = victimJobs(h.sink.jobs);
      expect(upgraded).toEqual([expect.objectContaining({ severity: 'critical', stepS: 180, callId: s.id })]);
      expect(upgraded[0].reasons.find((r) => r.rule === 'long_call')?.text).toBe(
        'on the phone with a suspect stranger for over 3 minutes',
      );
      // a second sweep at the same time claims nothing more
      h.sink.jobs = [];
      await h.detection.sweep(T0 + 8000 + 180_300);
      expect(h.sink.jobs).toHaveLength(0);

      // the call ends: CallEnded with the talk time
      await h.detection.process([h.entry([s.ended(900)])]);
      expect(h.sink.jobs).toEqual([
        {
          name: AlertJobName.CallEnded,
          data: expect.objectContaining({ callId: s.id, talkTimeS: 900, callEndedAt: T0 + 908_000 }),
        },
      ]);
      expect(await dueLeft()).toBe(0);
    });

    it('keeps re-checking a long call after the last step: a caller whose pattern shows only later still reaches the victim on the line', async () => {
      const scammer = token();
      const victim = token();
      const id = 'long-1';
      const answered = T0 + 8000;
      // a new virtual-operator number: watched while its calls run, not (yet) a suspect
      const kind = { cls: 'VIRTUAL_OPERATOR' } as const;
      await h.detection.process([
        h.entry([
          ev('ATTEMPT', id, scammer, victim, T0, { age: '65_PLUS', ...kind }),
          ev('ANSWERED', id, scammer, victim, answered, { age: '65_PLUS', ...kind }),
        ]),
      ]);
      // nothing at answer nor at any duration step
      for (const s of [60, 180, 600]) await h.detection.sweep(answered + s * 1000 + 500);
      expect(victimJobs(h.sink.jobs)).toHaveLength(0);
      // while the victim is still on the line, the same number starts ringing strangers
      const ring: HandoffEvent[] = [];
      for (let i = 0; i < 30; i++)
        ring.push(...call(scammer, token(), answered + 610_000 + i * 15_000, 0, kind));
      await h.detection.process([h.entry(ring)]);
      expect(victimJobs(h.sink.jobs)).toHaveLength(0);
      // the re-check due at 900 s (every recheckS = 300 s after the last step) finds it
      await h.detection.sweep(answered + 1_200_500);
      expect(victimJobs(h.sink.jobs)).toEqual([
        expect.objectContaining({ kind: 'victim_on_call', victim, suspect: scammer, callId: id, stepS: 600 }),
      ]);
      // the call ends: nothing due is left behind
      await h.detection.process([
        h.entry([ev('ENDED', id, scammer, victim, answered + 1_500_000, { talk: 1500 })]),
      ]);
      expect(await dueLeft()).toBe(0);
    });

    it('raises the alert of an answer redelivered after a replica died between its stages, its call over since', async () => {
      const scammer = token();
      const victim = token();
      const s = policeCall(scammer, victim);
      const answerRound = h.entry([...s.before, s.attempt, s.answered]);
      // a short call: on its own its end raises no post-call alert (under postCallMinTalkS)
      const endRound = h.entry([s.ended(10)]);
      // the answer's round passes its first stage and the next round's first stage applies the end
      // (the stages overlap); the replica dies before either second stage: nothing raised or acked
      await h.detection.applyCallers([answerRound]);
      await h.detection.applyCallers([endRound]);
      expect(victimJobs(h.sink.jobs)).toHaveLength(0);
      // another replica (or the restarted one) reads both rounds again
      await h.detection.process([answerRound, endRound]);
      expect(victimJobs(h.sink.jobs)).toEqual([
        expect.objectContaining({
          kind: 'post_call',
          callId: s.id,
          victim,
          severity: 'warning',
          callAnsweredAt: T0 + 8000,
          callEndedAt: T0 + 18_000,
          talkTimeS: 10,
        }),
      ]);
      // a further redelivery raises nothing new: the same job again, under the same id (ignored
      // by the queue while it remembers the id, a day)
      const ids = h.sink.ids().filter((id) => id.startsWith('voc|'));
      h.sink.jobs = [];
      await h.detection.process([answerRound, endRound]);
      expect(h.sink.ids().filter((id) => id.startsWith('voc|'))).toEqual(ids);
    });

    it('raises the alert of an answer applied after its call ended (the end read first)', async () => {
      const scammer = token();
      const victim = token();
      const s = policeCall(scammer, victim);
      // the scammer's history, applied long before
      await h.detection.process([h.entry(s.before)]);
      const answerRound = h.entry([s.attempt, s.answered]);
      // a replica died before its caller stage wrote anything; the next owner reads the call's end
      // (a new entry) before it takes the answer's pending entry over (found by the kill-replica
      // chaos scenario: the alert was lost, as the answer then started nothing)
      await h.detection.process([h.entry([s.ended(10)])]);
      expect(victimJobs(h.sink.jobs)).toHaveLength(0);
      // the end of a watched caller's call whose answer was not applied is kept for lateness
      const kept = await h.redis.hkeys(h.keys.numCallee(victim));
      expect(kept.filter((f) => f.startsWith('z'))).toHaveLength(1);
      await h.detection.process([answerRound]);
      expect(victimJobs(h.sink.jobs)).toEqual([
        expect.objectContaining({
          kind: 'post_call',
          callId: s.id,
          victim,
          suspect: scammer,
          callAnsweredAt: T0 + 8000,
          // the call's end from the kept end: the answer plus the talk time
          callEndedAt: T0 + 18_000,
          talkTimeS: 10,
        }),
      ]);
      // nothing is left watching the call, which is over
      expect(await dueLeft()).toBe(0);
      // an ordinary caller's ended call keeps nothing on the called number
      const [friend, neighbour] = [token(), token()];
      await h.detection.process([
        h.entry([
          ev('ATTEMPT', 'chat-1', friend, neighbour, T0),
          ev('ANSWERED', 'chat-1', friend, neighbour, T0 + 5000),
          ev('ENDED', 'chat-1', friend, neighbour, T0 + 125_000, { talk: 120 }),
        ]),
      ]);
      expect(await h.redis.exists(h.keys.numCallee(neighbour))).toBe(0);
    });

    it('raises the alert a replica claimed and died before adding, when its answer comes back after the call ended', async () => {
      const scammer = token();
      const victim = token();
      const s = policeCall(scammer, victim);
      const answerRound = h.entry([...s.before, s.attempt, s.answered]);
      const endRound = h.entry([s.ended(10)]);
      // the replica claims the alert at the answer, then dies before the job reaches the queue
      const publish = h.sink.publish.bind(h.sink);
      h.sink.publish = () => Promise.reject(new Error('killed before the alert job was added'));
      await expect(h.detection.process([answerRound])).rejects.toThrow(/killed/);
      h.sink.publish = publish;
      expect(victimJobs(h.sink.jobs)).toHaveLength(0);
      // the next owner of the partition reads the call's end (a new entry) before it takes the
      // answer's pending entry over (found by the kill-replica chaos scenario: the alert was lost)
      await h.detection.process([endRound]);
      await h.detection.process([answerRound]);
      const raised = victimJobs(h.sink.jobs);
      expect(raised).toEqual([
        expect.objectContaining({
          kind: 'victim_on_call',
          callId: s.id,
          victim,
          suspect: scammer,
          severity: 'warning',
          stepS: 0,
          callAnsweredAt: T0 + 8000,
          callEndedAt: T0 + 18_000,
          talkTimeS: 10,
        }),
      ]);
      // the job the dead replica would have added (same id): had it been added, this one is ignored
      const ids = h.sink.ids().filter((id) => id.startsWith('voc|'));
      expect(ids).toEqual([`voc|${h.carrier}|${s.id}|victim_on_call|warning|0`]);
      // a further redelivery re-adds the same job, nothing new
      h.sink.jobs = [];
      await h.detection.process([answerRound]);
      expect(h.sink.ids().filter((id) => id.startsWith('voc|'))).toEqual(ids);
    });

    it('raises nothing new for an answer resent after its call was alerted and ended', async () => {
      const scammer = token();
      const victim = token();
      const s = policeCall(scammer, victim);
      await h.detection.process([h.entry([...s.before, s.attempt, s.answered])]);
      await h.detection.process([h.entry([s.ended(10)])]);
      expect(victimJobs(h.sink.jobs).map((j) => j.kind)).toEqual(['victim_on_call']);
      const ids = h.sink.ids().filter((id) => id.startsWith('voc|'));
      h.sink.jobs = [];
      await h.detection.process([h.entry([s.answered])]);
      // the same job again (same id: ignored by the queue), no post-call alert
      expect(h.sink.ids().filter((id) => id.startsWith('voc|'))).toEqual(ids);
    });

    it('does not alert the same pattern from a whitelisted courier', async () => {
      const courier = token();
      const victim = token();
      await h.repo.addListEntry({
        list: 'white',
        numberToken: courier,
        scope: '*',
        reason: 'parcel delivery company',
        actor: 'admin',
        actorRole: 'admin',
      });
      const s = policeCall(courier, victim);
      await h.detection.process([h.entry([...s.before, s.attempt, s.answered])]);
      await h.detection.sweep(T0 + 8000 + 700_000);
      await h.detection.process([h.entry([s.ended(800)])]);
      expect(h.sink.jobs).toEqual([]);
    });

    it('does not alert a long call with a number the callee has called before', async () => {
      const scammerLike = token();
      const person = token();
      // yesterday the person called this number
      await h.detection.process([h.entry(call(person, scammerLike, T0 - 20 * 3600_000, 120))]);
      const s = policeCall(scammerLike, person);
      await h.detection.process([h.entry([...s.before, s.attempt, s.answered])]);
      await h.detection.sweep(T0 + 8000 + 700_000);
      await h.detection.process([h.entry([s.ended(1500)])]);
      expect(victimJobs(h.sink.jobs)).toEqual([]);
    });

    it('catches a ring relay: two suspect numbers reaching one victim within the hour', async () => {
      const victim = token();
      const [s1, s2] = [token(), token()];
      // each dials 22 strangers over the past 110 minutes: suspect (fan-out over the day, new
      // number) but neither a burst in the last hour nor a call centre
      const spread = (s: string) =>
        Array.from({ length: 22 }, (_, i) => call(s, token(), T0 - (22 - i) * 5 * 60_000, 0)).flat();
      await h.detection.process([h.entry([...spread(s1), ...spread(s2)])]);
      await h.detection.process([h.entry(call(s1, victim, T0 + 60_000, 40))]);
      expect(victimJobs(h.sink.jobs)).toEqual([]); // one suspect number alone: not enough
      await h.detection.process([h.entry(call(s2, victim, T0 + 10 * 60_000, 400).slice(0, 2))]);
      const jobs = victimJobs(h.sink.jobs);
      expect(jobs).toEqual([expect.objectContaining({ suspect: s2, victim, severity: 'warning' })]);
      expect(jobs[0].reasons.find((r) => r.rule === 'ring_relay')?.text).toBe(
        '2 different suspect numbers reached this person within the hour',
      );
    });

    it('raises a post-call alert for a high-score call that ended before it was alerted', async () => {
      const scammer = token();
      const victim = token();
      // below the threshold at answer (victim not in a targeted age band), the call ends within a
      // batch before any sweep: the long talk makes it alert-worthy after the fact
      const events = [...fanout(scammer, T0, 30), ...call(scammer, victim, T0, 400)];
      await h.detection.process([h.entry(events)]);
      const jobs = victimJobs(h.sink.jobs);
      expect(jobs).toEqual([
        expect.objectContaining({ kind: 'post_call', victim, suspect: scammer, talkTimeS: 400, stepS: 180 }),
      ]);
    });

    it('gives the same result for events out of order within lateness, and drops older ones', async () => {
      const scammer = token();
      const victim = token();
      const s = policeCall(scammer, victim);
      const ordered = [...s.before, s.attempt, s.answered];
      // swap neighbours: each event moves by about a minute, well inside the 2-minute lateness
      const shuffled = [...ordered];
      for (let i = 0; i + 3 < shuffled.length; i += 4) {
        [shuffled[i], shuffled[i + 3]] = [shuffled[i + 3], shuffled[i]];
      }
      const other = await startHarness({ callerWindows: windows }, { schema: h.schema });
      try {
        const a = await h.detection.process([h.entry(ordered)]);
        const b = await other.detection.process([other.entry(shuffled)]);
        expect(b).toEqual(a);
        expect(b.late).toBe(0);
        const strip = (jobs: AlertJob[]) =>
          jobs.map((j) => ({
            name: j.name,
            data: { ...j.data, raisedAt: 0, ingestedAtMs: 0, eventTimeMs: 0 },
          }));
        expect(strip(other.sink.jobs).filter((j) => j.name === AlertJobName.VictimOnCall)).toEqual(
          strip(h.sink.jobs).filter((j) => j.name === AlertJobName.VictimOnCall),
        );
        const [wa, wb] = [
          await snapshot(h.redis, h.keys.prefix),
          await snapshot(other.redis, other.keys.prefix),
        ];
        const windows = (snap: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(snap).filter(([k]) => k.endsWith(':w') || k.includes(':x')));
        expect(windows(wb)).toEqual(windows(wa));

        // an event older than the watermark minus lateness is counted and dropped
        const tooOld = call(scammer, token(), T0 - 10 * 60_000, 0);
        const r = await other.detection.process([other.entry(tooOld)]);
        expect(r.late).toBe(2);
        expect(windows(await snapshot(other.redis, other.keys.prefix))).toEqual(windows(wb));
      } finally {
        await other.close();
      }
    });

    it('counts and skips malformed events without failing the batch', async () => {
      const a = token();
      const b = token();
      const bad = [
        { ...ev('ENDED', 'm1', a, b, T0), talk: 'long' },
        { ...ev('ATTEMPT', 'm2', a, b, T0), t: Number.NaN },
        { ...ev('ATTEMPT', 'm3', a, b, T0), type: 'RINGING' },
        { ...ev('ATTEMPT', 'm4', a, b, T0), caller: '' },
      ] as unknown as HandoffEvent[];
      const r = await h.detection.process([h.entry([...bad, ev('ATTEMPT', 'ok', a, b, T0)])]);
      expect(r).toMatchObject({ malformed: 4, applied: 1 });
    });

    it('changes nothing when events are replayed', async () => {
      const scammer = token();
      const victim = token();
      const s = policeCall(scammer, victim);
      const entries = [h.entry([...s.before, s.attempt, s.answered])];
      const first = await h.detection.process(entries);
      await h.detection.sweep(T0 + 8000 + 200_000);
      const before = await snapshot(h.redis, h.keys.prefix);
      const ids = new Set(h.sink.ids());
      const again = await h.detection.process(entries);
      // recent events are recognised as duplicates, the fan-out half an hour back is past lateness
      expect(again.applied).toBe(0);
      expect(again.duplicate).toBeGreaterThan(0);
      expect(again.duplicate + again.late).toBe(first.applied);
      expect(await snapshot(h.redis, h.keys.prefix)).toEqual(before);
      // anything re-published carries an id that was already published (BullMQ ignores it)
      for (const id of h.sink.ids()) expect(ids.has(id)).toBe(true);
    });

    it('never alerts on a report-only rule, but shows it', async () => {
      const fraud = token();
      const victim = token();
      await h.repo.addListEntry({
        list: 'black',
        numberToken: fraud,
        scope: '*',
        reason: 'confirmed by police case 17',
        actor: 'officer',
        actorRole: 'police_officer',
      });
      await h.repo.updateRule({
        ruleId: 'blacklist',
        scope: h.carrier,
        reportOnly: true,
        actor: 'admin',
        actorRole: 'admin',
        reason: 'trial of the new blacklist feed',
      });
      await h.rules.reload();
      await h.detection.process([h.entry(call(fraud, victim, T0, 900))]);
      expect(h.sink.jobs).toEqual([]);

      // the same call on another carrier, where the rule is live, alerts
      const other = token();
      const id = 'b-call';
      const events = [
        ev('ATTEMPT', id, fraud, other, T0 + 3600_000),
        ev('ANSWERED', id, fraud, other, T0 + 3600_000 + 5000),
      ];
      await h.detection.process([{ carrierId: 'carrier-b', events }]);
      const jobs = victimJobs(h.sink.jobs);
      expect(jobs).toEqual([expect.objectContaining({ carrierId: 'carrier-b', severity: 'critical' })]);
      expect(jobs[0].reasons[0]).toEqual({
        rule: 'blacklist',
        points: 100,
        code: 'blacklist',
        params: { note: 'confirmed by police case 17' },
        text: 'number is on the blacklist: confirmed by police case 17',
      });
    });

    it('picks up a rule change in a running detector within a second, without restart', async () => {
      const scammer = token();
      const victim = token();
      await h.repo.updateRule({
        ruleId: 'alert_policy',
        scope: '*',
        params: { victimWarning: 500, victimCritical: 600 },
        actor: 'admin',
        actorRole: 'admin',
        reason: 'quiet period',
      });
      const t0 = Date.now();
      while (victimWarning() !== 500 && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 20));
      expect(victimWarning()).toBe(500);
      const s = policeCall(scammer, victim);
      await h.detection.process([h.entry([...s.before, s.attempt, s.answered])]);
      expect(victimJobs(h.sink.jobs)).toEqual([]);

      await h.repo.updateRule({
        ruleId: 'alert_policy',
        scope: '*',
        params: { victimWarning: 60, victimCritical: 90 },
        actor: 'admin',
        actorRole: 'admin',
        reason: 'back to normal',
      });
      const t1 = Date.now();
      while (victimWarning() !== 60 && Date.now() - t1 < 1000) await new Promise((r) => setTimeout(r, 20));
      expect(Date.now() - t1).toBeLessThan(1000);
      await h.detection.sweep(T0 + 8000 + 61_000);
      expect(victimJobs(h.sink.jobs)).toEqual([expect.objectContaining({ severity: 'warning', stepS: 60 })]);

      function victimWarning(): unknown {
        return h.rules.forCarrier(h.carrier).alert_policy.params.victimWarning;
      }
    });

    /** A number that rang `n` different people once in the last hour, none answered (one-ring). */
    function oneRing(ring: string, t: number, n = 40): HandoffEvent[] {
      const out: HandoffEvent[] = [];
      const abroad = { cls: 'INTERNATIONAL', country: 'TN', att: 'UNVERIFIED' } as const;
      for (let i = 0; i < n; i++) out.push(...call(ring, token(), t - (n - i) * 60_000, 0, abroad));
      return out;
    }

    /** eagleeye_detector_callback_probes_total: the alerting probes and all of them */
    async function probes(): Promise<{ alert: number; total: number }> {
      const values = (await callbackProbes.get()).values;
      return {
        alert: values.find((v) => v.labels.result === 'alert')?.value ?? 0,
        total: values.reduce((n, v) => n + v.value, 0),
      };
    }

    it('alerts a call-back to a one-ring number with the caller as the victim, and ends it', async () => {
      const ring = token();
      const victim = token();
      const id = 'callback-1';
      // the victim calls the ring number back; the event's region is where the call is served
      const back = { region: '510700', age: 'UNKNOWN' } as const;
      await h.detection.process([
        h.entry([
          ...oneRing(ring, T0),
          ev('ATTEMPT', id, victim, ring, T0, back),
          ev('ANSWERED', id, victim, ring, T0 + 4000, back),
        ]),
      ]);
      const jobs = victimJobs(h.sink.jobs);
      expect(jobs).toEqual([
        expect.objectContaining({
          kind: 'victim_on_call',
          callId: id,
          victim,
          suspect: ring,
          region: '510700',
          severity: 'warning',
          callAnsweredAt: T0 + 4000,
          stepS: 0,
        }),
      ]);
      expect(jobs[0].reasons).toEqual([
        expect.objectContaining({
          rule: 'callback_to_one_ring',
          points: 60,
          // 40 distinct callees counted by HyperLogLog: a random token whose hash collides with an
          // earlier one leaves the sketch unchanged, so the count may fall a little short
          text: expect.stringMatching(/rang (3[89]|40) different people in 24 hours/) as unknown,
        }),
      ]);

      // a redelivery of the answer re-adds the same job (same id), nothing new
      h.sink.jobs = [];
      await h.detection.process([h.entry([ev('ANSWERED', id, victim, ring, T0 + 4000, back)])]);
      expect(victimJobs(h.sink.jobs)).toEqual([expect.objectContaining({ callId: id, severity: 'warning' })]);

      // its end reaches the same alert
      h.sink.jobs = [];
      await h.detection.process([
        h.entry([ev('ENDED', id, victim, ring, T0 + 304_000, { ...back, talk: 300 })]),
      ]);
      expect(h.sink.jobs).toEqual([
        {
          name: AlertJobName.CallEnded,
          data: expect.objectContaining({ callId: id, talkTimeS: 300, callEndedAt: T0 + 304_000 }),
        },
      ]);
    });

    it('does not alert an ordinary call-back: a busy courier, a friend', async () => {
      const courier = token();
      const friend = token();
      const person = token();
      // the courier rang 40 people in the last hour and most answered
      const rounds: HandoffEvent[] = [];
      for (let i = 0; i < 40; i++)
        rounds.push(...call(courier, token(), T0 - (40 - i) * 60_000, i % 5 ? 20 : 0));
      rounds.push(...call(friend, person, T0 - 3600_000, 0));
      await h.detection.process([h.entry(rounds)]);
      const before = await probes();
      // answers and ends in separate batches, as long calls arrive
      const backs = [call(person, courier, T0, 300), call(person, friend, T0 + 1000, 900)];
      await h.detection.process([h.entry(backs.flatMap((c) => c.slice(0, 2)))]);
      await h.detection.process([h.entry(backs.map((c) => c[2]))]);
      expect(victimJobs(h.sink.jobs)).toEqual([]);
      // both answers were probed (counted per round), neither alerted
      const after = await probes();
      expect(after.total - before.total).toBe(2);
      expect(after.alert).toBe(before.alert);
    });
  },
);
