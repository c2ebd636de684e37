import { AgeBandName, Attestation, CallerClassName, HandoffEvent, Severity } from '@eagle-eye/contracts';
import { list, num, ResolvedRules } from '@eagle-eye/rules';
import type { Span } from '@opentelemetry/api';
import { numberFp } from '../detection/fingerprint';
import type { AlertJob } from '../detection/alert.publisher';
import { CalleeEventArgs, CallerEventArgs } from '../lua/caller-args';
import { CallerStatus, CallMask } from '../lua/caller-reply';
import { CallFacts, Score } from '../scoring/score';
import { AlertClaim, DueCall, WindowsOptions } from '../windows/windows.repository';

/** The detection pipeline's settings (see detectionOptions in config.ts). */
export interface DetectionOptions extends WindowsOptions {
  partitions: number;
  /** where caller windows are applied (DETECTOR_CALLER_WINDOWS): caller-batch-1.lua by default */
  callerWindows?: 'script' | 'node';
  /** 'node' windows: numbers held in memory between rounds (DETECTOR_CALLER_STATES_HELD) */
  callerStatesHeld?: number;
  /**
   * 'node' windows: how long a changed number's windows may wait in the detector before they are
   * written (DETECTOR_WINDOWS_WRITE_DELAY_MS); 0 writes them every round. The hand-off entries of a
   * round are acknowledged only once every number it changed has been written.
   */
  callerWriteDelayMs?: number;
}

/** The rule set of each carrier (the rules cache; fixed rules in backtests and benchmarks). */
export interface RuleSource {
  forCarrier(carrierId: string): ResolvedRules;
}

/** Where alert jobs go (the alert queue; a collecting sink in backtests and tests). */
export interface AlertSink {
  publish(jobs: AlertJob[]): Promise<void>;
}

/** Nest injection tokens of the stages' interface-typed dependencies (see DetectorModule). */
export const RULE_SOURCE = Symbol('RULE_SOURCE');
export const ALERT_SINK = Symbol('ALERT_SINK');
/** a ModelSource (optional: no model opinion without one) */
export const MODEL_SOURCE = Symbol('MODEL_SOURCE');
/** CallerStates when the caller windows are applied in the detector (DETECTOR_CALLER_WINDOWS=node), else null */
export const CALLER_STATES = Symbol('CALLER_STATES');

export interface BatchStats {
  applied: number;
  duplicate: number;
  late: number;
  malformed: number;
  alerts: number;
}

/** One event on its way through the stages, with what the caller stage learnt about it. */
export interface Work {
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

/** A batch between the caller stage and the callee stage. */
export interface Staged {
  works: Work[];
  stats: BatchStats;
  jobs: AlertJob[];
  suspectKeys: string[];
  /** the round's span (one per round, linked to the batches it applied), ended by the callee stage */
  span?: Span;
  /** the caller windows' round (CallerStates.beginRound): acknowledged once durable */
  round?: number;
}

/** Call context stored on the callee's key while the call runs (what the sweep needs to re-score). */
export interface StoredCall {
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

/** What the callee side keeps about a call in progress, so the sweep can score it later. */
export function storedCall(w: Work): StoredCall {
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

/**
 * An answer whose call has ended before it was applied (its end is in the call's guard): either
 * redelivered (a duplicate: the replica that first applied it died before its second stage) or
 * applied after its end (the end was read first: a replica died before applying the answer and the
 * next owner read the call's end, a new entry, before it took the answer's pending entry over; or
 * a carrier sent them out of order). The alert due at the answer is raised after the fact.
 */
export function lateAnswer(w: Work): boolean {
  return (
    w.ev.type === 'ANSWERED' &&
    (w.status === CallerStatus.Duplicate || w.status === CallerStatus.Applied) &&
    (w.mask & CallMask.Ended) !== 0
  );
}

/** The call's member of the due sets. */
export function dueCall(w: Work): DueCall {
  return { carrierId: w.carrierId, callee: w.ev.callee, caller: w.ev.caller, callId: w.ev.call };
}

export function facts(w: Work): CallFacts {
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
export function callerEvent(
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

/** One answered or ended call (or a read) for the callee-batch script, on the called number. */
export function calleeEvent(
  op: 'a' | 'r' | 'c',
  t: number,
  w: Work,
  type: 'N' | 'E',
  x: {
    talk: number;
    suspect: boolean;
    ctx: string;
    countReceived?: boolean;
    keepEnd?: boolean;
    back?: boolean;
  },
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
    keepEnd: x.keepEnd ?? false,
    ctx: x.ctx,
    ringMs: num(w.rules.ring_relay, 'windowS') * 1000,
    minTalkS: num(w.rules.familiar, 'minTalkS'),
    countReceived: x.countReceived ?? false,
    back: x.back,
  };
}

/** A victim alert claim on `victim`'s state key, with the carrier's cooldown. */
export function claimCall(
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
export function nextStep(rules: ResolvedRules, durationS: number): number | null {
  const next = list<number>(rules.long_call, 'stepsS')
    .filter((s) => s > durationS)
    .sort((a, b) => a - b)[0];
  if (next !== undefined) return next;
  const every = num(rules.long_call, 'recheckS');
  return every > 0 ? (Math.floor(durationS / every) + 1) * every : null;
}
