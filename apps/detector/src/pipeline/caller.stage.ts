import { Inject, Injectable, Optional } from '@nestjs/common';
import { HandoffEntry, HandoffEvent } from '@eagle-eye/contracts';
import { failSpan, linksTo, startSpan } from '@eagle-eye/observability';
import type { Span } from '@opentelemetry/api';
import { AlertJob } from '../detection/alert.publisher';
import { callFp, numberFp } from '../detection/fingerprint';
import { BatchRef } from '../lua/caller-args';
import { CallerStatus, CallMask } from '../lua/caller-reply';
import type { ModelSource } from '../scoring/model-registry';
import { scoreCaller, suspectSeverity } from '../scoring/score';
import { WindowsRepository } from '../windows/windows.repository';
import { AlertJobs } from './alert-jobs';
import { BatchStats, callerEvent, facts, MODEL_SOURCE, RULE_SOURCE, RuleSource, Staged, Work } from './work';

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

/** Whether the works are in event-time order already (one partition's round usually is). */
function inTimeOrder(works: Work[]): boolean {
  for (let i = 1; i < works.length; i++) if (works[i].ev.t < works[i - 1].ev.t) return false;
  return true;
}

/**
 * First stage of a round: the caller (and device) scripts of every event, caller scores and
 * suspect-number alerts. The consumer runs it for the next round while the previous round is in
 * the callee stage; both stages keep round order, so a call's events stay in order.
 */
@Injectable()
export class CallerStage {
  constructor(
    private readonly windows: WindowsRepository,
    @Inject(RULE_SOURCE) private readonly rules: RuleSource,
    private readonly alerts: AlertJobs,
    @Optional() @Inject(MODEL_SOURCE) private readonly models?: ModelSource,
  ) {}

  async apply(entries: HandoffEntry[]): Promise<Staged> {
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
      return await this.applyScripts(works, stats, span);
    } catch (e) {
      failSpan(span, e);
      throw e;
    }
  }

  private async applyScripts(works: Work[], stats: BatchStats, span: Span): Promise<Staged> {
    // Entries of several partitions arrive together: apply them in event-time order (stable, so
    // the events of one call keep ingest's order when their times tie).
    if (!inTimeOrder(works)) works.sort((a, b) => a.ev.t - b.ev.t);
    const observingSince = await this.windows.observingSince(works[0].ev.t);
    const jobs: AlertJob[] = [];
    const suspectKeys: string[] = [];

    // caller windows and device SIMs: one script call per key group for the whole round
    const batch = this.windows.newCallerBatch();
    // each work's reply references (numbers; 0: the event names no handset)
    const refs: BatchRef[] = [];
    const deviceRefs: BatchRef[] = [];
    for (const w of works) {
      refs.push(batch.add(callerEvent('a', w.ev.t, w, TYPE_CODE[w.ev.type])));
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
      w.caller = scoreCaller(w.rules, windows, facts(w), observingSince, this.models);
      const sev = suspectSeverity(w.rules, w.caller);
      if (sev) this.alerts.suspect(w, windows.region, sev, jobs, suspectKeys);
    }

    return { works, stats, jobs, suspectKeys, span };
  }
}
