import type { AgeBandName } from './handoff';

/**
 * Alert reasons as a message id with its figures, rendered where they are read: the detector
 * (apps/detector/src/scoring/score.ts) says which message and with which figures, the console
 * words it in the operator's language through vue-i18n (`reasons.*` of its messages), and the
 * English here is both the console's English and the reason's `text` (logs, API readers, alerts
 * stored before reasons had codes). Messages use vue-i18n's syntax: `{name}` is a parameter.
 */

/** A reason's figures: counts, percentages, a model version, a list note. */
export type ReasonParams = Record<string, number | string>;

/** English for every reason message. The console's English is this object; zh-CN mirrors its shape. */
export const REASON_MESSAGES_EN = {
  blacklist: 'number is on the blacklist: {note}',
  graylist: 'number is on the graylist: {note}',
  whitelist: 'number is whitelisted: {note}',
  fanout_hour: 'called {distinct} different people in the last hour',
  fanout_day: 'called {distinct} different people in 24 hours, {perCallee} calls each',
  call_centre:
    'call-centre pattern: {attempts1h} calls in the last hour ({attempts10m} in 10 minutes), {answeredPct} % answered, {shortPct} % of answered ones short',
  spoofed_origin: 'call entered from {country} but displays a domestic number',
  unverified_caller_id: 'caller id could not be verified by the network',
  display_mismatch: 'displayed number differs from the real one',
  virtual_operator: 'number belongs to a virtual operator',
  new_number: 'number first seen {hours} hours ago',
  sim_farm: "caller's handset used with {sims} different SIMs this week",
  caller_model: 'model {model}: {pct} % likely a fraud caller',
  caller_model_shadow: 'shadow model {model}: {pct} % likely a fraud caller',
  ring_relay: '{suspects} different suspect numbers reached this person within the hour',
  long_call: 'on the phone with a suspect stranger for over {duration}',
  vulnerable_age: 'callee is aged {age}, a band scammers target',
  familiar_called: 'callee has called this number before',
  familiar_talked: 'callee has talked with this number before',
  callback_to_one_ring:
    'called back a number that rang {distinct} different people in 24 hours ({attempts} calls, {answeredPct} % answered): a one-ring call-back scam',
  /** the model's reasons name the features that pushed it up: `features` lists them, comma-separated */
  features: {
    attempts10m: '{attempts10m} calls in the last 10 minutes',
    attempts1h: '{attempts1h} calls in the last hour',
    distinct1h: 'called {distinct1h} different people in the last hour',
    attempts24h: '{attempts24h} calls in 24 hours',
    distinct24h: 'called {distinct24h} different people in 24 hours',
    callsPerCallee24h: '{callsPerCallee24h} calls per person in 24 hours',
    newShare24h: "{newShare24h} % of today's calls to people it never called before",
    answeredShare24h: '{answeredShare24h} % of its calls answered',
    talkMean24h: 'talks {talkMean24h} s per answered call',
    shortShare24h: '{shortShare24h} % of answered calls hung up within seconds',
    longShare24h: '{longShare24h} % of answered calls last over 3 minutes',
    slots24h: 'calling in {slots24h} of the last twelve 2-hour slots',
    attempts7d: '{attempts7d} calls in 7 days',
    distinct7d: 'called {distinct7d} different people in 7 days',
    callsPerCallee7d: '{callsPerCallee7d} calls per person in 7 days',
    newShare7d: "{newShare7d} % of the week's calls to people it never called before",
    days7d: 'active on {days7d} of the last 7 days',
    talkMean7d: 'talks {talkMean7d} s per answered call this week',
    inShare24h: "{inShare24h} % of today's calls outgoing",
    inShare7d: "{inShare7d} % of the week's calls outgoing",
    calledBack7d: '{calledBack7d} calls back from people it called this week',
    calledBack7d_none: 'nobody it called has called back',
    calledBackShare7d: '{calledBackShare7d} % of the people it called this week called back',
    handsets: 'calls from {handsets} different handsets',
    handsets_one: 'calls from 1 handset',
  },
  /** how a reason's parts join: the model's features after it, the minimum call length it waits for */
  join: {
    withFeatures: '{reason} ({features})',
    separator: '; ',
    countsAfter: '{reason}; counts for a call once it passes {duration}',
  },
  duration: { minute: '1 minute', minutes: '{n} minutes', seconds: '{n} seconds' },
  ages: {
    UNDER_18: 'under 18',
    '18_28': '18-28',
    '29_45': '29-45',
    '46_64': '46-64',
    '65_PLUS': '65 or older',
    UNKNOWN: 'unknown',
  } satisfies Record<AgeBandName, string>,
} as const;

type Shape<T> = { [K in keyof T]: T[K] extends string ? string : Shape<T[K]> };
/** The shape every language's reason messages have (a missing translation fails the type check). */
export type ReasonMessages = Shape<typeof REASON_MESSAGES_EN>;

type TopLevel = typeof REASON_MESSAGES_EN;
/** A reason message id: one per sentence a rule can say. */
export type ReasonCode = {
  [K in keyof TopLevel]: TopLevel[K] extends string ? K : never;
}[keyof TopLevel];
export type FeatureMessage = keyof TopLevel['features'];

export const REASON_CODES = Object.keys(REASON_MESSAGES_EN).filter(
  (k) => typeof REASON_MESSAGES_EN[k as keyof TopLevel] === 'string',
) as ReasonCode[];

/** Parameters the renderer words itself before they reach a message: seconds as a duration, an age band by name. */
const DURATION_PARAMS = new Set(['duration', 'countsAfter']);

/** Looks a message up by its path under `reasons` and fills in its parameters. */
export type ReasonTranslate = (path: string, params?: Record<string, string | number>) => string;

/** The message id of a model feature's figure (some read differently at 0 or 1). */
export function featureMessage(feature: string, value: number | string | undefined): string {
  if (feature === 'calledBack7d' && value === 0) return 'calledBack7d_none';
  if (feature === 'handsets' && value === 1) return 'handsets_one';
  return feature;
}

/**
 * A coded reason in words, through `t` (vue-i18n's `t` with the `reasons.` prefix in the
 * console, `englishReason` here). The model's reason lists its features (`features`:
 * comma-separated ids, each figure under its own id) and may wait for a call length
 * (`countsAfter`, seconds); a vulnerable age names its band (`age`).
 */
export function renderReason(code: string, params: ReasonParams, t: ReasonTranslate): string {
  // most reasons have plain figures: no copy for them (the detector words every reason it scores)
  let p: Record<string, string | number> = params;
  if ('duration' in params || 'countsAfter' in params || 'age' in params) {
    p = { ...params };
    for (const k of DURATION_PARAMS) if (typeof p[k] === 'number') p[k] = renderDuration(p[k] as number, t);
    if (typeof p.age === 'string') p.age = t(`ages.${p.age}`);
  }
  let out = t(code, p);
  if (typeof params.features === 'string' && params.features) {
    const features = params.features.split(',');
    const list = features.map((f) => t(`features.${featureMessage(f, params[f])}`, p));
    out = t('join.withFeatures', { reason: out, features: list.join(t('join.separator')) });
  }
  if (typeof p.countsAfter === 'string')
    out = t('join.countsAfter', { reason: out, duration: p.countsAfter });
  return out;
}

function renderDuration(s: number, t: ReasonTranslate): string {
  if (s === 60) return t('duration.minute');
  return s % 60 === 0 && s > 60 ? t('duration.minutes', { n: s / 60 }) : t('duration.seconds', { n: s });
}

const compiled = new Map<string, (string | { name: string })[]>();

/** `t` over the English messages: `{name}` replaced by the parameter (left as is when missing). */
export const englishReason: ReasonTranslate = (path, params = {}) => {
  let parts = compiled.get(path);
  if (!parts) {
    let node: unknown = REASON_MESSAGES_EN;
    for (const k of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[k];
    if (typeof node !== 'string') return path;
    parts = node.split(/(\{[A-Za-z0-9_]+\})/).map((s) => (/^\{.+\}$/.test(s) ? { name: s.slice(1, -1) } : s));
    compiled.set(path, parts);
  }
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else out += part.name in params ? String(params[part.name]) : `{${part.name}}`;
  }
  return out;
};

/** A coded reason's English: what its `text` says. */
export function reasonTextEn(code: string, params: ReasonParams): string {
  return renderReason(code, params, englishReason);
}
