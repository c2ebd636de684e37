import type { AlertView } from '@eagle-eye/contracts';
import { emptyGroundTruth, GroundTruth } from '../sim/ground-truth';
import { evaluate, median, ObservedAlert, percentile } from './evaluate';

const T = 1_700_000_000_000;
const s = (x: number): number => T + x * 1000;

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

const seen = (view: AlertView, simS: number, wallMs = Date.parse(view.raisedAt) + 100): ObservedAlert => ({
  view,
  firstSeenWallMs: wallMs,
  firstSeenSimMs: s(simS),
});

/**
 * Three hooked victims (two fan-out, one romance), one trap (a bank), 200,000 legitimate calls:
 * - v1 (fan-out, calls c1 0-600 s then c2 660-1800 s): alerted at 30 s on c1 -> on the call, 30 s
 * - v2 (fan-out, call c3 100-1000 s): alerted at 1100 s, after the call -> not on the call, 1000 s
 * - v3 (romance, call c4 0-3000 s): never alerted
 * - a false victim alert on a bank call, and one on an ordinary call
 * - suspect alerts: s1 (true), bank (false); scam numbers s1, s2, s3, s4
 */
function fixture(): { gt: GroundTruth; alerts: ObservedAlert[] } {
  const gt = emptyGroundTruth();
  gt.run = {
    type: 'run',
    scenario: 'default',
    seed: 1,
    runId: 'r',
    subscribers: 1000,
    startMs: T,
    horizonMs: T + 2 * 3_600_000,
  };
  const sc = (
    callId: string,
    victim: string,
    suspect: string,
    scenario: 'fanout' | 'romance',
    a: number,
    e: number,
  ) => ({
    type: 'scam_call' as const,
    scenario,
    group: 'g',
    carrierId: 'carrier-a',
    callId,
    caller: suspect,
    callee: victim,
    victim,
    suspect,
    attemptMs: s(a - 5),
    answeredMs: s(a),
    endedMs: s(e),
    talkS: e - a,
    hooked: true,
  });
  gt.scamCalls.push(
    sc('c1', 'v1', 's1', 'fanout', 0, 600),
    sc('c2', 'v1', 's2', 'fanout', 660, 1800),
    sc('c3', 'v2', 's3', 'fanout', 100, 1000),
    sc('c4', 'v3', 's4', 'romance', 0, 3000),
  );
  for (const [tok, scen] of [
    ['s1', 'fanout'],
    ['s2', 'fanout'],
    ['s3', 'fanout'],
    ['s4', 'romance'],
  ] as const)
    gt.scammers.push({ type: 'scammer', scenario: scen, group: 'g', carrierId: 'carrier-a', token: tok });
  gt.traps.push({ type: 'trap', kind: 'bank', carrierId: 'carrier-a', token: 'bank1', whitelisted: true });
  const hk = (victim: string, scenario: 'fanout' | 'romance', calls: [string, string, number, number][]) => ({
    type: 'hooked' as const,
    scenario,
    group: 'g',
    carrierId: 'carrier-a',
    victim,
    region: '510100',
    ageBand: '18_28',
    answeredMs: s(calls[0][2]),
    endedMs: s(calls[calls.length - 1][3]),
    calls: calls.map(([callId, suspect, a, e]) => ({ callId, suspect, answeredMs: s(a), endedMs: s(e) })),
  });
  gt.hooked.push(
    hk('v1', 'fanout', [
      ['c1', 's1', 0, 600],
      ['c2', 's2', 660, 1800],
    ]),
    hk('v2', 'fanout', [['c3', 's3', 100, 1000]]),
    hk('v3', 'romance', [['c4', 's4', 0, 3000]]),
  );
  gt.summary = {
    type: 'summary',
    events: 0,
    calls: 200_004,
    legitCalls: 200_000,
    legitAnsweredCalls: 150_000,
    scamCalls: 4,
    hookedEpisodes: 3,
    lastEventMs: T + 7200_000,
  };
  const fanoutReasons = [
    { rule: 'fanout', points: 30, text: '' },
    { rule: 'long_call', points: 20, text: '' },
    { rule: 'familiar', points: -25, text: '' },
  ];
  const alerts = [
    seen(
      alert({
        id: 'a1',
        kind: 'victim_on_call',
        callId: 'c1',
        victim: 'v1',
        suspect: 's1',
        reasons: fanoutReasons,
      }),
      30,
    ),
    // an upgrade of the same call later: counts as a second alert, not a new first alert
    seen(
      alert({
        id: 'a2',
        kind: 'victim_on_call',
        callId: 'c2',
        victim: 'v1',
        suspect: 's2',
        reasons: [{ rule: 'ring_relay', points: 35, text: '' }],
      }),
      700,
    ),
    seen(
      alert({
        id: 'a3',
        kind: 'post_call',
        callId: 'c3',
        victim: 'v2',
        suspect: 's3',
        reasons: [{ rule: 'fanout', points: 30, text: '' }],
      }),
      1100,
    ),
    seen(
      alert({
        id: 'a4',
        kind: 'victim_on_call',
        callId: 'x9',
        victim: 'u1',
        suspect: 'bank1',
        reasons: [{ rule: 'long_call', points: 35, text: '' }],
      }),
      50,
    ),
    seen(
      alert({
        id: 'a5',
        kind: 'victim_on_call',
        callId: 'x10',
        victim: 'u2',
        suspect: 'u3',
        reasons: [{ rule: 'long_call', points: 35, text: '' }],
      }),
      60,
    ),
    seen(
      alert({
        id: 'a6',
        kind: 'suspect_number',
        suspect: 's1',
        reasons: [{ rule: 'fanout', points: 30, text: '' }],
      }),
      20,
    ),
    seen(
      alert({
        id: 'a7',
        kind: 'suspect_number',
        suspect: 'bank1',
        reasons: [{ rule: 'call_centre', points: 25, text: '' }],
      }),
      20,
    ),
  ];
  return { gt, alerts };
}

describe('evaluate', () => {
  it('median and nearest-rank percentile', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBe(90);
    expect(percentile([5, 1], 90)).toBe(5);
    expect(median([])).toBeNull();
  });

  it('computes the figures of a hand-made case exactly', () => {
    const { gt, alerts } = fixture();
    const r = evaluate(gt, alerts, { operators: 2 });
    const o = r.overall;
    expect(o.hookedVictims).toBe(3);
    expect(o.alertedOnCall).toBe(1);
    expect(o.recallOnCall).toBeCloseTo(1 / 3, 10);
    expect(o.alertedAtAll).toBe(2);
    expect(o.timeToAlertS).toEqual([30, 1000]);
    expect(o.medianTimeToAlertS).toBe(515);
    expect(o.p90TimeToAlertS).toBe(1000);
    expect(o.victimAlertsTotal).toBe(5);
    expect(o.truePositiveVictimAlerts).toBe(3);
    expect(o.falseVictimAlerts).toBe(2);
    expect(o.precision).toBeCloseTo(0.6, 10);
    expect(o.falseAlertsPerMillionLegitCalls).toBeCloseTo(10, 10);
    expect(o.suspectAlerts).toBe(2);
    expect(o.suspectAlertsTrue).toBe(1);
    expect(o.suspectPrecision).toBeCloseTo(0.5, 10);
    expect(o.scamNumbers).toBe(4);
    expect(o.scamNumbersFlagged).toBe(1);
    expect(o.suspectRecall).toBeCloseTo(0.25, 10);
    expect(o.scamNumbersNamedInAnyAlert).toBe(3);
    expect(o.alertsTotal).toBe(7);
    expect(o.simulatedHours).toBe(2);
    expect(o.alertsPerOperatorHour).toBeCloseTo(7 / 4, 10);
    expect(r.falseAlertsBySource).toEqual({ bank: 1, 'ordinary subscriber': 1 });
    expect(r.alertsByRule).toEqual({ fanout: 3, long_call: 3, ring_relay: 1, call_centre: 1 });
    expect(r.alertsByKind).toEqual({ victim_on_call: 4, post_call: 1, suspect_number: 2 });
    expect(r.deliveryLatencyMs).toEqual({ median: 100, p90: 100 });

    const fanout = r.scenarios.find((x) => x.scenario === 'fanout')!;
    expect(fanout).toMatchObject({
      hookedVictims: 2,
      alertedOnCall: 1,
      recallOnCall: 0.5,
      victimAlerts: 3,
      scamNumbers: 3,
      scamNumbersFlagged: 1,
    });
    const romance = r.scenarios.find((x) => x.scenario === 'romance')!;
    expect(romance).toMatchObject({
      hookedVictims: 1,
      alertedOnCall: 0,
      recallOnCall: 0,
      medianTimeToAlertS: null,
      victimAlerts: 0,
    });
  });

  it('matches an alert by victim and suspect when the call id is unknown', () => {
    const { gt, alerts } = fixture();
    const a = alerts[0];
    a.view = { ...a.view, callId: 'other-id' };
    const r = evaluate(gt, [a], { operators: 1 });
    expect(r.overall.alertedOnCall).toBe(1);
    expect(r.overall.truePositiveVictimAlerts).toBe(1);
  });

  it('leaves the warm-up out: its victims, its alerts, its legitimate calls', () => {
    const { gt, alerts } = fixture();
    // measured from 40 s: v1 and v3 (answered at 0 s) were hooked in the warm-up, v2 (100 s) counts;
    // a1 (30 s), a6 and a7 (20 s) were first seen in the warm-up
    gt.run!.measureFromMs = s(40);
    gt.summary!.legitCallsMeasured = 100_000;
    const r = evaluate(gt, alerts, { operators: 2 });
    const o = r.overall;
    expect(r.measuredFromMs).toBe(s(40));
    expect(r.warmupMinutes).toBeCloseTo(40 / 60, 10);
    expect(r.warmupHookedExcluded).toBe(2);
    expect(r.warmupAlertsExcluded).toBe(3);
    expect(o.hookedVictims).toBe(1);
    expect(o.alertedOnCall).toBe(0);
    expect(o.alertedAtAll).toBe(1);
    expect(o.timeToAlertS).toEqual([1000]);
    // a2 (c2) and a3 (c3) are true, a4 (bank) and a5 false
    expect(o.victimAlertsTotal).toBe(4);
    expect(o.truePositiveVictimAlerts).toBe(2);
    expect(o.precision).toBeCloseTo(0.5, 10);
    expect(o.legitCalls).toBe(100_000);
    expect(o.falseAlertsPerMillionLegitCalls).toBeCloseTo(20, 10);
    // no suspect alert in the window; scam numbers with a scam call in it: s2 (655 s), s3 (95 s)
    expect(o.suspectAlerts).toBe(0);
    expect(o.suspectPrecision).toBeNull();
    expect(o.scamNumbers).toBe(2);
    expect(o.scamNumbersFlagged).toBe(0);
    expect(o.scamNumbersNamedInAnyAlert).toBe(2);
    expect(o.alertsTotal).toBe(4);
    expect(o.simulatedHours).toBeCloseTo((7200 - 40) / 3600, 10);
    expect(o.alertsPerOperatorHour).toBeCloseTo(4 / (2 * ((7200 - 40) / 3600)), 10);
    expect(r.alertsByKind).toEqual({ victim_on_call: 3, post_call: 1 });
    expect(r.scenarios.map((x) => x.scenario)).toEqual(['fanout']);

    // a number flagged during the warm-up stays flagged: s1 calls again in the window
    gt.scamCalls.push({
      ...gt.scamCalls[0],
      callId: 'c5',
      attemptMs: s(500),
      answeredMs: null,
      hooked: false,
    });
    expect(evaluate(gt, alerts, { operators: 2 }).overall).toMatchObject({
      scamNumbers: 3,
      scamNumbersFlagged: 1,
    });
  });
});
