import { Pseudonymiser } from '@eagle-eye/pseudonym';
import { callEventToHandoff, parseCallEventLine } from './call-event-ndjson';
import * as ingestV1 from './generated/eagleeye/v1/ingest';

const ps = new Pseudonymiser(Buffer.alloc(32, 3), 'k1');
const T = Date.UTC(2026, 0, 5, 9, 0, 0);
const event = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...(ingestV1.CallEvent.toJSON({
    eventId: 'e-1',
    callId: 'c-1',
    type: ingestV1.CallEventType.CALL_ENDED,
    eventTimeMs: T,
    caller: ps.phoneToken('+8613800000001'),
    callee: ps.phoneToken('+8613800000002'),
    callerClass: ingestV1.CallerClass.MOBILE,
    callerCountry: 'CN',
    callerIdVerified: ingestV1.CallerIdVerification.ATTESTATION_A,
    callerDisplayMismatch: false,
    calleeRegion: '510100',
    calleeCell: '',
    callerDevice: '',
    calleeAgeBand: ingestV1.AgeBand.AGE_65_PLUS,
    talkDurationS: 95,
    releaseCause: '',
  }) as Record<string, unknown>),
  ...over,
});

describe('call-event NDJSON', () => {
  it('reads both shapes: a bare event, and {carrierId, event} as the simulator writes it', () => {
    const bare = parseCallEventLine(JSON.stringify(event()), 1);
    const wrapped = parseCallEventLine(JSON.stringify({ carrierId: 'carrier-a', event: event() }), 2);
    expect(bare).toMatchObject({ ok: true, line: 1, event: { eventId: 'e-1', talkDurationS: 95 } });
    expect(bare).not.toHaveProperty('carrierId');
    expect(wrapped).toMatchObject({ ok: true, line: 2, carrierId: 'carrier-a', event: { callId: 'c-1' } });
    expect(parseCallEventLine('   ', 3)).toBeNull();
  });

  it('refuses what cannot be used, without repeating a clear number', () => {
    expect(parseCallEventLine('{"eventId":', 1)).toMatchObject({ ok: false, reason: 'not a JSON object' });
    expect(parseCallEventLine('[1]', 1)).toMatchObject({ ok: false, reason: 'not a JSON object' });
    expect(parseCallEventLine(JSON.stringify({ carrierId: 'Bad Carrier', event: event() }), 1)).toMatchObject(
      {
        ok: false,
        reason: 'carrierId must be a carrier id beside "event"',
      },
    );
    const clear = parseCallEventLine(JSON.stringify(event({ caller: '+8613812345678' })), 4);
    expect(clear).toEqual({
      ok: false,
      line: 4,
      eventId: 'e-1',
      reason: 'caller is a clear phone number, not a pseudonym token',
    });
    const numberId = parseCallEventLine(JSON.stringify(event({ eventId: 'x13812345678' })), 5);
    expect(numberId).toMatchObject({ ok: false, eventId: '(withheld)' });
    expect(JSON.stringify(numberId)).not.toContain('13812345678');
  });

  it("turns an old event into its hand-off form by ingest's validation, or says why ingest refuses it", () => {
    const line = parseCallEventLine(JSON.stringify(event()), 1);
    if (!line?.ok) throw new Error('expected a parsed line');
    expect(callEventToHandoff(line.event)).toMatchObject({
      id: 'e-1',
      call: 'c-1',
      type: 'ENDED',
      t: T,
      rx: T,
      talk: 95,
      age: '65_PLUS',
    });
    const bad = parseCallEventLine(JSON.stringify(event({ type: 'CALL_ATTEMPT' })), 1);
    if (!bad?.ok) throw new Error('expected a parsed line');
    expect(callEventToHandoff(bad.event)).toBe(
      'INVALID_FIELD: talk_duration_s is only allowed on CALL_ENDED',
    );
  });
});
