import { reasonTextEn } from '@eagle-eye/contracts';
import type {
  AgeBandName,
  AlertReason,
  Attestation,
  CallerClassName,
  ReasonCode,
  ReasonParams,
  Severity,
} from '@eagle-eye/contracts';
import { list, num, ResolvedRules, RuleConfig, RuleId, str } from '@eagle-eye/rules';
import { callerFeatures, CallerModel, FEATURE_COUNT, featureFigure } from '@eagle-eye/scoring';
import type { ModelSource } from './model-registry';
import type { CallerWindows } from '@eagle-eye/scoring';

/** What the caller script returns about the calling number, windows read at its watermark. */
export type { CallerWindows };

/** Facts of the call itself, from the event. */
export interface CallFacts {
  cls: CallerClassName;
  country: string;
  att: Attestation;
  mis: boolean;
  age: AgeBandName;
  /** distinct SIMs seen on the caller's handset, 0 when unknown */
  sims: number;
}

export interface Score {
  /** points of the rules that may alert */
  score: number;
  /** points including report-only rules */
  total: number;
  reasons: AlertReason[];
  /**
   * The caller windows the model judged: an alert's job sends their features (featureSnapshot) to
   * be kept as its evidence, the rows a reviewed outcome labels for retraining. A reference, not a
   * copy: copying the features on every scored event would cost 0.1-1 us, a tenth or more of the
   * model's own evaluation; alerts are rare.
   */
  judged?: CallerWindows;
}

/** The model features of the windows (FEATURE_NAMES order), as an alert job carries them. */
export function featureSnapshot(w: CallerWindows): number[] {
  return Array.from(callerFeatures(w));
}

/**
 * A rule's reason: which of its sentences (libs/contracts REASON_MESSAGES_EN) with which figures,
 * and the same in English words. The console words code and params in the operator's language.
 */
function add(
  out: Score,
  rule: RuleConfig,
  points: number,
  code: ReasonCode,
  params: ReasonParams = {},
): void {
  if (!rule.enabled || points === 0) return;
  const r: AlertReason = { rule: rule.id, points, code, params, text: reasonTextEn(code, params) };
  if (rule.reportOnly) r.reportOnly = true;
  else out.score += points;
  out.total += points;
  out.reasons.push(r);
}

function activeEntry(raw: string, at: number): { list: string; reason: string } | null {
  if (!raw) return null;
  const [l, exp, ...rest] = raw.split('|');
  const e = Number(exp);
  if (e > 0 && e <= at) return null;
  return { list: l, reason: rest.join('|') };
}

/** Black/gray/white list entries of the number the windows belong to. */
function listHits(rules: ResolvedRules, w: CallerWindows, out: Score): void {
  // most numbers are on no list: nothing to parse or look up
  if (!w.listCarrier && !w.listGlobal) return;
  const entries = [activeEntry(w.listCarrier, w.at), activeEntry(w.listGlobal, w.at)].filter(
    (e) => e !== null,
  );
  const on = (l: string) => entries.find((e) => e.list === l);
  const black = on('black');
  if (black) add(out, rules.blacklist, rules.blacklist.points, 'blacklist', { note: black.reason });
  const gray = on('gray');
  if (gray) add(out, rules.graylist, rules.graylist.points, 'graylist', { note: gray.reason });
  const white = on('white');
  if (white) add(out, rules.whitelist, rules.whitelist.points, 'whitelist', { note: white.reason });
}

/** Rules about the calling number alone: lists, fan-out, call-centre pattern, spoofing, device. */
/**
 * `observingSince`: event time at which the detector began observing. A number only counts as new
 * once the detector has watched for the rule's whole age window before the number first appeared;
 * until then "not seen before" says nothing (a freshly started detector would call everyone new).
 */
export function scoreCaller(
  rules: ResolvedRules,
  w: CallerWindows,
  f: CallFacts,
  observingSince = 0,
  models?: ModelSource,
): Score {
  const out: Score = { score: 0, total: 0, reasons: [] };
  listHits(rules, w, out);
  if (models && list<string>(rules.caller_model, 'classes').includes(f.cls)) modelRisk(rules, w, models, out);
  const fan = rules.fanout;
  const perCallee = w.distinct24h > 0 ? w.attempts24h / w.distinct24h : Infinity;
  if (w.distinct1h >= num(fan, 'distinct1h')) {
    add(out, fan, fan.points, 'fanout_hour', { distinct: w.distinct1h });
  } else if (w.distinct24h >= num(fan, 'distinct24h') && perCallee <= num(fan, 'maxCallsPerCallee')) {
    add(out, fan, fan.points, 'fanout_day', { distinct: w.distinct24h, perCallee: perCallee.toFixed(2) });
  }

  const cc = rules.call_centre;
  const busy = w.attempts1h >= num(cc, 'attempts1h') || w.attempts10m >= num(cc, 'attempts10m');
  const answerRate = w.attempts1h > 0 ? w.answered1h / w.attempts1h : 0;
  const shortShare = w.answered1h > 0 ? w.shortAnswered1h / w.answered1h : 0;
  if (busy && (answerRate <= num(cc, 'maxAnswerRate') || shortShare >= num(cc, 'minShortShare'))) {
    add(out, cc, cc.points, 'call_centre', {
      attempts1h: w.attempts1h,
      attempts10m: w.attempts10m,
      answeredPct: Math.round(answerRate * 100),
      shortPct: Math.round(shortShare * 100),
    });
  }

  const home = str(rules.spoofed_origin, 'homeCountry');
  if (f.country && f.country !== home && f.cls !== 'INTERNATIONAL') {
    add(out, rules.spoofed_origin, rules.spoofed_origin.points, 'spoofed_origin', { country: f.country });
  }
  if (f.att === 'C' || f.att === 'UNVERIFIED') {
    add(out, rules.unverified_caller_id, rules.unverified_caller_id.points, 'unverified_caller_id');
  }
  if (f.mis) {
    add(out, rules.display_mismatch, rules.display_mismatch.points, 'display_mismatch');
  }
  if (f.cls === 'VIRTUAL_OPERATOR') {
    add(out, rules.virtual_operator, rules.virtual_operator.points, 'virtual_operator');
  }
  const ageH = (w.at - w.firstSeen) / 3600_000;
  const maxAgeH = num(rules.new_number, 'maxAgeH');
  if (w.firstSeen > 0 && ageH < maxAgeH && w.firstSeen - observingSince >= maxAgeH * 3600_000) {
    add(out, rules.new_number, rules.new_number.points, 'new_number', {
      hours: Math.max(0, Math.floor(ageH)),
    });
  }
  if (f.sims >= num(rules.sim_farm, 'sims')) {
    add(out, rules.sim_farm, rules.sim_farm.points, 'sim_farm', { sims: f.sims });
  }
  return out;
}

const scratch = new Float64Array(FEATURE_COUNT);

/** The model's verdict and the (at most three) features that pushed it up most, with their figures. */
function modelParams(m: CallerModel, p: number, x: Float64Array, w: CallerWindows): ReasonParams {
  const top = m
    .contributions(x)
    .filter((c) => c.value > 0)
    .slice(0, 3)
    .map((c) => c.feature);
  const params: ReasonParams = { model: m.version, pct: Math.round(p * 1000) / 10 };
  if (top.length) params.features = top.join(',');
  for (const f of top) params[f] = featureFigure(f, w);
  return params;
}

/**
 * The learned caller-risk model (rule `caller_model`): the calibrated probability that this number
 * is a fraud caller given its windows now. At or above the model's threshold (chosen on
 * out-of-fold numbers for 95 % precision, or the rule's minProbability) it adds the rule's points;
 * reasons name the features that pushed it up. A number the detector has seen make no call yet
 * gets no opinion at all: absence of history is neither suspicious nor a pass. The shadow model is
 * scored and reported, never counted.
 */
function modelRisk(rules: ResolvedRules, w: CallerWindows, models: ModelSource, out: Score): void {
  const rule = rules.caller_model;
  if (!rule.enabled || w.attempts7d === 0) return;
  const x = callerFeatures(w, scratch);
  out.judged = w;
  const min = num(rule, 'minProbability');
  const version = str(rule, 'model');
  const m = models.resolve(version);
  if (!m) models.observe?.(version, 'decide', 'missing');
  else {
    const p = m.probability(x);
    const hit = p >= (min > 0 ? min : m.thresholds.suspect);
    models.observe?.(version, 'decide', hit ? 'suspect' : 'below');
    if (hit) add(out, rule, rule.points, 'caller_model', modelParams(m, p, x, w));
  }
  const shadowVersion = str(rule, 'shadowModel');
  if (!shadowVersion) return;
  const s = models.resolve(shadowVersion);
  if (!s) {
    models.observe?.(shadowVersion, 'shadow', 'missing');
    return;
  }
  const p = s.probability(x);
  const hit = p >= s.thresholds.suspect;
  models.observe?.(shadowVersion, 'shadow', hit ? 'suspect' : 'below');
  if (hit) {
    // reported beside the alert it did not decide, never counted
    const params = modelParams(s, p, x, w);
    out.reasons.push({
      rule: rule.id,
      points: 0,
      reportOnly: true,
      code: 'caller_model_shadow',
      params,
      text: reasonTextEn('caller_model_shadow', params),
    });
  }
}

/** What the callee side knows about this call. */
export interface CallContext {
  /** familiarity bits: 1 the callee called this number before, 2 they talked at length */
  familiar: number;
  /** distinct suspect callers that reached the callee in the ring window */
  suspectCallers: number;
  /** seconds since answer (0 at answer) */
  durationS: number;
  age: AgeBandName;
}

/** The largest duration step reached, 0 before the first. */
export function stepReached(rules: ResolvedRules, durationS: number): number {
  let s = 0;
  for (const step of list<number>(rules.long_call, 'stepsS')) if (durationS >= step && step > s) s = step;
  return s;
}

export function isSuspect(rules: ResolvedRules, caller: Score): boolean {
  return caller.score >= num(rules.alert_policy, 'suspectCaller');
}

/** The call's score: the caller's, plus what this call adds (ring relay, duration, age, familiarity). */
export function scoreCall(rules: ResolvedRules, caller: Score, c: CallContext): Score {
  const out: Score = { score: caller.score, total: caller.total, reasons: [...caller.reasons] };
  if (caller.judged) out.judged = caller.judged;
  // The model judges the number, not this call: on its own it speaks for a call only once the call
  // outlasts a nuisance call (people hang up on one within ~20-30 s), so couriers' and call
  // centres' short calls to strangers never make victims of everyone they ring.
  const minCallS = num(rules.caller_model, 'minCallS');
  if (c.durationS < minCallS) {
    out.reasons = out.reasons.map((r) => {
      if (r.rule !== 'caller_model' || r.reportOnly || !r.points) return r;
      out.score -= r.points;
      out.total -= r.points;
      const params = { ...r.params, countsAfter: minCallS };
      return { ...r, points: 0, params, text: reasonTextEn(r.code ?? 'caller_model', params) };
    });
  }
  const suspect = isSuspect(rules, caller);
  if (suspect) {
    const rr = rules.ring_relay;
    if (c.suspectCallers >= num(rr, 'suspectCallers')) {
      add(out, rr, rr.points, 'ring_relay', { suspects: c.suspectCallers });
    }
    const lc = rules.long_call;
    const steps = list<number>(lc, 'stepsS');
    const pts = list<number>(lc, 'stepPoints');
    let p = 0;
    let reached = 0;
    steps.forEach((s, i) => {
      if (c.durationS >= s && (pts[i] ?? 0) >= p) {
        p = pts[i] ?? 0;
        reached = s;
      }
    });
    if (p) add(out, lc, p, 'long_call', { duration: reached });
    const bands = list<string>(rules.vulnerable_age, 'bands');
    if (bands.includes(c.age)) {
      add(out, rules.vulnerable_age, rules.vulnerable_age.points, 'vulnerable_age', { age: c.age });
    }
  }
  const fam = rules.familiar;
  if (c.familiar & 1) add(out, fam, fam.points, 'familiar_called');
  else if (c.familiar & 2) add(out, fam, num(fam, 'talkedPoints'), 'familiar_talked');
  return out;
}

export function victimSeverity(rules: ResolvedRules, s: Score): Severity | null {
  if (s.score >= num(rules.alert_policy, 'victimCritical')) return 'critical';
  if (s.score >= num(rules.alert_policy, 'victimWarning')) return 'warning';
  return null;
}

export function suspectSeverity(rules: ResolvedRules, s: Score): Severity | null {
  if (s.score >= num(rules.alert_policy, 'suspectCritical')) return 'critical';
  if (s.score >= num(rules.alert_policy, 'suspectWarning')) return 'warning';
  return null;
}

export function formatDuration(s: number): string {
  return s % 60 === 0 && s >= 60 ? `${s / 60} minute${s === 60 ? '' : 's'}` : `${s} seconds`;
}

export function ruleIdsOf(s: Score): RuleId[] {
  return s.reasons.map((r) => r.rule as RuleId);
}

/**
 * A call-back to a one-ring number: `callee` are the caller-side windows of the number being
 * called, read at the answer. One-ring ("wangiri") numbers ring many people once and hang up before
 * anyone can answer, so their own profile shows many attempts to many different people with almost
 * none answered; whoever calls such a number back (and is put through to a premium line) is the
 * victim. Only when that pattern holds do the called number's list entries count too (a whitelist
 * subtracts). Score 0 otherwise, so an ordinary call-back (courier, friend) costs nothing.
 */
export function scoreCallback(rules: ResolvedRules, callee: CallerWindows): Score {
  const out: Score = { score: 0, total: 0, reasons: [] };
  const r = rules.callback_to_one_ring;
  if (!r.enabled || callee.attempts24h <= 0) return out;
  const answerRate = callee.answered24h / callee.attempts24h;
  if (
    callee.attempts24h < num(r, 'minAttempts24h') ||
    callee.distinct24h < num(r, 'minDistinct24h') ||
    answerRate > num(r, 'maxAnswerRate')
  )
    return out;
  add(out, r, r.points, 'callback_to_one_ring', {
    distinct: callee.distinct24h,
    attempts: callee.attempts24h,
    answeredPct: Math.round(answerRate * 100),
  });
  // a report-only rule must never decide an alert, not even through the list entries it looked up
  if (!r.reportOnly) listHits(rules, callee, out);
  return out;
}
