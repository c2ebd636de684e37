import { createHash } from 'node:crypto';
import { ingestV1 } from '@eagle-eye/contracts';
import { Pseudonymiser } from '@eagle-eye/pseudonym';
import { simulatorKey } from '../sim/city';
import { SimEvent } from '../sim/generator';
import { CARRIERS, CarrierId, REGIONS } from '../sim/model';
import { hash32 } from '../sim/prng';
import { numberCalls } from './number-stream';
import { foldOf, NumberProfile } from './profile';

const { CallEventType, CallerClass, CallerIdVerification, AgeBand } = ingestV1;
type CallEvent = ingestV1.CallEvent;

const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface ReplayOptions {
  seed: number;
  folds: number;
  /** the held-out fold: numbers with foldOf(id, folds, seed) === fold are replayed */
  fold: number;
  /** calendar days replayed per number */
  days: number;
  /** the UTC midnight every number's first calendar day is laid on (local UTC+8 days start 8 h before) */
  baseMs: number;
  /**
   * Salts the carriers' pseudonym keys and prefixes call and event ids, so that repeated runs on one
   * stack meet fresh numbers and fresh ids. The behaviour (who calls whom when, for how long) does not
   * depend on it: the fingerprint is the same for every run id.
   */
  runId: string;
  /** carriers to split the numbers across (default: the demo carriers) */
  carriers?: readonly CarrierId[];
}

/** One held-out labelled number as replayed. */
export interface ReplayNumber {
  /** position of the profile in the data file */
  index: number;
  token: string;
  carrierId: string;
  fraud: boolean;
  calls: number;
  outgoingCalls: number;
  /** its first active (local) calendar day, event time [start, end) */
  firstDayStartMs: number;
  firstDayEndMs: number;
}

/** One replayed (answered) call, with the tokens and ids sent. */
export interface ReplayCallRecord {
  callId: string;
  carrierId: string;
  caller: string;
  callee: string;
  /** the caller is a fraud number of the data */
  fraudCaller: boolean;
  startMs: number;
  answerMs: number;
  endMs: number;
  talkS: number;
}

export interface SichuanReplay {
  runId: string;
  seed: number;
  folds: number;
  fold: number;
  days: number;
  baseMs: number;
  numbers: ReplayNumber[];
  calls: ReplayCallRecord[];
  /** every event, in event-time order (ties: the order the calls were generated in) */
  events: SimEvent[];
  /** first event, last call start, last event (event time) */
  startMs: number;
  lastStartMs: number;
  endMs: number;
  /**
   * sha-256 of the behaviour replayed: every event with run-independent names (number index,
   * counterpart index, handset index) and times relative to baseMs. The same data, seed, fold and
   * days always give the same fingerprint, whatever the run id and the day the replay is laid on.
   */
  fingerprint: string;
}

/** The carrier a number reports through: deterministic by its pseudonym, weighted by carrier share. */
export function carrierOf(id: string, carriers: readonly CarrierId[]): CarrierId {
  const list = CARRIERS.filter((c) => carriers.includes(c.id));
  if (!list.length) throw new Error('no carrier to replay through');
  const total = list.reduce((s, c) => s + c.share, 0);
  let u = (hash32(`sichuan-carrier:${id}`) / 2 ** 32) * total;
  for (const c of list) {
    if (u < c.share) return c.id;
    u -= c.share;
  }
  return list[list.length - 1].id;
}

/** A domestic callee region (Sichuan prefecture code), deterministic by the callee's name. */
function regionOf(name: string): string {
  let u = hash32(`sichuan-region:${name}`) / 2 ** 32;
  for (const [code, w] of REGIONS) {
    if (u < w) return code;
    u -= w;
  }
  return REGIONS[0][0];
}

/** The profiles of the held-out fold, in file order. */
export function heldOut(profiles: NumberProfile[], o: Pick<ReplayOptions, 'seed' | 'folds' | 'fold'>) {
  const out: { index: number; profile: NumberProfile }[] = [];
  profiles.forEach((p, index) => {
    if (foldOf(p.id, o.folds, o.seed) === o.fold) out.push({ index, profile: p });
  });
  return out;
}

/**
 * Turns the held-out numbers into the events carriers stream: each number's calls over `days`
 * calendar days (apps/simulator/src/sichuan/number-stream.ts, faithful to its row), all laid on the
 * same UTC midnight, every call as ATTEMPT at its start, ANSWERED at its answer and ENDED at its end
 * with the talk time, exactly as the simulator's generator sends them. No spoofing hints: domestic
 * mobile callers (class MOBILE, country CN), attestation A, no display mismatch, a Sichuan callee
 * region, age band unknown. Tokens are well-formed pseudonyms (p1.<keyId>.<digest>) of the
 * number's carrier, derived from the number's index and counterpart index; a number and all its
 * counterparts report through one carrier, split deterministically by the number's pseudonym.
 */
export function buildReplay(profiles: NumberProfile[], o: ReplayOptions): SichuanReplay {
  if (!/^[A-Za-z0-9-]{1,20}$/.test(o.runId)) throw new Error('runId: 1-20 of [A-Za-z0-9-]');
  if (o.baseMs % DAY !== 0) throw new Error('baseMs must be a UTC midnight');
  const carriers = o.carriers ?? CARRIERS.map((c) => c.id);
  const pseudonymisers = new Map<string, Pseudonymiser>();
  for (const c of CARRIERS)
    pseudonymisers.set(c.id, new Pseudonymiser(simulatorKey(`sichuan/${o.runId}`, c.id), c.keyId));
  const tokenOf = (carrierId: string, name: string): string =>
    pseudonymisers.get(carrierId)!.token(`sichuan:${name}`);

  const numbers: ReplayNumber[] = [];
  const calls: ReplayCallRecord[] = [];
  const keyed: { t: number; seq: number; e: SimEvent }[] = [];
  const fp = createHash('sha256');
  fp.update(`sichuan-replay/1 seed=${o.seed} folds=${o.folds} fold=${o.fold} days=${o.days}\n`);
  let seq = 0;
  let callSeq = 0;

  for (const { index, profile: p } of heldOut(profiles, o)) {
    const carrierId = carrierOf(p.id, carriers);
    const name = `n${index}`;
    const rc = numberCalls(p, {
      seed: o.seed,
      days: o.days,
      startMs: o.baseMs,
      token: name,
      counterpartToken: (s, i) => `${s}c${i}`,
    });
    const token = tokenOf(carrierId, name);
    const first = rc.length ? rc[0].startMs : o.baseMs;
    const firstDayStartMs = o.baseMs - 8 * HOUR + Math.floor((first - (o.baseMs - 8 * HOUR)) / DAY) * DAY;
    numbers.push({
      index,
      token,
      carrierId,
      fraud: p.fraud,
      calls: rc.length,
      outgoingCalls: rc.filter((c) => c.outgoing).length,
      firstDayStartMs,
      firstDayEndMs: firstDayStartMs + DAY,
    });
    for (const c of rc) {
      const callId = `${o.runId}-${(callSeq++).toString(36)}`;
      const caller = tokenOf(carrierId, c.caller);
      const callee = tokenOf(carrierId, c.callee);
      // the subject's handset on its own calls; a counterpart calling in uses its own handset
      const deviceName = c.outgoing ? c.device : `${c.caller}-d0`;
      const region = regionOf(c.callee);
      calls.push({
        callId,
        carrierId,
        caller,
        callee,
        fraudCaller: c.outgoing && c.fraud,
        startMs: c.startMs,
        answerMs: c.answerMs,
        endMs: c.endMs,
        talkS: c.talkS,
      });
      fp.update(
        `${carrierId}|${c.caller}|${c.callee}|${deviceName}|${region}|${c.startMs - o.baseMs}|` +
          `${c.answerMs - o.baseMs}|${c.endMs - o.baseMs}|${c.talkS}\n`,
      );
      const common: Omit<CallEvent, 'eventId' | 'type' | 'eventTimeMs' | 'talkDurationS' | 'releaseCause'> = {
        callId,
        caller,
        callee,
        callerClass: CallerClass.MOBILE,
        callerCountry: 'CN',
        callerIdVerified: CallerIdVerification.ATTESTATION_A,
        callerDisplayMismatch: false,
        calleeRegion: region,
        calleeCell: '',
        callerDevice: tokenOf(carrierId, deviceName),
        calleeAgeBand: AgeBand.AGE_UNKNOWN,
      };
      const ev = (type: ingestV1.CallEventType, suffix: string, t: number, talk = 0, cause = ''): void => {
        keyed.push({
          t,
          seq: seq++,
          e: {
            carrierId: carrierId as CarrierId,
            event: {
              ...common,
              eventId: `${callId}.${suffix}`,
              type,
              eventTimeMs: t,
              talkDurationS: talk,
              releaseCause: cause,
            },
          },
        });
      };
      ev(CallEventType.CALL_ATTEMPT, 'a', c.startMs);
      ev(CallEventType.CALL_ANSWERED, 'n', c.answerMs);
      ev(CallEventType.CALL_ENDED, 'e', c.endMs, c.talkS, '16');
    }
  }
  keyed.sort((a, b) => a.t - b.t || a.seq - b.seq);
  const events = keyed.map((k) => k.e);
  return {
    runId: o.runId,
    seed: o.seed,
    folds: o.folds,
    fold: o.fold,
    days: o.days,
    baseMs: o.baseMs,
    numbers,
    calls,
    events,
    startMs: keyed.length ? keyed[0].t : o.baseMs,
    lastStartMs: calls.reduce((m, c) => Math.max(m, c.startMs), -Infinity),
    endMs: keyed.length ? keyed[keyed.length - 1].t : o.baseMs,
    fingerprint: fp.digest('hex'),
  };
}

/** sha-256 of the events exactly as sent (ids, tokens, times, every field). */
export function eventsHash(events: SimEvent[]): string {
  const h = createHash('sha256');
  for (const { carrierId, event: e } of events)
    h.update(
      `${carrierId}|${e.eventId}|${e.callId}|${e.type}|${e.eventTimeMs}|${e.caller}|${e.callee}|` +
        `${e.callerClass}|${e.callerCountry}|${e.callerIdVerified}|${e.callerDisplayMismatch}|` +
        `${e.calleeRegion}|${e.calleeCell}|${e.callerDevice}|${e.calleeAgeBand}|${e.talkDurationS}|${e.releaseCause}\n`,
    );
  return h.digest('hex');
}

/**
 * The replay as the stream runner consumes it (`peekTime` / `next`, like the simulator's
 * Generator): events in event-time order.
 */
export class ReplaySource {
  private i = 0;

  constructor(private readonly events: SimEvent[]) {}

  peekTime(): number {
    return this.i < this.events.length ? this.events[this.i].event.eventTimeMs : Infinity;
  }

  next(): SimEvent | undefined {
    return this.i < this.events.length ? this.events[this.i++] : undefined;
  }

  get sent(): number {
    return this.i;
  }
}
