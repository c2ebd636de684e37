import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  AlertJobName,
  HandoffEvent,
  Severity,
  SuspectNumberJob,
  VictimOnCallJob,
} from '@eagle-eye/contracts';
import { failSpan, startSpan, traceparentOf, withSpan } from '@eagle-eye/observability';
import type { Span } from '@opentelemetry/api';
import { AlertJob } from '../detection/alert.publisher';
import { alertsRaised, detectionLatency, ruleHits } from '../metrics';
import { featureSnapshot, Score } from '../scoring/score';
import { ALERT_SINK, AlertSink, Work } from './work';

/**
 * The alert jobs the stages raise: builds their payloads, publishes them traced, counts them, and
 * remembers the suspect-number alerts this replica has raised (a re-add of the same job id is
 * skipped before it reaches the queue).
 */
@Injectable()
export class AlertJobs {
  private readonly logger = new Logger('Detection');
  /** suspect alerts already raised by this replica: skips re-adding the same job id */
  private readonly suspectsRaised = new Set<string>();

  constructor(
    @Inject(ALERT_SINK) private readonly sink: AlertSink,
    /** the wall clock of raisedAt (a replay's clock in backtests) */
    @Optional() private readonly clock: () => number = Date.now,
  ) {}

  victim(
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

  /**
   * A suspect-number alert for the work's caller, unless this replica raised it already or the
   * round has it (`raised`: the round's keys, remembered once the round is published).
   */
  suspect(w: Work, region: string, severity: Severity, jobs: AlertJob[], raised: string[]): void {
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

  /** The end of an alerted call (the worker closes its alert's live phase). */
  callEnded(w: Work, talkS: number): AlertJob {
    return {
      name: AlertJobName.CallEnded,
      data: {
        carrierId: w.carrierId,
        callId: w.ev.call,
        callEndedAt: w.ev.t,
        talkTimeS: talkS,
        raisedAt: this.clock(),
        ...(w.trace ? { traceparent: w.trace } : {}),
      },
    };
  }

  /** Remembers a published round's suspect-number alerts (see suspect). */
  rememberSuspects(keys: string[]): void {
    if (this.suspectsRaised.size > 100_000) this.suspectsRaised.clear();
    for (const k of keys) this.suspectsRaised.add(k);
  }

  /**
   * Publishes alert jobs, each under a span of its own in the trace of the batch that raised it
   * (the round's trace when that batch had none), linked to the round: the job carries that span's
   * traceparent to the worker, and the debug line saying so carries its trace_id. Spans per job,
   * never per event.
   */
  async publish(jobs: AlertJob[], round: Span | undefined): Promise<void> {
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
      await this.sink.publish(urgentFirst(jobs));
    } catch (e) {
      for (const s of spans) failSpan(s, e);
      throw e;
    }
    for (const s of spans) s.end();
  }

  /** Counts raised alerts (metrics): kinds, rule hits, detection latency. */
  observe(jobs: AlertJob[]): void {
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
}

/**
 * A round's jobs in the order they go to the queue, which the worker takes them in (one round trip
 * to Redis each, and a round can raise dozens): a victim still on the call first, then one whose
 * call has ended, then suspect numbers, then the ends of alerted calls; in the round's order within
 * each. Jobs of one round concern different alerts or are merged in any order by the worker (a call
 * end that arrives before its alert is kept for it), and the change seq is given at commit.
 */
export function urgentFirst(jobs: AlertJob[]): AlertJob[] {
  const rank = (j: AlertJob): number =>
    j.name === AlertJobName.VictimOnCall
      ? j.data.kind === 'victim_on_call'
        ? 0
        : 1
      : j.name === AlertJobName.SuspectNumber
        ? 2
        : 3;
  return jobs
    .map((j, i) => ({ j, i, r: rank(j) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.j);
}
