import fc from 'fast-check';
import { ingestV1, packEvents, unpackEvents } from '@eagle-eye/contracts';
import { goodEvent, subscriberToken } from './testing/call-events';
import { validateBatch } from '@eagle-eye/contracts';

const R = ingestV1.RejectionReason;
const NOW = 1_700_000_000_000;
const LIMITS = { maxFutureSkewMs: 300_000, maxAgeMs: 86_400_000 };
const ev = (over: Partial<ingestV1.CallEvent>) => goodEvent(over, NOW);

function codeOf(over: Partial<ingestV1.CallEvent>): ingestV1.RejectionReason | 'ok' {
  const { rejected } = validateBatch([ev(over)], NOW, LIMITS);
  return rejected.length ? rejected[0].code : 'ok';
}

describe('validateBatch', () => {
  it('accepts a well-formed event and builds its hand-off form', () => {
    const { valid, rejected } = validateBatch(
      [
        ev({
          type: ingestV1.CallEventType.CALL_ENDED,
          talkDurationS: 300,
          releaseCause: '16',
          calleeCell: 'c-1',
        }),
      ],
      NOW,
      LIMITS,
    );
    expect(rejected).toEqual([]);
    expect(valid).toEqual([
      {
        id: 'ev-1',
        call: 'call-1',
        type: 'ENDED',
        t: NOW,
        caller: subscriberToken(1),
        callee: subscriberToken(2),
        cls: 'MOBILE',
        country: 'CN',
        att: 'A',
        mis: false,
        region: '510100',
        cell: 'c-1',
        age: '29_45',
        talk: 300,
        cause: '16',
        rx: NOW,
      },
    ]);
  });

  it.each<[string, Partial<ingestV1.CallEvent>, ingestV1.RejectionReason]>([
    ['missing event_id', { eventId: '' }, R.MISSING_FIELD],
    ['bad event_id', { eventId: 'a b' }, R.INVALID_FIELD],
    ['missing call_id', { callId: '' }, R.MISSING_FIELD],
    ['unspecified type', { type: 0 }, R.UNKNOWN_ENUM],
    ['unknown type', { type: 99 as ingestV1.CallEventType }, R.UNKNOWN_ENUM],
    ['missing time', { eventTimeMs: 0 }, R.MISSING_FIELD],
    ['future time', { eventTimeMs: NOW + 300_001 }, R.EVENT_TIME_IN_FUTURE],
    ['old time', { eventTimeMs: NOW - 86_400_001 }, R.EVENT_TIME_TOO_OLD],
    ['missing caller', { caller: '' }, R.MISSING_FIELD],
    ['E.164 caller', { caller: '+8613812345678' }, R.CLEAR_PHONE_NUMBER],
    ['digits callee', { callee: '13812345678' }, R.CLEAR_PHONE_NUMBER],
    ['spaced number', { callee: '138 1234 5678' }, R.CLEAR_PHONE_NUMBER],
    ['IMEI device', { callerDevice: '356938035643809' }, R.CLEAR_PHONE_NUMBER],
    ['number in call_id', { callId: 'sw1-13812345678-7' }, R.CLEAR_PHONE_NUMBER],
    ['dashed number in call_id', { callId: 'c.138-1234-5678' }, R.CLEAR_PHONE_NUMBER],
    ['full-width number in call_id', { callId: 'id１３８１２３４５６７８' }, R.CLEAR_PHONE_NUMBER],
    ['number in event_id', { eventId: '+8613812345678.a' }, R.CLEAR_PHONE_NUMBER],
    ['number in callee_cell', { calleeCell: 'cell:138_1234_5678' }, R.CLEAR_PHONE_NUMBER],
    ['malformed caller', { caller: 'alice' }, R.INVALID_PSEUDONYM],
    ['caller equals callee', { callee: subscriberToken(1) }, R.CALLER_EQUALS_CALLEE],
    ['unknown class', { callerClass: 42 as ingestV1.CallerClass }, R.UNKNOWN_ENUM],
    ['missing country', { callerCountry: '' }, R.MISSING_FIELD],
    ['bad country', { callerCountry: 'china' }, R.INVALID_FIELD],
    ['unknown attestation', { callerIdVerified: 0 }, R.UNKNOWN_ENUM],
    ['missing region', { calleeRegion: '' }, R.MISSING_FIELD],
    ['bad cell', { calleeCell: 'x'.repeat(40) }, R.INVALID_FIELD],
    ['unknown age band', { calleeAgeBand: 0 }, R.UNKNOWN_ENUM],
    [
      'negative duration',
      { type: ingestV1.CallEventType.CALL_ENDED, talkDurationS: -1 },
      R.NEGATIVE_DURATION,
    ],
    ['duration on attempt', { talkDurationS: 5 }, R.INVALID_FIELD],
    ['cause on attempt', { releaseCause: '16' }, R.INVALID_FIELD],
    [
      'number as cause',
      { type: ingestV1.CallEventType.CALL_ENDED, releaseCause: '13812345678' },
      R.CLEAR_PHONE_NUMBER,
    ],
  ])('refuses %s', (_name, over, code) => {
    expect(codeOf(over)).toBe(code);
  });

  it('names the field and never echoes a clear number', () => {
    const { rejected } = validateBatch(
      [ev({ callee: '+8613812345678', eventId: '13812345678' })],
      NOW,
      LIMITS,
    );
    expect(rejected).toHaveLength(1);
    // the number in the event id is found first now (ids are checked for numbers too)
    expect(rejected[0].message).toContain('event_id');
    expect(rejected[0].code).toBe(R.CLEAR_PHONE_NUMBER);
    expect(JSON.stringify(rejected)).not.toMatch(/13812345678/);
    const callee = validateBatch([ev({ callee: '+8613812345678' })], NOW, LIMITS).rejected;
    expect(callee[0].message).toContain('callee');
    expect(JSON.stringify(callee)).not.toMatch(/13812345678/);
  });

  it('accepts UUID event and call ids, also those whose digits run on across the dashes', () => {
    const ids = ['12345678-9012-4abc-8def-0123456789ab', '0ABCDEF1-2345-4678-9012-345678901234'];
    const { valid, rejected } = validateBatch(
      ids.map((id, i) => ev({ eventId: id, callId: ids[1 - i] })),
      NOW,
      LIMITS,
    );
    expect(rejected).toEqual([]);
    expect(valid.map((v) => v.id)).toEqual(ids);
  });

  it('refuses a repeated event id in one batch, keeps the first', () => {
    const { valid, rejected } = validateBatch(
      [ev({}), ev({ callId: 'other' }), ev({ eventId: 'ev-2' })],
      NOW,
      LIMITS,
    );
    expect(valid.map((v) => [v.id, v.call])).toEqual([
      ['ev-1', 'call-1'],
      ['ev-2', 'call-1'],
    ]);
    expect(rejected).toEqual([
      { index: 1, eventId: 'ev-1', code: R.DUPLICATE_IN_BATCH, message: expect.any(String) },
    ]);
  });

  describe('property: random and malformed batches', () => {
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(undefined),
      fc.constant(null),
      fc.object(),
    );
    const likelyString = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '+8613812345678',
        '13812345678',
        subscriberToken(5),
        subscriberToken(6),
        'ev-1',
        'CN',
        '510100',
      ),
    );
    const field = (good: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: anyValue });
    const event = fc.record({
      eventId: field(fc.oneof(fc.constantFrom('ev-1', 'ev-2', 'ev-3'), likelyString)),
      callId: field(likelyString),
      type: field(fc.integer({ min: -1, max: 5 })),
      eventTimeMs: field(fc.integer({ min: NOW - 2 * 86_400_000, max: NOW + 600_000 })),
      caller: field(likelyString),
      callee: field(likelyString),
      callerClass: field(fc.integer({ min: -1, max: 8 })),
      callerCountry: field(fc.constantFrom('CN', 'KH', 'cn', '', 'XYZ')),
      callerIdVerified: field(fc.integer({ min: -1, max: 6 })),
      callerDisplayMismatch: field(fc.boolean()),
      calleeRegion: field(likelyString),
      calleeCell: field(likelyString),
      callerDevice: field(likelyString),
      calleeAgeBand: field(fc.integer({ min: -1, max: 8 })),
      talkDurationS: field(fc.integer({ min: -10, max: 200_000 })),
      releaseCause: field(likelyString),
    });
    const batch = fc.array(fc.oneof({ weight: 10, arbitrary: event }, { weight: 1, arbitrary: anyValue }), {
      maxLength: 30,
    });

    it('never throws; every event is either handed over or refused with a code and a message', () => {
      fc.assert(
        fc.property(batch, (events) => {
          const { valid, rejected } = validateBatch(events as unknown as ingestV1.CallEvent[], NOW, LIMITS);
          expect(valid.length + rejected.length).toBe(events.length);
          const indexes = rejected.map((r) => r.index);
          expect(new Set(indexes).size).toBe(indexes.length);
          for (const r of rejected) {
            expect(r.code).toBeGreaterThan(0);
            expect(ingestV1.rejectionReasonToJSON(r.code)).not.toBe('UNRECOGNIZED');
            expect(r.message.length).toBeGreaterThan(5);
            expect(r.index).toBeLessThan(events.length);
            // a clear number never comes back, neither in the message nor as the echoed id
            expect(r.message + r.eventId).not.toMatch(/13812345678/);
          }
          for (const v of valid) {
            // the packed hand-off encoding is exact for everything the validator lets through
            expect(unpackEvents(packEvents([v]))).toEqual([v]);
            expect(v.caller).not.toBe(v.callee);
            expect(JSON.stringify(v)).not.toMatch(/\+\d{6}/);
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
