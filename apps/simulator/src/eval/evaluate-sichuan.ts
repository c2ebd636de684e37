import type { AlertView } from '@eagle-eye/contracts';
import { median, percentile } from './evaluate';

/** What the evaluation needs to know of a replay (see sichuan/replay.ts). */
export interface SichuanTruth {
  /** call ids of the replay start with `${runId}-` */
  runId: string;
  numbers: {
    token: string;
    carrierId: string;
    fraud: boolean;
    outgoingCalls: number;
    firstDayStartMs: number;
    firstDayEndMs: number;
  }[];
  calls: {
    callId: string;
    carrierId: string;
    caller: string;
    callee: string;
    fraudCaller: boolean;
    answerMs: number;
    endMs: number;
    talkS: number;
  }[];
  /** event time of the first and the last event */
  startMs: number;
  endMs: number;
}

/** An alert and the event time it was raised at. */
export interface TimedAlert {
  view: AlertView;
  /** event time (epoch ms) the alert counts at */
  eventMs: number;
}

export interface SichuanOptions {
  operators: number;
  /** a hooked victim's call lasts at least this long (seconds) */
  hookedMinTalkS?: number;
}

export interface SichuanFigures {
  /** callees of a fraud number's outgoing answered call of >= hookedMinTalkS */
  hookedVictims: number;
  /** ... with a victim_on_call alert on such a call raised before that call's end */
  alertedOnCall: number;
  recallOnCall: number | null;
  /** ... with any victim alert on such a call (also after it) */
  alertedAtAll: number;
  /** event-time seconds from the answer of the call to its first on-call alert, victims alerted on the call */
  answerToAlertS: number[];
  medianAnswerToAlertS: number | null;
  p90AnswerToAlertS: number | null;
  /** victim_on_call and post_call alerts about the replay's calls */
  victimAlerts: number;
  /** ... whose suspect is a fraud number */
  victimAlertsTrue: number;
  victimPrecision: number | null;
  falseVictimAlerts: number;
  /** answered calls whose caller is not a fraud number */
  legitAnsweredCalls: number;
  falseVictimAlertsPerMillion: number | null;
  caller: {
    /** numbers with outgoing calls in the replay, and the fraud ones among them */
    numbers: number;
    fraudNumbers: number;
    /** numbers named by a suspect_number alert raised within their first active day */
    flagged: number;
    flaggedFraud: number;
    /** counterparts of the replay (unlabelled, presumed legitimate) named by a suspect_number alert */
    flaggedCounterparts: number;
    precision: number | null;
    recall: number | null;
    f1: number | null;
    /** fraud numbers flagged only after their first active day */
    fraudFlaggedLater: number;
  };
  /** numbers that place no call in the replay (they cannot be caught as callers) */
  withoutOutgoing: { fraud: number; normal: number; flagged: number };
  alertsTotal: number;
  alertsByKind: Record<string, number>;
  alertsByRule: Record<string, number>;
  operators: number;
  /** event-time hours of the replay */
  hours: number;
  alertsPerOperatorHour: number | null;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const k = (carrierId: string, x: string): string => `${carrierId}/${x}`;

/**
 * The figures of a Sichuan replay from its truth and the alerts raised about it. Pure arithmetic
 * (the spec pins each figure on a hand-made case):
 *  - a hooked victim is the callee of a fraud number's outgoing answered call lasting >= 180 s
 *    (one per carrier and callee; several such calls of one callee make one victim);
 *  - it is alerted on the call when a victim_on_call alert about one of those calls (by call id)
 *    counts at an event time no later than that call's end; answer-to-alert is from that call's
 *    answer to the first such alert (never negative);
 *  - victim-alert precision is the share of victim alerts (victim_on_call, post_call) whose suspect
 *    is a fraud number; every other victim alert is false, and counts per million answered calls
 *    whose caller is not a fraud number;
 *  - a number is flagged when a suspect_number alert names it with an event time within its first
 *    active day; caller precision, recall and F1 are over the numbers with outgoing calls, a flagged
 *    counterpart counting as a false positive; numbers without outgoing calls are reported apart;
 *  - alerts per operator-hour: every alert about the replay over operators x event-time hours.
 */
export function evaluateSichuan(gt: SichuanTruth, alerts: TimedAlert[], o: SichuanOptions): SichuanFigures {
  const minTalk = o.hookedMinTalkS ?? 180;
  const byCall = new Map<string, SichuanTruth['calls'][number]>();
  for (const c of gt.calls) byCall.set(k(c.carrierId, c.callId), c);
  const numberByToken = new Map<string, SichuanTruth['numbers'][number]>();
  for (const n of gt.numbers) numberByToken.set(k(n.carrierId, n.token), n);
  const fraudToken = (carrierId: string, token: string): boolean =>
    numberByToken.get(k(carrierId, token))?.fraud === true;

  const alertsByKind: Record<string, number> = {};
  const alertsByRule: Record<string, number> = {};
  for (const a of alerts) {
    alertsByKind[a.view.kind] = (alertsByKind[a.view.kind] ?? 0) + 1;
    for (const rule of new Set(a.view.reasons.filter((r) => r.points > 0).map((r) => r.rule)))
      alertsByRule[rule] = (alertsByRule[rule] ?? 0) + 1;
  }

  // hooked victims
  const victims = new Map<string, Set<string>>();
  for (const c of gt.calls) {
    if (!c.fraudCaller || c.talkS < minTalk) continue;
    const v = k(c.carrierId, c.callee);
    let s = victims.get(v);
    if (!s) victims.set(v, (s = new Set()));
    s.add(k(c.carrierId, c.callId));
  }
  const victimAlerts = alerts.filter((a) => a.view.kind === 'victim_on_call' || a.view.kind === 'post_call');
  /** per hooked call: first on-call alert time, and whether any victim alert came */
  const onCallFirst = new Map<string, number>();
  const anyAlert = new Set<string>();
  for (const a of victimAlerts) {
    if (!a.view.callId) continue;
    const ck = k(a.view.carrierId, a.view.callId);
    const c = byCall.get(ck);
    if (!c) continue;
    anyAlert.add(ck);
    if (a.view.kind !== 'victim_on_call' || a.eventMs > c.endMs) continue;
    const prev = onCallFirst.get(ck);
    if (prev === undefined || a.eventMs < prev) onCallFirst.set(ck, a.eventMs);
  }
  let alertedOnCall = 0;
  let alertedAtAll = 0;
  const times: number[] = [];
  for (const callKeys of victims.values()) {
    let best: number | null = null;
    let any = false;
    for (const ck of callKeys) {
      if (anyAlert.has(ck)) any = true;
      const t = onCallFirst.get(ck);
      if (t === undefined) continue;
      const dt = Math.max(0, (t - byCall.get(ck)!.answerMs) / 1000);
      if (best === null || dt < best) best = dt;
    }
    if (any) alertedAtAll++;
    if (best !== null) {
      alertedOnCall++;
      times.push(best);
    }
  }

  // victim-alert precision and false alerts
  let victimTrue = 0;
  for (const a of victimAlerts) if (fraudToken(a.view.carrierId, a.view.suspect)) victimTrue++;
  const falseVictim = victimAlerts.length - victimTrue;
  const legit = gt.calls.filter((c) => !c.fraudCaller).length;

  // callers flagged within their first active day
  const counterparts = new Set<string>();
  for (const c of gt.calls) {
    for (const t of [c.caller, c.callee])
      if (!numberByToken.has(k(c.carrierId, t))) counterparts.add(k(c.carrierId, t));
  }
  const flaggedInDay = new Set<string>();
  const flaggedEver = new Set<string>();
  const flaggedCp = new Set<string>();
  for (const a of alerts) {
    if (a.view.kind !== 'suspect_number') continue;
    const key = k(a.view.carrierId, a.view.suspect);
    const n = numberByToken.get(key);
    if (!n) {
      if (counterparts.has(key)) flaggedCp.add(key);
      continue;
    }
    flaggedEver.add(key);
    if (a.eventMs >= n.firstDayStartMs && a.eventMs < n.firstDayEndMs) flaggedInDay.add(key);
  }
  const callers = gt.numbers.filter((n) => n.outgoingCalls > 0);
  const silent = gt.numbers.filter((n) => n.outgoingCalls === 0);
  const isFlagged = (n: SichuanTruth['numbers'][number]): boolean =>
    flaggedInDay.has(k(n.carrierId, n.token));
  const fraudCallers = callers.filter((n) => n.fraud);
  const tp = fraudCallers.filter(isFlagged).length;
  const flagged = callers.filter(isFlagged).length;
  const precision = ratio(tp, flagged + flaggedCp.size);
  const recall = ratio(tp, fraudCallers.length);
  const f1 =
    precision !== null && recall !== null && precision + recall > 0
      ? (2 * precision * recall) / (precision + recall)
      : precision !== null && recall !== null
        ? 0
        : null;
  const later = fraudCallers.filter((n) => !isFlagged(n) && flaggedEver.has(k(n.carrierId, n.token))).length;

  const hours = Math.max(0, gt.endMs - gt.startMs) / 3_600_000;
  return {
    hookedVictims: victims.size,
    alertedOnCall,
    recallOnCall: ratio(alertedOnCall, victims.size),
    alertedAtAll,
    answerToAlertS: [...times].sort((a, b) => a - b),
    medianAnswerToAlertS: median(times),
    p90AnswerToAlertS: percentile(times, 90),
    victimAlerts: victimAlerts.length,
    victimAlertsTrue: victimTrue,
    victimPrecision: ratio(victimTrue, victimAlerts.length),
    falseVictimAlerts: falseVictim,
    legitAnsweredCalls: legit,
    falseVictimAlertsPerMillion: legit > 0 ? (falseVictim * 1e6) / legit : null,
    caller: {
      numbers: callers.length,
      fraudNumbers: fraudCallers.length,
      flagged,
      flaggedFraud: tp,
      flaggedCounterparts: flaggedCp.size,
      precision,
      recall,
      f1,
      fraudFlaggedLater: later,
    },
    withoutOutgoing: {
      fraud: silent.filter((n) => n.fraud).length,
      normal: silent.filter((n) => !n.fraud).length,
      flagged: silent.filter((n) => flaggedEver.has(k(n.carrierId, n.token))).length,
    },
    alertsTotal: alerts.length,
    alertsByKind,
    alertsByRule,
    operators: o.operators,
    hours,
    alertsPerOperatorHour: hours > 0 && o.operators > 0 ? alerts.length / (o.operators * hours) : null,
  };
}
