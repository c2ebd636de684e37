import type { ReasonCode, ReasonParams } from './reasons';

/**
 * Alert jobs: apps/detector -> BullMQ -> apps/alert-worker, and the alert as consoles see it.
 * Queue and job names are string enums with a payload map, so a producer and a consumer cannot
 * disagree on a name or a shape.
 */
export enum QueueName {
  Alerts = 'alerts',
}

export enum AlertJobName {
  /** An answered call with a likely scammer: raised, upgraded, or (post_call) raised after it ended. */
  VictimOnCall = 'victim-on-call',
  /** The call behind a victim-on-call alert ended: callEndedAt and talk time. */
  CallEnded = 'call-ended',
  /** A caller whose own score crossed the threshold (the carrier must re-verify the SIM). */
  SuspectNumber = 'suspect-number',
}

export type AlertKind = 'victim_on_call' | 'post_call' | 'suspect_number';
export type Severity = 'warning' | 'critical';
export type AlertState = 'open' | 'claimed' | 'escalated' | 'closed';
export type AlertOutcome = 'dissuaded' | 'victim_unreachable' | 'false_positive' | 'confirmed_fraud';

/** One rule's contribution to a score, explainable to an operator. */
export interface AlertReason {
  /** rule id, for example `fanout` */
  rule: string;
  points: number;
  /**
   * which sentence of the rule (reasons.ts REASON_MESSAGES_EN), for example `fanout_hour`; the
   * console words it in the operator's language. Absent on reasons stored before codes existed:
   * then `text` is all there is.
   */
  code?: ReasonCode;
  /** the sentence's figures, for example `{ distinct: 143 }` */
  params?: ReasonParams;
  /** the same in English words, for example "called 143 different people in the last hour" */
  text: string;
  /** true when the rule is report-only: it is shown and counted but did not decide the alert */
  reportOnly?: boolean;
}

export interface VictimOnCallJob {
  kind: 'victim_on_call' | 'post_call';
  carrierId: string;
  callId: string;
  victim: string;
  suspect: string;
  region: string;
  severity: Severity;
  score: number;
  reasons: AlertReason[];
  /** epoch ms */
  callAnsweredAt: number;
  /** epoch ms, set for post_call alerts */
  callEndedAt?: number;
  talkTimeS?: number;
  /** the duration step (seconds since answer) that raised or upgraded it, 0 for at-answer */
  stepS: number;
  /** event time of the event (or sweep time) that raised it, epoch ms */
  eventTimeMs: number;
  /** when ingest accepted the triggering event, epoch ms (for end-to-end latency) */
  ingestedAtMs?: number;
  /** when the detector enqueued the job, epoch ms */
  raisedAt: number;
  /** W3C traceparent of the detector's span for this alert, in the carrier batch's trace */
  traceparent?: string;
  /**
   * The suspect's caller-model features at this moment, in libs/scoring's FEATURE_NAMES order, when
   * the model judged it. The worker keeps them with the alert's evidence: once a desk records the
   * outcome or a supervisor reviews reports of the number, they are labelled rows the model is
   * retrained on (README "The learned caller-risk model": feedback).
   */
  callerFeatures?: number[];
}

export interface CallEndedJob {
  carrierId: string;
  callId: string;
  callEndedAt: number;
  talkTimeS: number;
  raisedAt: number;
  /** W3C traceparent (the batch that carried the call's end) */
  traceparent?: string;
}

export interface SuspectNumberJob {
  kind: 'suspect_number';
  carrierId: string;
  suspect: string;
  /** region where most of its recent callees live, when known */
  region?: string;
  severity: Severity;
  score: number;
  reasons: AlertReason[];
  eventTimeMs: number;
  raisedAt: number;
  /** W3C traceparent of the detector's span for this alert, in the carrier batch's trace */
  traceparent?: string;
  /** the suspect's caller-model features when the model judged it (as VictimOnCallJob's) */
  callerFeatures?: number[];
}

export interface AlertJobPayloads {
  [AlertJobName.VictimOnCall]: VictimOnCallJob;
  [AlertJobName.CallEnded]: CallEndedJob;
  [AlertJobName.SuspectNumber]: SuspectNumberJob;
}

/**
 * Deterministic job ids: a re-add of the same fact is ignored by BullMQ, a new fact (an upgrade
 * to critical, the call's end) gets a new id. BullMQ forbids ':' in custom ids.
 */
export function alertJobId<N extends AlertJobName>(name: N, p: AlertJobPayloads[N]): string {
  switch (name) {
    case AlertJobName.VictimOnCall: {
      const j = p as VictimOnCallJob;
      return `voc|${j.carrierId}|${j.callId}|${j.kind}|${j.severity}|${j.stepS}`;
    }
    case AlertJobName.CallEnded: {
      const j = p as CallEndedJob;
      return `end|${j.carrierId}|${j.callId}`;
    }
    case AlertJobName.SuspectNumber: {
      const j = p as SuspectNumberJob;
      return `sus|${j.carrierId}|${j.suspect}|${j.severity}`;
    }
    default:
      throw new Error(`unknown alert job ${String(name)}`);
  }
}

/** The alert as the console API and socket.io events carry it. Times are ISO 8601 strings. */
export interface AlertView {
  id: string;
  kind: AlertKind;
  callId: string | null;
  carrierId: string;
  victim: string | null;
  suspect: string;
  region: string | null;
  severity: Severity;
  score: number;
  reasons: AlertReason[];
  callAnsweredAt: string | null;
  callEndedAt: string | null;
  talkTimeS: number | null;
  raisedAt: string;
  updatedAt: string;
  state: AlertState;
  /** the carrier desk's claim (state `claimed`): who is calling the victim */
  claimedBy: string | null;
  claimedAt?: string | null;
  /** the police claim, held beside the desk's so that neither locks the other out */
  policeClaimedBy?: string | null;
  policeClaimedAt?: string | null;
  outcome: AlertOutcome | null;
  /** monotonically increasing per alert change; clients resume from the last one they saw */
  seq: number;
  /** routed to the police room of its region (critical, suspect number, unclaimed in time, escalated) */
  routedToPolice?: boolean;
  /** why it reached police: `critical`, `suspect_number`, `unclaimed`, `escalated` */
  policeReason?: string | null;
  /**
   * trace id (W3C, 32 hex): the carrier batch's trace, so logs and spans of ingest, detector and
   * worker can be found for it. On socket events the alert worker publishes, the trace of the change
   * the event carries; in REST answers (and replays), the trace of the alert's latest detection
   * change (alerts.trace_id, migration 096), null when none is known. Alert history entries keep
   * each change's under `detail.traceId`.
   */
  traceId?: string | null;
}

/** socket.io events of the `/alerts` namespace, server to client. */
export interface AlertServerEvents {
  'alert.created': (alert: AlertView) => void;
  'alert.updated': (alert: AlertView) => void;
}

// --- alert-worker internals and console extras (additive; the detector need not use them) ---

/**
 * Options every producer of alert jobs passes to `Queue.add` (the detector, the console's
 * dead-letter retry, the benchmarks): retries with exponential backoff, completed jobs kept for a
 * day or the last 200,000 (a deterministic re-add within that time is ignored), failed jobs kept
 * until the worker has copied them to the dead-letter queue.
 */
export const ALERT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 200000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/**
 * Jobs the alert worker scheduled for itself on the alerts queue before the escalation sweep (a
 * delayed job per alert, id `esc|<alertId>`). It schedules none now and still processes those left
 * queued by an earlier version.
 */
export enum AlertTimerJobName {
  /** fires when an alert has not been claimed by a carrier operator in time: route it to police */
  EscalateUnclaimed = 'escalate-unclaimed',
}

export interface EscalateUnclaimedJob {
  alertId: string;
}

/** Alert jobs that exhausted their retries, copied here for SREs (same job id as the original). */
export const ALERTS_DEAD_LETTER_QUEUE = 'alerts-dead-letter';

export interface DeadLetterJob {
  name: string;
  data: unknown;
  originalJobId: string | null;
  failedReason: string;
  attemptsMade: number;
  failedAt: number;
}

/** socket.io rooms of the `/alerts` namespace. */
export const AlertRooms = {
  carrier: (carrierId: string) => `carrier:${carrierId}`,
  region: (region: string) => `region:${region}`,
  /** supervisors and admins */
  all: 'all',
} as const;

/** Sent once after a (re)connect's replay of missed alerts: `seq` is the newest replayed. */
export interface AlertReplayDone {
  seq: number;
  count: number;
}

/**
 * The rooms an alert goes to: its carrier's desk and supervisors always, the police of its region
 * once it is routed to police (critical, suspect number, unclaimed in time, escalated by hand).
 */
export function roomsForAlert(view: Pick<AlertView, 'carrierId' | 'region' | 'routedToPolice'>): string[] {
  const rooms: string[] = [AlertRooms.carrier(view.carrierId), AlertRooms.all];
  if (view.routedToPolice && view.region) rooms.push(AlertRooms.region(view.region));
  return rooms;
}
