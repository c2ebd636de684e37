import { FEATURE_COUNT } from '@eagle-eye/scoring';
import { callEndedSchema, suspectNumberSchema } from './alert-job.schemas';

describe('alert job schemas', () => {
  const job = { carrierId: 'carrier-a', callEndedAt: 1, talkTimeS: 0, raisedAt: 1 };

  it('re-checks call ids for embedded phone numbers (the queue is a trust boundary)', () => {
    for (const callId of ['sw-13812345678', 'c.138-1234-5678', 'id１３８１２３４５６７８'])
      expect({ callId, ok: callEndedSchema.safeParse({ ...job, callId }).success }).toEqual({
        callId,
        ok: false,
      });
    expect(callEndedSchema.safeParse({ ...job, callId: 'call-1a2b3c' }).success).toBe(true);
  });

  it('keeps a reason id and its figures; an unknown id or malformed figures cost the wording, not the alert', () => {
    const sus = {
      kind: 'suspect_number',
      carrierId: 'carrier-a',
      suspect: 'p1.k1.AAAAAAAAAAAAAAAAAAAAAA',
      severity: 'warning',
      score: 55,
      eventTimeMs: 1,
      raisedAt: 1,
    };
    const reason = { rule: 'blacklist', points: 100, text: 'number is on the blacklist: x' };
    const parse = (r: object) =>
      suspectNumberSchema.parse({ ...sus, reasons: [{ ...reason, ...r }] }).reasons[0];
    expect(parse({ code: 'blacklist', params: { note: 'case 17' } })).toEqual({
      ...reason,
      code: 'blacklist',
      params: { note: 'case 17' },
    });
    // a list note is free text an operator wrote: no phone number passes, as in the text
    expect(parse({ code: 'blacklist', params: { note: 'caller 13812345678' } }).params?.note).not.toContain(
      '13812345678',
    );
    expect(parse({ code: 'not_a_reason', params: { x: 1 } })).toEqual({ ...reason, params: { x: 1 } });
    expect(parse({ code: 'fanout_hour', params: { distinct: Number.NaN } })).toEqual({
      ...reason,
      code: 'fanout_hour',
    });
    expect(parse({ code: 'fanout_hour', params: { 'bad key': 1 } }).params).toBeUndefined();
  });

  it('keeps a caller-feature snapshot of the right shape; any other costs the snapshot, never the alert', () => {
    const sus = {
      kind: 'suspect_number',
      carrierId: 'carrier-a',
      suspect: 'p1.k1.AAAAAAAAAAAAAAAAAAAAAA',
      severity: 'warning',
      score: 55,
      reasons: [],
      eventTimeMs: 1,
      raisedAt: 1,
    };
    const x = Array.from({ length: FEATURE_COUNT }, (_, i) => i / 2);
    expect(suspectNumberSchema.parse({ ...sus, callerFeatures: x }).callerFeatures).toEqual(x);
    for (const bad of [x.slice(1), [...x, 1], [...x.slice(1), Number.NaN], [...x.slice(1), '1'], 'x', {}]) {
      const r = suspectNumberSchema.safeParse({ ...sus, callerFeatures: bad });
      expect(r.success && r.data.callerFeatures).toBe(undefined);
    }
  });
});
