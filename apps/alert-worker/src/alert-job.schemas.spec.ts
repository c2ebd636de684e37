import { callEndedSchema } from './alert-job.schemas';

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
});
