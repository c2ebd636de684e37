import { Injectable } from '@nestjs/common';
import { HandoffEvent, Severity, VictimOnCallJob } from '@eagle-eye/contracts';
import { failSpan } from '@eagle-eye/observability';
import { num } from '@eagle-eye/rules';
import { AlertJob } from '../detection/alert.publisher';
import { CalleeEventArgs, CallerEventArgs } from '../lua/caller-args';
import { CallerStatus, CallMask } from '../lua/caller-reply';
import { callbackProbes, eventsProcessed } from '../metrics';
import { isSuspect, Score, scoreCall, scoreCallback, stepReached, victimSeverity } from '../scoring/score';
import { AlertClaim, ClaimStatus, mayRaise, WindowsRepository } from '../windows/windows.repository';
import { AlertJobs } from './alert-jobs';
import {
  BatchStats,
  calleeEvent,
  callerEvent,
  claimCall,
  dueCall,
  lateAnswer,
  nextStep,
  Staged,
  storedCall,
  Work,
} from './work';

/** An end with talk that the caller windows applied for the first time: counted as a received call. */
function received(w: Work): boolean {
  return w.ev.type === 'ENDED' && w.status === CallerStatus.Applied && (w.ev.talk ?? 0) > 0;
}

/**
 * Second stage of a round: the callee side of answered and ended calls (and, for answered calls,
 * a read of the called number's own caller windows: the call-back probe), in one round trip; then
 * the victim alert claims and due-time bookkeeping, in event order; then the round's alert jobs.
 */
@Injectable()
export class CalleeStage {
  constructor(
    private readonly windows: WindowsRepository,
    private readonly alerts: AlertJobs,
  ) {}

  /** Callee scripts, alert claims and due checks, then the alert jobs. */
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
    // callee side of answered and ended calls
    const calleeWork = works.filter(
      (w) =>
        w.status !== CallerStatus.Late &&
        // an answer whose call already ended starts nothing; its alert is raised after the fact
        // (see lateAnswer); a call from a caller far from suspect is not tracked while it runs
        // (its score cannot grow with time)
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
    const states = this.windows.callerStates;
    const deferred = !!states?.deferred;
    const calleeRefs = calleeWork.map((w) => {
      // a late answer only reads the callee's side: its call is over, nothing is to be watched
      if (lateAnswer(w))
        return callees.add(calleeEvent('r', w.ev.t, w, 'N', { talk: 0, suspect: false, ctx: '' }));
      const stored = storedCall(w);
      return callees.add(
        calleeEvent('a', w.ev.t, w, w.ev.type === 'ANSWERED' ? 'N' : 'E', {
          talk: w.ev.talk ?? 0,
          suspect: !!w.caller && isSuspect(w.rules, w.caller),
          ctx: w.ev.type === 'ANSWERED' ? JSON.stringify(stored) : '',
          // the callee's own windows count a received call once: when the caller script applied
          // its end (with deferred caller windows writes: below, once those windows are written)
          countReceived: !deferred && received(w),
          // an end whose answer is not applied yet is kept when that answer, coming late, would alert
          keepEnd: w.ev.type === 'ENDED' && this.trackable(w),
        }),
      );
    });
    const probes = this.windows.newCallerReads();
    const probeRefs = probeWork.map((w) => probes.add(this.calleeProfile(w)));
    const { callees: calleeReply, callerReads: probed } = await this.windows.runCallees(callees, probes);
    if (states && deferred) {
      // Received calls of the ends applied: counted once the caller's windows holding each end are
      // written (a replay of the end then finds it applied), a call back as op 'a' found it.
      const now: CalleeEventArgs[] = [];
      calleeWork.forEach((w, i) => {
        if (!received(w)) return;
        const back = (calleeReply(calleeRefs[i]).familiar & 1) === 1;
        const count = calleeEvent('c', w.ev.t, w, 'E', {
          talk: w.ev.talk ?? 0,
          suspect: false,
          ctx: '',
          back,
        });
        // written meanwhile (or at once, moved from the script windows): counted now
        if (!states.countAfterWrite(w.ev.caller, count)) now.push(count);
      });
      if (now.length) await this.windows.countReceived(now);
    }

    // alert claims and due-time bookkeeping, in event order
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
        // A replica applied this answer and died before raising its alert, and the call's end was
        // applied since (or before the answer, or the end is in this very round, above). The
        // alert that was due at the answer is raised now, after the fact, whatever the talk time
        // (the post-call minimum is for calls that qualify only by their length). A claim at the
        // answer's time that exists already (res 2) was made by a round that may have died before
        // adding its job: that job is added again, under the same id (ignored if it was added).
        // It is the live alert when the call was alerted while it ran (its end kept the level),
        // else this path's post-call alert.
        const score = scoreCall(rules, caller, { familiar, suspectCallers, durationS: 0, age: w.ev.age });
        const sev = victimSeverity(rules, score);
        if (!sev) return;
        claims.push(claimCall(w.ev.callee, w.callFp, w.callerFp, sev, 0, w.ev.t, rules, 'post'));
        onClaim.push((res) => {
          if (!mayRaise(res)) return;
          const live = res === ClaimStatus.ClaimedBefore && level > 0;
          const job = live
            ? this.victimJob('victim_on_call', w, w.ev.t, level === 2 ? 'critical' : 'warning', score, 0)
            : this.victimJob('post_call', w, w.ev.t, sev, score, 0);
          // the end: in this round, or kept by the callee script (the answer's time plus the talk)
          const end = endOf.get(w.callFp);
          if (end) {
            job.data.callEndedAt = end.t;
            job.data.talkTimeS = end.talk ?? 0;
          } else if (ended) {
            job.data.callEndedAt = w.ev.t + talk * 1000;
            job.data.talkTimeS = talk;
          }
          jobs.push(job);
        });
        return;
      }
      if (w.ev.type === 'ANSWERED') {
        if (ended) return;
        const next = nextStep(rules, 0);
        if (next !== null) due.schedule(dueCall(w), answeredAt + next * 1000);
        const score = scoreCall(rules, caller, { familiar, suspectCallers, durationS: 0, age: w.ev.age });
        const sev = victimSeverity(rules, score);
        if (!sev) return;
        claimedCalls.add(w.callFp);
        claims.push(claimCall(w.ev.callee, w.callFp, w.callerFp, sev, 0, w.ev.t, rules, 'live'));
        onClaim.push((res) => {
          if (mayRaise(res)) {
            jobs.push(this.victimJob('victim_on_call', w, answeredAt, sev, score, 0));
          }
        });
        return;
      }
      // ENDED
      if (r.ctx !== '' || level > 0) due.cancel(dueCall(w));
      if (level === 1 || level === 2) {
        jobs.push(this.alerts.callEnded(w, talk));
        return;
      }
      if (talk < num(rules.alert_policy, 'postCallMinTalkS')) return;
      const score = scoreCall(rules, caller, { familiar, suspectCallers, durationS: talk, age: w.ev.age });
      const sev = victimSeverity(rules, score);
      if (!sev) return;
      const step = stepReached(rules, talk);
      claims.push(claimCall(w.ev.callee, w.callFp, w.callerFp, sev, step, w.ev.t, rules, 'post'));
      onClaim.push((res) => {
        if (mayRaise(res)) {
          const started = answeredAt > 0 ? answeredAt : w.ev.t - talk * 1000;
          const job = this.victimJob('post_call', w, started, sev, score, step);
          job.data.callEndedAt = w.ev.t;
          job.data.talkTimeS = talk;
          jobs.push(job);
        }
      });
    });
    // counted per round: a labelled increment hashes its labels and allocates each time
    const probeResults = { alert: 0, report_only: 0, ordinary: 0 };
    probeWork.forEach((w, i) => {
      const profile = probed.event(probeRefs[i]).windows;
      const score = scoreCallback(w.rules, profile);
      const sev = victimSeverity(w.rules, score);
      probeResults[sev ? 'alert' : score.total ? 'report_only' : 'ordinary']++;
      // the usual alert already covers the call; a call whose end is in this very batch is over
      if (!sev || claimedCalls.has(w.callFp) || endedHere.has(w.callFp)) return;
      this.callbackClaims(w, sev, score, claims, onClaim, jobs);
    });
    for (const [result, n] of Object.entries(probeResults)) if (n) callbackProbes.inc({ result }, n);
    const [r3] = await Promise.all([this.windows.claimAlerts(claims), due.exec()]);
    r3.forEach((res, i) => onClaim[i](res));

    await this.alerts.publish(jobs, span);
    this.alerts.rememberSuspects(suspectKeys);
    stats.alerts = jobs.length;
    this.alerts.observe(jobs);
    this.count(stats);
  }

  /** A victim alert raised by the work's event (its event time, ingest time and trace). */
  private victimJob(
    kind: 'victim_on_call' | 'post_call',
    w: Work,
    answeredAt: number,
    sev: Severity,
    score: Score,
    stepS: number,
    ev: Pick<HandoffEvent, 'call' | 'caller' | 'callee' | 'region'> = w.ev,
  ): AlertJob & { data: VictimOnCallJob } {
    return this.alerts.victim(kind, w.carrierId, ev, answeredAt, sev, score, stepS, w.ev.t, w.ev.rx, w.trace);
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
    return callerEvent('r', w.ev.t, w, 'A', w.ev.callee, w.callerFp, '');
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
      ...claimCall(w.ev.callee, w.callFp, w.callerFp, sev, 0, w.ev.t, w.rules, 'live'),
      register: calleeEvent('a', w.ev.t, w, 'N', {
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
      jobs.push(this.victimJob('victim_on_call', w, w.ev.t, sev, score, 0, swapped));
    });
  }

  private count(s: BatchStats): void {
    if (s.applied) eventsProcessed.inc({ result: 'applied' }, s.applied);
    if (s.duplicate) eventsProcessed.inc({ result: 'duplicate' }, s.duplicate);
    if (s.late) eventsProcessed.inc({ result: 'late' }, s.late);
    if (s.malformed) eventsProcessed.inc({ result: 'malformed' }, s.malformed);
  }
}
