import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import {
  AgeBandName,
  AlertJobName,
  Attestation,
  CallerClassName,
  HandoffEntry,
  HandoffEvent,
  Severity,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { failSpan, linksTo, startSpan, traceparentOf, withSpan } from '@eagle-eye/observability';
import { PerNodePipeline, perNodePipeline, RedisKeys } from '@eagle-eye/redis';
import { list, num, ResolvedRules } from '@eagle-eye/rules';
import type { Span } from '@opentelemetry/api';
import { BatchRef, CalleeEventArgs, CallerEventArgs } from '../lua/caller-args';
import { CallerStatus, CallMask } from '../lua/caller-reply';
import { DetectorScripts } from '../lua/detector-scripts';
import {
  AlertClaim,
  ClaimStatus,
  DueCall,
  mayRaise,
  WindowsOptions,
  WindowsRepository,
} from '../windows/windows.repository';
import {
  alertsRaised,
  callbackProbes,
  detectionLatency,
  eventsProcessed,
  ruleHits,
  sweepLag,
} from '../metrics';
import {
  CallFacts,
  featureSnapshot,
  isSuspect,
  Score,
  scoreCall,
  scoreCallback,
  scoreCaller,
  stepReached,
  suspectSeverity,
  victimSeverity,
} from '../scoring/score';
import type { ModelSource } from '../scoring/model-registry';
import { AlertJob } from './alert.publisher';
import { callFp, numberFp } from './fingerprint';

export interface DetectionOptions extends WindowsOptions {
  partitions: number;
}

export interface RuleSource {
  forCarrier(carrierId: string): ResolvedRules;
}

export interface AlertSink {
  publish(jobs: AlertJob[]): Promise<void>;
}

export interface BatchStats {
  applied: number;
  duplicate: number;
  late: number;
  malformed: number;
  alerts: number;
}

/** Call context stored on the callee's key while the call runs (what the sweep needs to re-score). */
interface StoredCall {
  car: string;
  call: string;
  ca: string;
  ce: string;
  rg: string;
  age: AgeBandName;
  cls: CallerClassName;
  co: string;
  att: Attestation;
  mis: boolean;
  sims: number;
  /** traceparent of the batch that carried the answer (the sweep's alerts continue its trace) */
  tp?: string;
}

/** A batch between the two stages of DetectionService. */
export interface Staged {
  works: Work[];
  stats: BatchStats;
  jobs: AlertJob[];
  suspectKeys: string[];
  /** the round's span (one per round, linked to the batches it applied), ended by finish */
  span?: Span;
}

interface Work {
  carrierId: string;
  ev: HandoffEvent;
  rules: ResolvedRules;
  callFp: string;
  callerFp: string;
  calleeFp: string;
  status: CallerStatus;
  /** CallMask bits */
  mask: number;
  sims: number;
  caller?: Score;
  /** the hand-off entry's traceparent (a reference to the entry's, not a copy per event) */
  trace?: string;
}

const TYPE_CODE = { ATTEMPT: 'A', ANSWERED: 'N', ENDED: 'E' } as const;

function malformed(ev: HandoffEvent): boolean {
  return (
    typeof ev !== 'object' ||
    ev === null ||
    (ev.type !== 'ATTEMPT' && ev.type !== 'ANSWERED' && ev.type !== 'ENDED') ||
    !Number.isSafeInteger(ev.t) ||
    ev.t <= 0 ||
    (ev.talk !== undefined && !(Number.isSafeInteger(ev.talk) && ev.talk >= 0)) ||
    typeof ev.caller !== 'string' ||
    typeof ev.callee !== 'string' ||
    typeof ev.call !== 'string' ||
    !ev.caller ||
    !ev.callee ||
    !ev.call
  );
}

/**
 * Applies hand-off events to the Redis windows and raises alerts. A batch goes through at most
 * three pipelined round trips: caller (and device) scripts for every event, callee scripts for the
 * answered and ended calls, then alert claims and due-time updates. Scores are computed here, in
 * TypeScript, from what the scripts return; each script touches the keys of one number or device.
 */
export class DetectionService {
  private readonly logger = new Logger('Detection');
  /** suspect alerts already raised by this replica: skips re-adding the same job id */
  private readonly suspectsRaised = new Set<string>();
  /** see scoreCaller: when this deployment began observing, event time (from Redis, set once) */
  private observingSince: number | null = null;
  private readonly windows: WindowsRepository;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly scripts: DetectorScripts,
    private readonly rules: RuleSource,
    private readonly alerts: AlertSink,
    private readonly opts: DetectionOptions,
    private readonly clock: () => number = Date.now,
    private readonly models?: ModelSource,
  ) {
    this.windows = new WindowsRepository(redis, keys, scripts, opts);
  }

  async process(entries: HandoffEntry[]): Promise<BatchStats> {
    return this.finish(await this.applyCallers(entries));
  }

  /**
   * First stage of a batch: the caller (and device) scripts of every event, caller scores and
   * suspect-number alerts. The consumer runs it for the next batch while the previous batch is in
   * its second stage (`finish`); both stages keep batch order, so a call's events stay in order.
   */
  async applyCallers(entries: HandoffEntry[]): Promise<Staged> {
    const stats: BatchStats = { applied: 0, duplicate: 0, late: 0, malformed: 0, alerts: 0 };
    const works: Work[] = [];
    for (const entry of entries) {
      const rules = this.rules.forCarrier(entry.carrierId);
      const trace = entry.trace;
      for (const ev of entry.events) {
        if (malformed(ev)) {
          stats.malformed++;
          continue;
        }
        works.push({
          carrierId: entry.carrierId,
          ev,
          rules,
          callFp: callFp(entry.carrierId, ev.call),
          callerFp: numberFp(ev.caller),
          calleeFp: numberFp(ev.callee),
          status: CallerStatus.Applied,
          mask: 0,
          sims: 0,
          trace,
        });
      }
    }
    if (!works.length) return { works, stats, jobs: [], suspectKeys: [] };
    // one span per round, linked to the batches (traces) whose entries it applies
    const span = startSpan('detector.round', {
      links: linksTo(entries.map((e) => e.trace)),
      attributes: { 'eagleeye.round.entries': entries.length, 'eagleeye.round.events': works.length },
    });
    try {
      return await this.applyCallerScripts(works, stats, span);
    } catch (e) {
      failSpan(span, e);
      throw e;
    }
  }

  private async applyCallerScripts(works: Work[], stats: BatchStats, span: Span): Promise<Staged> {
    // Entries of several partitions arrive together: apply them in event-time order (stable, so
    // the events of one call keep ingest's order when their times tie).
    if (!inTimeOrder(works)) works.sort((a, b) => a.ev.t - b.ev.t);
    if (this.observingSince === null) {
      this.observingSince = await this.windows.observingSince(works[0].ev.t);
    }
    const observingSince = this.observingSince;
    const jobs: AlertJob[] = [];
    const suspectKeys: string[] = [];

    // 1. caller windows and device SIMs: one script call per key group for the whole round
    const batch = this.windows.newCallerBatch();
    // each work's reply references (numbers; 0: the event names no handset)
    const refs: BatchRef[] = [];
    const deviceRefs: BatchRef[] = [];
    for (const w of works) {
      refs.push(batch.add(this.callerEvent('a', w.ev.t, w, TYPE_CODE[w.ev.type])));
      deviceRefs.push(
        w.ev.device ? batch.addDevice(w.ev.device, w.ev.type === 'ATTEMPT' ? w.callerFp : '') : 0,
      );
    }
    const r1 = await this.windows.runCallers(batch);
    for (let i = 0; i < works.length; i++) {
      const w = works[i];
      const ref = refs[i];
      const device = deviceRefs[i];
      if (device) w.sims = r1.sims(device);
      w.status = r1.status(ref);
      if (w.status === CallerStatus.Late) {
        stats.late++;
        continue;
      }
      if (w.status === CallerStatus.Duplicate) stats.duplicate++;
      else stats.applied++;
      w.mask = r1.mask(ref);
      // the end of an unanswered call changed no counter and was given no windows to score
      if (
        w.status === CallerStatus.Applied &&
        w.ev.type === 'ENDED' &&
        !w.ev.talk &&
        !(w.mask & CallMask.Answered)
      )
        continue;
      const windows = r1.event(ref).windows;
      w.caller = scoreCaller(w.rules, windows, this.facts(w), observingSince, this.models);
      const sev = suspectSeverity(w.rules, w.caller);
      if (sev) this.suspectJob(w, windows.region, sev, jobs, suspectKeys);
    }

    return { works, stats, jobs, suspectKeys, span };
  }

  /** Second stage: callee scripts, alert claims and due checks, then the alert jobs. */
  async finish(staged: Staged): Promise<BatchStats> {
    const { works, stats, span } = staged;
    if (!works.length) {
      this.count(stats);
      return stats;
    }
    try {
      await this.applyCalleeScripts(staged);
      span?.setAttribute('eagleeye.round.alerts', stats.alerts);
      span?.end();
      return stats;
    } catch (e) {
      if (span) failSpan(span, e);
      throw e;
    }
  }

  private async applyCalleeScripts(staged: Staged): Promise<void> {
    const { works, stats, jobs, suspectKeys, span } = staged;
    // 2. callee side of answered and ended calls
    const calleeWork = works.filter(
      (w) =>
        w.status !== CallerStatus.Late &&
        // an answer whose call already ended (events out of order) starts nothing, unless it is
        // redelivered (see lateAnswer); a call from a caller far from suspect is not tracked while
        // it runs (its score cannot grow with time)
        ((w.ev.type === 'ANSWERED' &&
          ((w.mask & CallMask.Ended) === 0 || lateAnswer(w)) &&
          this.trackable(w)) ||
          (w.ev.type === 'ENDED' && ((w.ev.talk ?? 0) > 0 || (w.mask & CallMask.Answered) !== 0))),
    );
    // Call-backs: every answered call also reads the called number's OWN caller-side windows (one
    // read-only script on that number's hash tag, in the same round trip), because when the called
    // number is a one-ring scammer the victim is the caller. Unanswered attempts and ends, most of
    // the traffic, never pay for it.
    const probeWork = works.filter(
      (w) =>
        // a redelivered answer (duplicate) reads again, so a claimed alert's job is re-added
        w.status !== CallerStatus.Late &&
        w.ev.type === 'ANSWERED' &&
        (w.mask & CallMask.Ended) === 0 &&
        w.rules.callback_to_one_ring.enabled &&
        w.ev.caller !== w.ev.callee,
    );
    const endedHere = new Set(works.filter((w) => w.ev.type === 'ENDED').map((w) => w.callFp));
    const endOf = new Map(works.filter((w) => w.ev.type === 'ENDED').map((w) => [w.callFp, w.ev]));
    // one callee script call per key group, then the probes' caller-side reads (after the callee
    // writes of the same round, as one pipeline)
    const callees = this.windows.newCalleeBatch();
    const calleeRefs = calleeWork.map((w) => {
      // a late answer only reads the callee's side: its call is over, nothing is to be watched
      if (lateAnswer(w))
        return callees.add(this.calleeEvent('r', w.ev.t, w, 'N', { talk: 0, suspect: false, ctx: '' }));
      const stored = storedCall(w);
      return callees.add(
        this.calleeEvent('a', w.ev.t, w, w.ev.type === 'ANSWERED' ? 'N' : 'E', {
          talk: w.ev.talk ?? 0,
          suspect: !!w.caller && isSuspect(w.rules, w.caller),
          ctx: w.ev.type === 'ANSWERED' ? JSON.stringify(stored) : '',
          // the callee's own windows count a received call once: when the caller script applied its end
          countReceived: w.ev.type === 'ENDED' && w.status === CallerStatus.Applied && (w.ev.talk ?? 0) > 0,
        }),
      );
    });
    const probes = this.windows.newCallerBatch();
    const probeRefs = probeWork.map((w) => probes.add(this.calleeProfile(w)));
    const { callees: calleeReply, callerReads: probed } = await this.windows.runCallees(callees, probes);

    // 3. alert claims and due-time bookkeeping, in event order
    const claims: AlertClaim[] = [];
    const onClaim: ((res: ClaimStatus) => void)[] = [];
    const due = this.windows.dueWrites();
    /** calls that got a victim alert claim the usual way (the callee is the victim) */
    const claimedCalls = new Set<string>();
    calleeWork.forEach((w, i) => {
      const r = calleeReply(calleeRefs[i]);
      const { familiar, suspectCallers, level, answeredAt, ended, talkS: talk } = r;
      const rules = w.rules;
      const caller = w.caller as Score;
      const endHere = w.ev.type === 'ANSWERED' ? endOf.get(w.callFp) : undefined;
      if (
        w.ev.type === 'ANSWERED' &&
        (lateAnswer(w) ||
          // Behind a backlog an answer and its call's end can fall in one round. The end's callee
          // script (earlier in this pipeline than any claim) has closed the call by the time the
          // answer's live claim runs, which then finds no call (-1): found by the chaos suite
          // (a lagging detector lost short scam calls' alerts). Raised as post-call at the answer
          // instead, unless the end raises its own post-call alert (long enough to qualify).
          (endHere !== undefined && (endHere.talk ?? 0) < num(rules.alert_policy, 'postCallMinTalkS')))
      ) {
        // A replica applied this answer and died before raising its alert; the call's end (next
        // round) was applied before it died too (or the end is in this very round, above). The
        // alert that was due at the answer is raised now, after the fact, whatever the talk time
        // (the post-call minimum is for calls that qualify only by their length). A claim at the
        // answer's time that exists already (res 2) is the alert the original round did raise:
        // nothing more then.
        const score = scoreCall(rules, caller, { familiar, suspectCallers, durationS: 0, age: w.ev.age });
        const sev = victimSeverity(rules, score);
        if (!sev) return;
        claims.push(this.claimCall(w.ev.callee, w.callFp, w.callerFp, sev, 0, w.ev.t, rules, 'post'));
        onClaim.push((res) => {
          if (res !== ClaimStatus.Claimed) return;
          const job = this.victimJob(
            'post_call',
            w.carrierId,
            w.ev,
            w.ev.t,
            sev,
            score,
            0,
            w.ev.t,
            w.ev.rx,
            w.trace,
          );
          const end = endOf.get(w.callFp);
          if (end) {
            job.data.callEndedAt = end.t;
            job.data.talkTimeS = end.talk ?? 0;
          }
          jobs.push(job);
        });
        return;
      }
      if (w.ev.type === 'ANSWERED') {
        if (ended) return;
        const next = this.nextStep(rules, 0);
        if (next !== null) due.schedule(dueCall(w), answeredAt + next * 1000);
        const score = scoreCall(rules, caller, { familiar, suspectCallers, durationS: 0, age: w.ev.age });
        const sev = victimSeverity(rules, score);
        if (!sev) return;
        claimedCalls.add(w.callFp);
        claims.push(this.claimCall(w.ev.callee, w.callFp, w.callerFp, sev, 0, w.ev.t, rules, 'live'));
        onClaim.push((res) => {
          if (mayRaise(res)) {
            jobs.push(
              this.victimJob(
                'victim_on_call',
                w.carrierId,
                w.ev,
                answeredAt,
                sev,
                score,
                0,
                w.ev.t,
                w.ev.rx,
                w.trace,
              ),
            );
          }
        });
        return;
      }
      // ENDED
      if (r.ctx !== '' || level > 0) due.cancel(dueCall(w));
      if (level === 1 || level === 2) {
        jobs.push({
          name: AlertJobName.CallEnded,
          data: {
            carrierId: w.carrierId,
            callId: w.ev.call,
            callEndedAt: w.ev.t,
            talkTimeS: talk,
            raisedAt: this.clock(),
            ...(w.trace ? { traceparent: w.trace } : {}),
          },
        });
        return;
      }
      if (talk < num(rules.alert_policy, 'postCallMinTalkS')) return;
      const score = scoreCall(rules, caller, { familiar, suspectCallers, durationS: talk, age: w.ev.age });
      const sev = victimSeverity(rules, score);
      if (!sev) return;
      const step = stepReached(rules, talk);
      claims.push(this.claimCall(w.ev.callee, w.callFp, w.callerFp, sev, step, w.ev.t, rules, 'post'));
      onClaim.push((res) => {
        if (mayRaise(res)) {
          const started = answeredAt > 0 ? answeredAt : w.ev.t - talk * 1000;
          const job = this.victimJob(
            'post_call',
            w.carrierId,
            w.ev,
            started,
            sev,
            score,
            step,
            w.ev.t,
            w.ev.rx,
            w.trace,
          );
          job.data.callEndedAt = w.ev.t;
          job.data.talkTimeS = talk;
          jobs.push(job);
        }
      });
    });
    probeWork.forEach((w, i) => {
      const profile = probed.event(probeRefs[i]).windows;
      const score = scoreCallback(w.rules, profile);
      const sev = victimSeverity(w.rules, score);
      callbackProbes.inc({ result: sev ? 'alert' : score.total ? 'report_only' : 'ordinary' });
      // the usual alert already covers the call; a call whose end is in this very batch is over
      if (!sev || claimedCalls.has(w.callFp) || endedHere.has(w.callFp)) return;
      this.callbackClaims(w, sev, score, claims, onClaim, jobs);
    });
    const [r3] = await Promise.all([this.windows.claimAlerts(claims), due.exec()]);
    r3.forEach((res, i) => onClaim[i](res));

    await this.publishTraced(jobs, span);
    if (this.suspectsRaised.size > 100_000) this.suspectsRaised.clear();
    for (const k of suspectKeys) this.suspectsRaised.add(k);
    stats.alerts = jobs.length;
    this.observe(jobs);
    this.count(stats);
  }

  /**
   * Publishes alert jobs, each under a span of its own in the trace of the batch that raised it
   * (the round's trace when that batch had none), linked to the round: the job carries that span's
   * traceparent to the worker, and the debug line saying so carries its trace_id. Spans per job,
   * never per event.
   */
  private async publishTraced(jobs: AlertJob[], round: Span | undefined): Promise<void> {
    if (!jobs.length) return;
    const roundCtx = round ? round.spanContext() : undefined;
    const spans = jobs.map((j) => {
      const d = j.data;
      const kind = j.name === AlertJobName.CallEnded ? 'call_ended' : (d as VictimOnCallJob).kind;
      const parent = d.traceparent ?? traceparentOf(round);
      const span = startSpan('detector.alert', {
        parent,
        links: roundCtx && d.traceparent ? [{ context: roundCtx }] : undefined,
        attributes: {
          'eagleeye.carrier': d.carrierId,
          'eagleeye.alert.kind': kind,
          ...('severity' in d ? { 'eagleeye.alert.severity': d.severity } : {}),
        },
      });
      const tp = traceparentOf(span);
      if (tp) d.traceparent = tp;
      withSpan(span, () =>
        this.logger.debug(
          `raised ${kind}${'severity' in d ? ` (${d.severity}, score ${d.score})` : ''} for ${'callId' in d ? `call ${d.callId}` : 'a suspect number'} of carrier ${d.carrierId}`,
        ),
      );
      return span;
    });
    try {
      await this.alerts.publish(jobs);
    } catch (e) {
      for (const s of spans) failSpan(s, e);
      throw e;
    }
    for (const s of spans) s.end();
  }

  /**
   * Duration-step checks of calls in progress whose next event has not arrived: claims due checks
   * (leased, so one replica each), re-scores the call at `now` (event time) and raises or upgrades
   * its alert. Returns how many checks ran.
   */
  async sweep(now?: number, limit = 500): Promise<number> {
    const at = now ?? (await this.eventNow());
    const items = await this.windows.claimDue(at, limit);
    if (!items.length) return 0;
    const calleeReads = this.windows.newCalleeBatch();
    const callerReads = this.windows.newCallerBatch();
    const ws: Work[] = [];
    for (const it of items) {
      sweepLag.observe(Math.max(0, at - it.dueAt) / 1000);
      const { carrierId, callee, caller, callId } = it;
      const w: Work = {
        carrierId,
        ev: { call: callId, caller, callee, t: at } as HandoffEvent,
        rules: this.rules.forCarrier(carrierId),
        callFp: callFp(carrierId, callId),
        callerFp: numberFp(caller),
        calleeFp: numberFp(callee),
        status: CallerStatus.Read,
        mask: 0,
        sims: 0,
      };
      ws.push(w);
    }
    const calleeRefs = ws.map((w) =>
      calleeReads.add(this.calleeEvent('r', at, w, 'N', { talk: 0, suspect: false, ctx: '' })),
    );
    const callerRefs = ws.map((w) => callerReads.add(this.callerEvent('r', at, w, 'A')));
    const { callees: calleeRead, callerReads: callerRead } = await this.windows.runCallees(
      calleeReads,
      callerReads,
    );
    const claims: AlertClaim[] = [];
    const onClaim: ((res: ClaimStatus) => void)[] = [];
    const jobs: AlertJob[] = [];
    const due = this.windows.dueWrites();
    ws.forEach((w, i) => {
      const it = items[i];
      const callee = calleeRead(calleeRefs[i]);
      const ctxRaw = callee.ctx;
      const answeredAt = callee.answeredAt;
      if (!ctxRaw || callee.ended) {
        due.done(it);
        return;
      }
      const ctx = JSON.parse(ctxRaw) as StoredCall;
      const rules = w.rules;
      const windows = callerRead.event(callerRefs[i]).windows;
      const caller = scoreCaller(
        rules,
        windows,
        {
          cls: ctx.cls,
          country: ctx.co,
          att: ctx.att,
          mis: ctx.mis,
          age: ctx.age,
          sims: ctx.sims,
        },
        this.observingSince ?? 0,
        this.models,
      );
      const durationS = Math.max(0, Math.floor((at - answeredAt) / 1000));
      const score = scoreCall(rules, caller, {
        familiar: callee.familiar,
        suspectCallers: callee.suspectCallers,
        durationS,
        age: ctx.age,
      });
      const next = this.nextStep(rules, durationS);
      if (next === null) due.done(it);
      else due.reschedule(it, answeredAt + next * 1000);
      const sev = victimSeverity(rules, score);
      if (!sev) return;
      const step = stepReached(rules, durationS);
      claims.push(this.claimCall(ctx.ce, w.callFp, w.callerFp, sev, step, at, rules, 'live'));
      onClaim.push((res) => {
        if (mayRaise(res)) {
          const ev = { call: ctx.call, caller: ctx.ca, callee: ctx.ce, region: ctx.rg } as HandoffEvent;
          const job = this.victimJob(
            'victim_on_call',
            ctx.car,
            ev,
            answeredAt,
            sev,
            score,
            step,
            at,
            undefined,
          );
          if (ctx.tp) job.data.traceparent = ctx.tp;
          jobs.push(job);
        }
      });
    });
    // claim before rescheduling: a crash in between leaves the lease to expire and the check to rerun
    const r3 = await this.windows.claimAlerts(claims);
    r3.forEach((res, i) => onClaim[i](res));
    if (jobs.length) {
      // a sweep that raises something gets a span; its jobs continue the traces of their answers
      const span = startSpan('detector.sweep', { attributes: { 'eagleeye.sweep.checks': items.length } });
      try {
        await this.publishTraced(jobs, span);
      } finally {
        span.end();
      }
    }
    await due.exec();
    this.observe(jobs);
    return items.length;
  }

  /**
   * "Now" in event time for the sweep: the largest (event time - wall clock) offset recently seen
   * on any hand-off partition, added to the wall clock. Event time thus advances with the wall
   * clock between events, and a carrier whose switch clock runs behind does not fire steps early.
   */
  async eventNow(): Promise<number> {
    const p = perNodePipeline(this.redis);
    for (let i = 0; i < this.opts.partitions; i++) p.get(this.keys.detectorWatermark(i));
    const res = (await p.exec()) ?? [];
    const offsets = res
      .map(([, v]) => (v === null || v === undefined ? NaN : Number(v)))
      .filter(Number.isFinite);
    return this.clock() + (offsets.length ? Math.max(...offsets) : 0);
  }

  /**
   * Records the newest event time seen on each partition, as an offset to the wall clock, into the
   * consumer's acknowledgement pipeline (the sweep's event-time now, see eventNow).
   */
  queueWatermarks(maxByPartition: Map<number, number>, p: PerNodePipeline): void {
    const wall = this.clock();
    for (const [part, t] of maxByPartition)
      p.set(this.keys.detectorWatermark(part), String(t - wall), 'PX', 3600_000);
  }

  /**
   * Whether an answered call is tracked while it runs (due checks, suspect-caller ring): only when
   * the caller's own score reaches half the suspect threshold. The rest of the traffic, ordinary
   * callers, costs one script per event instead of three.
   */
  private trackable(w: Work): boolean {
    return (w.caller?.score ?? 0) >= num(w.rules.alert_policy, 'suspectCaller') / 2;
  }

  /** A read of the CALLED number's own caller windows: its caller profile. */
  private calleeProfile(w: Work): CallerEventArgs {
    return this.callerEvent('r', w.ev.t, w, 'A', w.ev.callee, w.callerFp, '');
  }

  /**
   * A call-back alert: the caller is the victim, the called (one-ring) number the suspect. The call
   * is registered on the called number's state key (where its end event will find it, so the alert
   * gets its `call-ended`) and claimed there, keyed on the pair, in the same pipeline and in that
   * order. No duration steps: the premium line charges from the first second, so the alert is
   * raised at answer, and the sweep re-scores calls with the callee as the victim.
   */
  private callbackClaims(
    w: Work,
    sev: Severity,
    score: Score,
    claims: AlertClaim[],
    onClaim: ((res: ClaimStatus) => void)[],
    jobs: AlertJob[],
  ): void {
    const stored = storedCall(w);
    claims.push({
      ...this.claimCall(w.ev.callee, w.callFp, w.callerFp, sev, 0, w.ev.t, w.rules, 'live'),
      register: this.calleeEvent('a', w.ev.t, w, 'N', {
        talk: 0,
        suspect: false,
        ctx: JSON.stringify(stored),
      }),
    });
    onClaim.push((res) => {
      if (!mayRaise(res)) return;
      // roles swapped: the victim is the caller. The event's region is the callee's area by
      // contract; a call to a number abroad has none, and carriers report the serving area of the
      // call there, which is the calling subscriber's (see README "Detection").
      const swapped = { call: w.ev.call, caller: w.ev.callee, callee: w.ev.caller, region: w.ev.region };
      jobs.push(
        this.victimJob(
          'victim_on_call',
          w.carrierId,
          swapped,
          w.ev.t,
          sev,
          score,
          0,
          w.ev.t,
          w.ev.rx,
          w.trace,
        ),
      );
    });
  }

  private facts(w: Work): CallFacts {
    return {
      cls: w.ev.cls,
      country: w.ev.country,
      att: w.ev.att,
      mis: w.ev.mis,
      age: w.ev.age,
      sims: w.sims,
    };
  }

  /** One event for the caller-batch script on `tok`'s windows (by default the event's caller, as the caller). */
  private callerEvent(
    op: 'a' | 'r',
    t: number,
    w: Work,
    type: string,
    tok = w.ev.caller,
    counterpartFp = w.calleeFp,
    region = w.ev.region ?? '',
  ): CallerEventArgs {
    return {
      op,
      token: tok,
      t,
      type,
      callFp: w.callFp,
      counterpartFp,
      talkS: op === 'a' ? (w.ev.talk ?? 0) : 0,
      shortCallS: num(w.rules.alert_policy, 'shortCallS'),
      carrierId: w.carrierId,
      region,
      minTalkS: num(w.rules.familiar, 'minTalkS'),
      // the calling handset counts for the number placing the call, not for a probed callee
      device: op === 'a' && type === 'A' && w.ev.device && tok === w.ev.caller ? numberFp(w.ev.device) : '',
    };
  }

  private calleeEvent(
    op: 'a' | 'r',
    t: number,
    w: Work,
    type: 'N' | 'E',
    x: { talk: number; suspect: boolean; ctx: string; countReceived?: boolean },
  ): CalleeEventArgs {
    return {
      op,
      token: w.ev.callee,
      t,
      type,
      callFp: w.callFp,
      callerFp: w.callerFp,
      talkS: x.talk,
      suspect: x.suspect,
      ctx: x.ctx,
      ringMs: num(w.rules.ring_relay, 'windowS') * 1000,
      minTalkS: num(w.rules.familiar, 'minTalkS'),
      countReceived: x.countReceived ?? false,
    };
  }

  private claimCall(
    victim: string,
    call: string,
    suspectFp: string,
    sev: Severity,
    step: number,
    t: number,
    rules: ResolvedRules,
    mode: 'live' | 'post',
  ): AlertClaim {
    return {
      victim,
      callFp: call,
      suspectFp,
      severity: sev,
      stepS: step,
      t,
      cooldownMs: num(rules.alert_policy, 'cooldownS') * 1000,
      mode,
    };
  }

  /**
   * The call's next check (seconds since answer): the next duration step, then every `recheckS`
   * while the call runs; a scammer's number often shows its pattern only while a victim is kept on
   * the line, and the victim must be reached before the call ends. null: no further check.
   */
  private nextStep(rules: ResolvedRules, durationS: number): number | null {
    const next = list<number>(rules.long_call, 'stepsS')
      .filter((s) => s > durationS)
      .sort((a, b) => a - b)[0];
    if (next !== undefined) return next;
    const every = num(rules.long_call, 'recheckS');
    return every > 0 ? (Math.floor(durationS / every) + 1) * every : null;
  }

  private victimJob(
    kind: 'victim_on_call' | 'post_call',
    carrierId: string,
    ev: Pick<HandoffEvent, 'call' | 'caller' | 'callee' | 'region'>,
    answeredAt: number,
    severity: Severity,
    score: Score,
    stepS: number,
    eventTimeMs: number,
    ingestedAtMs: number | undefined,
    trace?: string,
  ): AlertJob & { data: VictimOnCallJob } {
    const data: VictimOnCallJob = {
      kind,
      carrierId,
      callId: ev.call,
      victim: ev.callee,
      suspect: ev.caller,
      region: ev.region,
      severity,
      score: score.score,
      reasons: score.reasons,
      callAnsweredAt: answeredAt,
      stepS,
      eventTimeMs,
      raisedAt: this.clock(),
    };
    if (ingestedAtMs !== undefined) data.ingestedAtMs = ingestedAtMs;
    if (trace) data.traceparent = trace;
    if (score.judged) data.callerFeatures = featureSnapshot(score.judged);
    return { name: AlertJobName.VictimOnCall, data };
  }

  private suspectJob(w: Work, region: string, severity: Severity, jobs: AlertJob[], raised: string[]): void {
    const key = `${w.carrierId}|${w.ev.caller}|${severity}`;
    if (this.suspectsRaised.has(key) || raised.includes(key)) return;
    raised.push(key);
    const caller = w.caller as Score;
    const data: SuspectNumberJob = {
      kind: 'suspect_number',
      carrierId: w.carrierId,
      suspect: w.ev.caller,
      severity,
      score: caller.score,
      reasons: caller.reasons,
      eventTimeMs: w.ev.t,
      raisedAt: this.clock(),
    };
    if (region) data.region = region;
    if (w.trace) data.traceparent = w.trace;
    if (caller.judged) data.callerFeatures = featureSnapshot(caller.judged);
    jobs.push({ name: AlertJobName.SuspectNumber, data });
  }

  private observe(jobs: AlertJob[]): void {
    for (const j of jobs) {
      if (j.name === AlertJobName.CallEnded) {
        alertsRaised.inc({ kind: 'call_ended', severity: 'none' });
        continue;
      }
      const d = j.data as VictimOnCallJob | SuspectNumberJob;
      alertsRaised.inc({ kind: d.kind, severity: d.severity });
      for (const r of d.reasons) {
        ruleHits.inc({ rule: r.rule, severity: d.severity, report_only: r.reportOnly ? 'true' : 'false' });
      }
      const rx = (d as VictimOnCallJob).ingestedAtMs;
      if (rx !== undefined) detectionLatency.observe({ kind: d.kind }, Math.max(0, d.raisedAt - rx) / 1000);
    }
  }

  private count(s: BatchStats): void {
    if (s.applied) eventsProcessed.inc({ result: 'applied' }, s.applied);
    if (s.duplicate) eventsProcessed.inc({ result: 'duplicate' }, s.duplicate);
    if (s.late) eventsProcessed.inc({ result: 'late' }, s.late);
    if (s.malformed) eventsProcessed.inc({ result: 'malformed' }, s.malformed);
  }

  get log(): Logger {
    return this.logger;
  }
}

/** Whether the works are in event-time order already (one partition's round usually is). */
function inTimeOrder(works: Work[]): boolean {
  for (let i = 1; i < works.length; i++) if (works[i].ev.t < works[i - 1].ev.t) return false;
  return true;
}

/**
 * A redelivered answer (the caller script knew it: status 1) whose call has ended since (its end is
 * in the call's guard): the replica that first applied it died before its second stage.
 */
function lateAnswer(w: Work): boolean {
  return w.ev.type === 'ANSWERED' && w.status === CallerStatus.Duplicate && (w.mask & CallMask.Ended) !== 0;
}

/** The call's member of the due sets. */
function dueCall(w: Work): DueCall {
  return { carrierId: w.carrierId, callee: w.ev.callee, caller: w.ev.caller, callId: w.ev.call };
}

/** What the callee side keeps about a call in progress, so the sweep can score it later. */
function storedCall(w: Work): StoredCall {
  return {
    car: w.carrierId,
    call: w.ev.call,
    ca: w.ev.caller,
    ce: w.ev.callee,
    rg: w.ev.region,
    age: w.ev.age,
    cls: w.ev.cls,
    co: w.ev.country,
    att: w.ev.att,
    mis: w.ev.mis,
    sims: w.sims,
    ...(w.trace ? { tp: w.trace } : {}),
  };
}
