import type { AlertView } from '@eagle-eye/contracts';
import { evaluateSichuan, SichuanTruth, TimedAlert } from './evaluate-sichuan';

const T = 1_700_000_000_000;
const s = (x: number): number => T + x * 1000;
const H = 3600;

function alert(p: Partial<AlertView> & Pick<AlertView, 'id' | 'kind' | 'suspect'>): AlertView {
  return {
    callId: null,
    carrierId: 'carrier-a',
    victim: null,
    region: '510100',
    severity: 'warning',
    score: 70,
    reasons: [],
    callAnsweredAt: null,
    callEndedAt: null,
    talkTimeS: null,
    raisedAt: new Date(T).toISOString(),
    updatedAt: new Date(T).toISOString(),
    state: 'open',
    claimedBy: null,
    outcome: null,
    seq: 1,
    ...p,
  };
}
const at = (view: AlertView, sec: number): TimedAlert => ({ view, eventMs: s(sec) });

const call = (
  callId: string,
  caller: string,
  callee: string,
  fraudCaller: boolean,
  answerS: number,
  talkS: number,
  carrierId = 'carrier-a',
): SichuanTruth['calls'][number] => ({
  callId,
  carrierId,
  caller,
  callee,
  fraudCaller,
  answerMs: s(answerS),
  endMs: s(answerS + talkS),
  talkS,
});
const day = (n: number): { firstDayStartMs: number; firstDayEndMs: number } => ({
  firstDayStartMs: s(n * 24 * H),
  firstDayEndMs: s((n + 1) * 24 * H),
});

/**
 * Numbers (carrier-a unless said): F1, F2, F3 fraud; N1, N2 normal; F4 fraud and N3 normal without
 * outgoing calls. Counterparts: v1..v5, x1, x2.
 * Calls (answer s, talk s):
 *  h1 F1->v1 100, 600    hooked           h2 F1->v2 1000, 200   hooked
 *  h3 F2->v3 2000, 300   hooked           h4 F2->v3 5000, 400   hooked again (same victim v3)
 *  h5 F3->v4 3000, 179   NOT hooked (< 180 s)                  h6 F3->v5 4000, 1000 hooked
 *  l1 N1->x1 10, 50      legit            l2 x2->N2 20, 30      legit (incoming)
 *  l3 x1->F1 30, 60      legit (a counterpart calling a fraud number in)
 * 4 hooked victims (v1, v2, v3, v5); 9 calls, 3 legitimate.
 */
function truth(): SichuanTruth {
  return {
    runId: 'r1',
    numbers: [
      { token: 'F1', carrierId: 'carrier-a', fraud: true, outgoingCalls: 2, ...day(0) },
      { token: 'F2', carrierId: 'carrier-a', fraud: true, outgoingCalls: 2, ...day(0) },
      { token: 'F3', carrierId: 'carrier-a', fraud: true, outgoingCalls: 2, ...day(0) },
      { token: 'N1', carrierId: 'carrier-a', fraud: false, outgoingCalls: 1, ...day(0) },
      { token: 'N2', carrierId: 'carrier-a', fraud: false, outgoingCalls: 0, ...day(0) },
      { token: 'F4', carrierId: 'carrier-a', fraud: true, outgoingCalls: 0, ...day(0) },
      { token: 'N3', carrierId: 'carrier-b', fraud: false, outgoingCalls: 3, ...day(1) },
    ],
    calls: [
      call('h1', 'F1', 'v1', true, 100, 600),
      call('h2', 'F1', 'v2', true, 1000, 200),
      call('h3', 'F2', 'v3', true, 2000, 300),
      call('h4', 'F2', 'v3', true, 5000, 400),
      call('h5', 'F3', 'v4', true, 3000, 179),
      call('h6', 'F3', 'v5', true, 4000, 1000),
      call('l1', 'N1', 'x1', false, 10, 50),
      call('l2', 'x2', 'N2', false, 20, 30),
      call('l3', 'x1', 'F1', false, 30, 60),
    ],
    startMs: s(0),
    endMs: s(50 * H),
  };
}

describe('evaluateSichuan', () => {
  const gt = truth();
  const alerts: TimedAlert[] = [
    // v1: on the call at 130 s (30 s after answer); a later step update of the same call does not matter
    at(alert({ id: 'a1', kind: 'victim_on_call', callId: 'h1', victim: 'v1', suspect: 'F1' }), 130),
    // v2: only after its call ended (1200 s) -> alerted at all, not on the call
    at(alert({ id: 'a2', kind: 'victim_on_call', callId: 'h2', victim: 'v2', suspect: 'F1' }), 1201),
    // v3: missed on h3, alerted on its second hooked call h4 at 5090 s (90 s) and, post call, on h3
    at(alert({ id: 'a3', kind: 'victim_on_call', callId: 'h4', victim: 'v3', suspect: 'F2' }), 5090),
    at(alert({ id: 'a4', kind: 'post_call', callId: 'h3', victim: 'v3', suspect: 'F2' }), 2300),
    // v4's call is not a hooked one (179 s): a true victim alert, but no hooked victim
    at(alert({ id: 'a5', kind: 'victim_on_call', callId: 'h5', victim: 'v4', suspect: 'F3' }), 3010),
    // v5: alerted exactly at the end of its call (4000 + 1000 s): still on the call, 1000 s
    at(alert({ id: 'a6', kind: 'victim_on_call', callId: 'h6', victim: 'v5', suspect: 'F3' }), 5000),
    // a false victim alert on a legitimate call
    at(alert({ id: 'a7', kind: 'victim_on_call', callId: 'l1', victim: 'x1', suspect: 'N1' }), 20),
    // suspect numbers: F1 in its first day, F2 only on day 2, N1 (false) in its first day, N3 (false)
    // outside its first day (day 1) -> not flagged, counterpart x1 (false), F4 without outgoing calls
    at(alert({ id: 's1', kind: 'suspect_number', suspect: 'F1' }), 500),
    at(alert({ id: 's2', kind: 'suspect_number', suspect: 'F2' }), 24 * H + 10),
    at(alert({ id: 's3', kind: 'suspect_number', suspect: 'N1' }), 700),
    at(alert({ id: 's4', kind: 'suspect_number', suspect: 'N3', carrierId: 'carrier-b' }), 100),
    at(alert({ id: 's5', kind: 'suspect_number', suspect: 'x1' }), 900),
    at(alert({ id: 's6', kind: 'suspect_number', suspect: 'F4' }), 900),
  ];
  const f = evaluateSichuan(gt, alerts, { operators: 2 });

  it('counts hooked victims per callee, only calls of a fraud number of >= 180 s', () => {
    expect(f.hookedVictims).toBe(4); // v1, v2, v3, v5 (v4's call lasted 179 s)
  });

  it('on-call recall: an on-call alert no later than the call end', () => {
    expect(f.alertedOnCall).toBe(3); // v1, v3 (second call), v5 (at the very end)
    expect(f.recallOnCall).toBeCloseTo(3 / 4, 12);
    expect(f.alertedAtAll).toBe(4); // v2 too (after its call)
  });

  it('answer-to-alert in event time, victims alerted on the call', () => {
    expect(f.answerToAlertS).toEqual([30, 90, 1000]);
    expect(f.medianAnswerToAlertS).toBe(90);
    expect(f.p90AnswerToAlertS).toBe(1000);
  });

  it('victim-alert precision: victim alerts whose suspect is a fraud number', () => {
    expect(f.victimAlerts).toBe(7); // a1-a7 (post_call included)
    expect(f.victimAlertsTrue).toBe(6);
    expect(f.victimPrecision).toBeCloseTo(6 / 7, 12);
  });

  it('false victim alerts per million legitimate answered calls', () => {
    expect(f.legitAnsweredCalls).toBe(3);
    expect(f.falseVictimAlerts).toBe(1);
    expect(f.falseVictimAlertsPerMillion).toBeCloseTo(1e6 / 3, 6);
  });

  it('caller precision, recall and F1 within the first active day', () => {
    // callers (outgoing calls): F1, F2, F3 fraud; N1, N3 normal
    expect(f.caller.numbers).toBe(5);
    expect(f.caller.fraudNumbers).toBe(3);
    expect(f.caller.flagged).toBe(2); // F1, N1 (F2 on its second day, N3 outside its first day)
    expect(f.caller.flaggedFraud).toBe(1);
    expect(f.caller.flaggedCounterparts).toBe(1); // x1
    expect(f.caller.precision).toBeCloseTo(1 / 3, 12); // F1 of F1, N1, x1
    expect(f.caller.recall).toBeCloseTo(1 / 3, 12);
    expect(f.caller.f1).toBeCloseTo(1 / 3, 12);
    expect(f.caller.fraudFlaggedLater).toBe(1); // F2
  });

  it('numbers without outgoing calls apart', () => {
    expect(f.withoutOutgoing).toEqual({ fraud: 1, normal: 1, flagged: 1 }); // F4 / N2; F4 named
  });

  it('alerts per operator-hour over the event-time hours of the replay', () => {
    expect(f.alertsTotal).toBe(13);
    expect(f.hours).toBe(50);
    expect(f.alertsPerOperatorHour).toBeCloseTo(13 / (2 * 50), 12);
    expect(f.alertsByKind).toEqual({ victim_on_call: 6, post_call: 1, suspect_number: 6 });
  });

  it('nothing to judge gives n/a, not zero', () => {
    const e = evaluateSichuan({ ...gt, calls: [], numbers: [] }, [], { operators: 1 });
    expect(e.recallOnCall).toBeNull();
    expect(e.victimPrecision).toBeNull();
    expect(e.falseVictimAlertsPerMillion).toBeNull();
    expect(e.caller.f1).toBeNull();
    expect(e.medianAnswerToAlertS).toBeNull();
  });
});
