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
