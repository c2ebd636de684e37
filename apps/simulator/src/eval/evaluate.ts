import type { AlertView } from '@eagle-eye/contracts';
import { GroundTruth, HookedRecord, SCAM_KINDS, ScamCallRecord } from '../sim/ground-truth';

/** An alert as the evaluation saw it: its latest state and when it first arrived. */
export interface ObservedAlert {
  view: AlertView;
  /** wall time the alert was first seen (socket.io event or REST listing), epoch ms */
  firstSeenWallMs: number;
  /** the simulated time at that moment (the time warp applied) */
  firstSeenSimMs: number;
}

export interface EvaluateOptions {
  /** operators watching alerts (one per carrier desk by default) */
  operators: number;
}

export interface ScenarioFigures {
  scenario: string;
  hookedVictims: number;
  /** hooked victims with an alert on one of their scam calls while that call was still running */
  alertedOnCall: number;
  /** ... with an alert at any time (also after the call) */
  alertedAtAll: number;
  recallOnCall: number | null;
  /** simulated seconds from the answer of the first long call to the first alert, alerted victims */
  timeToAlertS: number[];
  medianTimeToAlertS: number | null;
  p90TimeToAlertS: number | null;
  /** victim alerts raised on this scenario's calls */
  victimAlerts: number;
  scamNumbers: number;
  scamNumbersFlagged: number;
  suspectRecall: number | null;
}

export interface EvaluationReport {
  /** the measured window, simulated epoch ms (after the warm-up) */
  measuredFromMs: number | null;
  /** simulated minutes of warm-up before it (0 without one) */
  warmupMinutes: number;
  /** alerts raised during the warm-up, left out of every figure */
  warmupAlertsExcluded: number;
  /** hooked victims of the warm-up, left out of every figure */
  warmupHookedExcluded: number;
  scenarios: ScenarioFigures[];
  overall: ScenarioFigures & {
    victimAlertsTotal: number;
    truePositiveVictimAlerts: number;
    falseVictimAlerts: number;
    precision: number | null;
    legitCalls: number;
    falseAlertsPerMillionLegitCalls: number | null;
    suspectAlerts: number;
    suspectAlertsTrue: number;
    suspectPrecision: number | null;
    /** scam numbers named as the suspect of any alert (victim or suspect-number) */
    scamNumbersNamedInAnyAlert: number;
    alertsTotal: number;
    simulatedHours: number;
    operators: number;
    alertsPerOperatorHour: number | null;
  };
  alertsByRule: Record<string, number>;
  alertsByKind: Record<string, number>;
  /** false victim alerts by who the suspect really was (a trap kind, or an ordinary subscriber) */
  falseAlertsBySource: Record<string, number>;
  /** wall ms from alert raise (raisedAt) to arrival at the evaluation's console client */
  deliveryLatencyMs: { median: number | null; p90: number | null };
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** nearest-rank percentile */
export function percentile(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const key = (carrierId: string, x: string): string => `${carrierId}/${x}`;
const isVictimAlert = (a: AlertView): boolean => a.kind === 'victim_on_call' || a.kind === 'post_call';

/**
 * Joins the alerts a console received with the ground truth of the run. Pure arithmetic: the same
 * inputs always give the same figures (the tests pin them on a hand-made case).
 *
 * Warm-up (`run.measureFromMs`): a real detector runs for ever, so the run starts earlier and its
 * first part only gives the detector history. Victims hooked (first answer) and alerts first seen
 * before the measured window are left out of every figure, and false alerts are counted per
 * legitimate call of the window. Scam numbers count when they made a scam call in the window; one
 * the detector flagged during the warm-up stays flagged (its suspect alert is raised once).
 */
export function evaluate(gt: GroundTruth, allAlerts: ObservedAlert[], o: EvaluateOptions): EvaluationReport {
  const startMs = gt.run?.startMs ?? 0;
  const fromMs = gt.run?.measureFromMs ?? null;
  const measured = (simMs: number): boolean => fromMs === null || simMs >= fromMs;
  const alerts = allAlerts.filter((a) => measured(a.firstSeenSimMs));
  const scamByCall = new Map<string, ScamCallRecord>();
  const scamByPair = new Map<string, ScamCallRecord>();
  for (const c of gt.scamCalls) {
    scamByCall.set(key(c.carrierId, c.callId), c);
    scamByPair.set(key(c.carrierId, `${c.victim}|${c.suspect}`), c);
  }
  const scammerScenario = new Map<string, string>();
  for (const s of gt.scammers) scammerScenario.set(key(s.carrierId, s.token), s.scenario);
  const trapKind = new Map<string, string>();
  for (const t of gt.traps) trapKind.set(key(t.carrierId, t.token), t.kind);

  /** the scam call an alert is about, if any */
  const scamCallOf = (a: AlertView): ScamCallRecord | undefined =>
    (a.callId ? scamByCall.get(key(a.carrierId, a.callId)) : undefined) ??
    (a.victim ? scamByPair.get(key(a.carrierId, `${a.victim}|${a.suspect}`)) : undefined);

  const victimAlerts = alerts.filter((a) => isVictimAlert(a.view));
  const alertsByRule: Record<string, number> = {};
  const alertsByKind: Record<string, number> = {};
  for (const a of alerts) {
    alertsByKind[a.view.kind] = (alertsByKind[a.view.kind] ?? 0) + 1;
    for (const rule of new Set(a.view.reasons.filter((r) => r.points > 0).map((r) => r.rule)))
      alertsByRule[rule] = (alertsByRule[rule] ?? 0) + 1;
  }
  let tp = 0;
  const falseAlertsBySource: Record<string, number> = {};
  const victimAlertsByScenario = new Map<string, number>();
  for (const a of victimAlerts) {
    const c = scamCallOf(a.view);
    if (c) {
      tp++;
      victimAlertsByScenario.set(c.scenario, (victimAlertsByScenario.get(c.scenario) ?? 0) + 1);
    } else {
      const src = trapKind.get(key(a.view.carrierId, a.view.suspect)) ?? 'ordinary subscriber';
      falseAlertsBySource[src] = (falseAlertsBySource[src] ?? 0) + 1;
    }
  }

  // hooked episodes: the first alert on any of the episode's calls (by call id, or victim + suspect)
  const lastMs = gt.summary?.lastEventMs ?? Infinity;
  const inRun = gt.hooked.filter((h) => h.answeredMs <= lastMs);
  const episodes = inRun.filter((h) => measured(h.answeredMs));
  const episodeFigures = new Map<HookedRecord, { onCall: boolean; firstS: number | null }>();
  for (const h of episodes) {
    let onCall = false;
    let first: number | null = null;
    for (const a of victimAlerts) {
      const v = a.view;
      if (v.carrierId !== h.carrierId) continue;
      const call =
        h.calls.find((c) => c.callId === v.callId) ??
        (v.victim === h.victim ? h.calls.find((c) => c.suspect === v.suspect) : undefined);
      if (!call) continue;
      const t = a.firstSeenSimMs;
      if (v.kind === 'victim_on_call' && t >= call.answeredMs && t <= call.endedMs) onCall = true;
      const dt = Math.max(0, (t - h.answeredMs) / 1000);
      if (first === null || dt < first) first = dt;
    }
    episodeFigures.set(h, { onCall, firstS: first });
  }

  const suspectAlerts = alerts.filter((a) => a.view.kind === 'suspect_number');
  const flagged = new Set(suspectAlerts.map((a) => key(a.view.carrierId, a.view.suspect)));
  const suspectTrue = [...flagged].filter((k) => scammerScenario.has(k)).length;
  // recall side: flagged or named at any time, warm-up included
  const flaggedEver = new Set(
    allAlerts
      .filter((a) => a.view.kind === 'suspect_number')
      .map((a) => key(a.view.carrierId, a.view.suspect)),
  );
  const named = new Set(allAlerts.map((a) => key(a.view.carrierId, a.view.suspect)));
  const activeInWindow = new Set(
    gt.scamCalls.filter((c) => measured(c.attemptMs)).map((c) => key(c.carrierId, c.suspect)),
  );
  const scammers = gt.scammers.filter(
    (s) => fromMs === null || activeInWindow.has(key(s.carrierId, s.token)),
  );

  const figures = (scenario: string, pred: (s: string) => boolean): ScenarioFigures => {
    const eps = episodes.filter((h) => pred(h.scenario));
    const times = eps.map((h) => episodeFigures.get(h)!.firstS).filter((x): x is number => x !== null);
    const numbers = scammers.filter((s) => pred(s.scenario));
    const numbersFlagged = numbers.filter((s) => flaggedEver.has(key(s.carrierId, s.token))).length;
    const onCall = eps.filter((h) => episodeFigures.get(h)!.onCall).length;
    let va = 0;
    for (const [s, n] of victimAlertsByScenario) if (pred(s)) va += n;
    return {
      scenario,
      hookedVictims: eps.length,
      alertedOnCall: onCall,
      alertedAtAll: times.length,
      recallOnCall: ratio(onCall, eps.length),
      timeToAlertS: [...times].sort((a, b) => a - b),
      medianTimeToAlertS: median(times),
      p90TimeToAlertS: percentile(times, 90),
      victimAlerts: va,
      scamNumbers: numbers.length,
      scamNumbersFlagged: numbersFlagged,
      suspectRecall: ratio(numbersFlagged, numbers.length),
    };
  };

  const present = SCAM_KINDS.filter(
    (k) => episodes.some((h) => h.scenario === k) || scammers.some((s) => s.scenario === k),
  );
  const run = gt.run;
  const endMs = run?.horizonMs ?? gt.summary?.lastEventMs ?? run?.startMs ?? 0;
  const simulatedHours = run ? Math.max(0, endMs - (fromMs ?? run.startMs)) / 3_600_000 : 0;
  const legitCalls =
    (fromMs !== null ? gt.summary?.legitCallsMeasured : undefined) ?? gt.summary?.legitCalls ?? 0;
  const fp = victimAlerts.length - tp;
  const delivery = alerts.map((a) => a.firstSeenWallMs - Date.parse(a.view.raisedAt)).filter(Number.isFinite);
  return {
    measuredFromMs: fromMs,
    warmupMinutes: fromMs === null ? 0 : Math.max(0, fromMs - startMs) / 60_000,
    warmupAlertsExcluded: allAlerts.length - alerts.length,
    warmupHookedExcluded: inRun.length - episodes.length,
    scenarios: present.map((k) => figures(k, (s) => s === k)),
    overall: {
      ...figures('overall', () => true),
      victimAlertsTotal: victimAlerts.length,
      truePositiveVictimAlerts: tp,
      falseVictimAlerts: fp,
      precision: ratio(tp, victimAlerts.length),
      legitCalls,
      falseAlertsPerMillionLegitCalls: legitCalls > 0 ? (fp * 1e6) / legitCalls : null,
      suspectAlerts: flagged.size,
      suspectAlertsTrue: suspectTrue,
      suspectPrecision: ratio(suspectTrue, flagged.size),
      scamNumbersNamedInAnyAlert: scammers.filter((s) => named.has(key(s.carrierId, s.token))).length,
      alertsTotal: alerts.length,
      simulatedHours,
      operators: o.operators,
      alertsPerOperatorHour:
        simulatedHours > 0 && o.operators > 0 ? alerts.length / (o.operators * simulatedHours) : null,
    },
    alertsByRule,
    alertsByKind,
    falseAlertsBySource,
    deliveryLatencyMs: { median: median(delivery), p90: percentile(delivery, 90) },
  };
}
