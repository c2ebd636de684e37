import { ingestV1 } from '@eagle-eye/contracts';
import { Pseudonymiser } from '@eagle-eye/pseudonym';

/** Test and benchmark helpers: well-formed call events made with a fixed demo key. */
const pseudonymiser = new Pseudonymiser(Buffer.alloc(32, 7), 'k1');
const tokens: string[] = [];

/** The pseudonym token of test subscriber n (cached: HMACs are not what a benchmark measures). */
export function subscriberToken(n: number): string {
  const i = n % 100000;
  while (tokens.length <= i)
    tokens.push(pseudonymiser.phoneToken(`+8613800${String(tokens.length).padStart(6, '0')}`));
  return tokens[i];
}

export function goodEvent(over: Partial<ingestV1.CallEvent> = {}, now = Date.now()): ingestV1.CallEvent {
  return {
    eventId: 'ev-1',
    callId: 'call-1',
    type: ingestV1.CallEventType.CALL_ATTEMPT,
    eventTimeMs: now,
    caller: subscriberToken(1),
    callee: subscriberToken(2),
    callerClass: ingestV1.CallerClass.MOBILE,
    callerCountry: 'CN',
    callerIdVerified: ingestV1.CallerIdVerification.ATTESTATION_A,
    callerDisplayMismatch: false,
    calleeRegion: '510100',
    calleeCell: '',
    callerDevice: '',
    calleeAgeBand: ingestV1.AgeBand.AGE_29_45,
    talkDurationS: 0,
    releaseCause: '',
    ...over,
  };
}

/** `count` events of calls of three events each (attempt, answered, ended), ids prefixed. */
export function callEvents(
  prefix: string,
  start: number,
  count: number,
  now = Date.now(),
): ingestV1.CallEvent[] {
  const out: ingestV1.CallEvent[] = [];
  for (let i = start; i < start + count; i++) {
    const call = Math.floor(i / 3);
    const step = i % 3;
    const type =
      step === 0
        ? ingestV1.CallEventType.CALL_ATTEMPT
        : step === 1
          ? ingestV1.CallEventType.CALL_ANSWERED
          : ingestV1.CallEventType.CALL_ENDED;
    out.push(
      goodEvent(
        {
          eventId: `${prefix}-e${i}`,
          callId: `${prefix}-c${call}`,
          type,
          eventTimeMs: now - 1000 + step,
          caller: subscriberToken(call * 2),
          callee: subscriberToken(call * 2 + 1),
          talkDurationS: step === 2 ? 42 : 0,
          releaseCause: step === 2 ? '16' : '',
        },
        now,
      ),
    );
  }
  return out;
}

/**
 * A call centre's recent past: `count` calls from `scammer` to distinct strangers (subscribers
 * `calleeBase` onwards), none answered, the first at `firstMs` and one every `spacingMs`, each
 * ending 20 s after its attempt. Call ids `${tag}-f<i>`, event ids the call id plus `-a` / `-e`.
 */
export function unansweredFanOut(o: {
  tag: string;
  scammer: string;
  firstMs: number;
  spacingMs: number;
  calleeBase: number;
  count?: number;
}): ingestV1.CallEvent[] {
  const out: ingestV1.CallEvent[] = [];
  for (let i = 0; i < (o.count ?? 30); i++) {
    const t = o.firstMs + i * o.spacingMs;
    const callId = `${o.tag}-f${i}`;
    const call = { callId, caller: o.scammer, callee: subscriberToken(o.calleeBase + i) };
    out.push(
      goodEvent({
        ...call,
        eventId: `${callId}-a`,
        type: ingestV1.CallEventType.CALL_ATTEMPT,
        eventTimeMs: t,
      }),
      goodEvent({
        ...call,
        eventId: `${callId}-e`,
        type: ingestV1.CallEventType.CALL_ENDED,
        eventTimeMs: t + 20_000,
      }),
    );
  }
  return out;
}

/**
 * An elderly subscriber answering `caller`'s call `callId`: the attempt 15 s and the answer 10 s
 * before `now` (event ids the call id plus `-a` / `-n`); the call is still going on.
 */
export function answeredByElderly(
  callId: string,
  caller: string,
  callee: string,
  now: number,
): ingestV1.CallEvent[] {
  const call = { callId, caller, callee, calleeAgeBand: ingestV1.AgeBand.AGE_65_PLUS };
  return [
    goodEvent({
      ...call,
      eventId: `${callId}-a`,
      type: ingestV1.CallEventType.CALL_ATTEMPT,
      eventTimeMs: now - 15_000,
    }),
    goodEvent({
      ...call,
      eventId: `${callId}-n`,
      type: ingestV1.CallEventType.CALL_ANSWERED,
      eventTimeMs: now - 10_000,
    }),
  ];
}
