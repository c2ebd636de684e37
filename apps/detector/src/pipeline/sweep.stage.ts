import { Inject, Injectable, Optional } from '@nestjs/common';
import { HandoffEvent } from '@eagle-eye/contracts';
import { startSpan } from '@eagle-eye/observability';
import { AlertJob } from '../detection/alert.publisher';
import { callFp, numberFp } from '../detection/fingerprint';
import { CallerStatus } from '../lua/caller-reply';
import { EventClock } from '../handoff/event-clock';
import { sweepLag } from '../metrics';
import type { ModelSource } from '../scoring/model-registry';
import { scoreCall, scoreCaller, stepReached, victimSeverity } from '../scoring/score';
import { AlertClaim, ClaimStatus, mayRaise, WindowsRepository } from '../windows/windows.repository';
import { AlertJobs } from './alert-jobs';
import {
  calleeEvent,
  callerEvent,
  claimCall,
  MODEL_SOURCE,
  nextStep,
  RULE_SOURCE,
  RuleSource,
  StoredCall,
  Work,
} from './work';

/** Checks claimed per due shard per sweep at most (a sweep that claims this many runs again). */
export const SWEEP_LIMIT = 500;

/** The duration-step checks of calls in progress, at event time (EventClock). */
@Injectable()
export class SweepStage {
  constructor(
    private readonly windows: WindowsRepository,
    @Inject(RULE_SOURCE) private readonly rules: RuleSource,
    private readonly alerts: AlertJobs,
    private readonly clock: EventClock,
    @Optional() @Inject(MODEL_SOURCE) private readonly models?: ModelSource,
  ) {}

  /**
   * Duration-step checks of calls in progress whose next event has not arrived: claims due checks
   * (leased, so one replica each), re-scores the call at `now` (event time) and raises or upgrades
   * its alert. Returns how many checks ran.
   */
  async sweep(now?: number, limit = SWEEP_LIMIT): Promise<number> {
    const at = now ?? (await this.clock.now());
    const items = await this.windows.claimDue(at, limit);
    if (!items.length) return 0;
    const calleeReads = this.windows.newCalleeBatch();
    const callerReads = this.windows.newCallerReads();
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
      calleeReads.add(calleeEvent('r', at, w, 'N', { talk: 0, suspect: false, ctx: '' })),
    );
    const callerRefs = ws.map((w) => callerReads.add(callerEvent('r', at, w, 'A')));
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
        this.windows.observingSinceKnown,
        this.models,
      );
      const durationS = Math.max(0, Math.floor((at - answeredAt) / 1000));
      const score = scoreCall(rules, caller, {
        familiar: callee.familiar,
        suspectCallers: callee.suspectCallers,
        durationS,
        age: ctx.age,
      });
      const next = nextStep(rules, durationS);
      if (next === null) due.done(it);
      else due.reschedule(it, answeredAt + next * 1000);
      const sev = victimSeverity(rules, score);
      if (!sev) return;
      const step = stepReached(rules, durationS);
      claims.push(claimCall(ctx.ce, w.callFp, w.callerFp, sev, step, at, rules, 'live'));
      onClaim.push((res) => {
        if (mayRaise(res)) {
          const ev = { call: ctx.call, caller: ctx.ca, callee: ctx.ce, region: ctx.rg } as HandoffEvent;
          const job = this.alerts.victim(
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
        await this.alerts.publish(jobs, span);
      } finally {
        span.end();
      }
    }
    await due.exec();
    this.alerts.observe(jobs);
    return items.length;
  }
}
