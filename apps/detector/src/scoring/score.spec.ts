import { defaultRule, ResolvedRules, RULE_IDS, RuleParams } from '@eagle-eye/rules';
import { callerFeatures, CallerModel, emptyWindows, FEATURE_COUNT } from '@eagle-eye/scoring';
import { BUNDLED_MODEL_PATH, ModelSource } from './model-registry';
import {
  CallerWindows,
  CallFacts,
  featureSnapshot,
  scoreCall,
  scoreCallback,
  scoreCaller,
  stepReached,
  suspectSeverity,
  victimSeverity,
} from './score';

const rules = (): ResolvedRules =>
  Object.fromEntries(RULE_IDS.map((id) => [id, defaultRule(id)])) as ResolvedRules;
const AT = 1_800_000_000_000;
const quiet: CallerWindows = {
  ...emptyWindows(AT),
  firstSeen: AT - 30 * 86400_000,
  attempts1h: 1,
  answered1h: 1,
  distinct1h: 1,
  talk1h: 60,
  ended1h: 1,
  attempts24h: 4,
  answered24h: 3,
  distinct24h: 2,
  distinctRegions: 1,
  region: '510100',
};
const plain: CallFacts = { cls: 'MOBILE', country: 'CN', att: 'A', mis: false, age: '29_45', sims: 1 };

describe('scoring', () => {
  it('gives an ordinary subscriber nothing', () => {
    expect(scoreCaller(rules(), quiet, plain)).toEqual({ score: 0, total: 0, reasons: [] });
  });

  it('scores spoofing, virtual operators and SIM farms with plain-word reasons', () => {
    const s = scoreCaller(rules(), quiet, {
      ...plain,
      country: 'KH',
      att: 'C',
      mis: true,
      cls: 'VIRTUAL_OPERATOR',
      sims: 7,
    });
    expect(s.score).toBe(35 + 15 + 30 + 15 + 30);
    expect(s.reasons.map((r) => r.text)).toEqual([
      'call entered from KH but displays a domestic number',
      'caller id could not be verified by the network',
      'displayed number differs from the real one',
      'number belongs to a virtual operator',
      "caller's handset used with 7 different SIMs this week",
    ]);
    // an honestly international call is not spoofing
    expect(scoreCaller(rules(), quiet, { ...plain, country: 'KH', cls: 'INTERNATIONAL' }).score).toBe(0);
  });

  it('calls a number new only when the detector watched long enough before it appeared', () => {
    const fresh = { ...quiet, firstSeen: AT - 3600_000 };
    const newNumber = (since: number) => scoreCaller(rules(), fresh, plain, since).reasons.map((r) => r.rule);
    // observing for three days before the number showed up: its absence was informative
    expect(newNumber(AT - 72 * 3600_000)).toContain('new_number');
    // a detector started two hours ago has seen every number for the first time
    expect(newNumber(AT - 2 * 3600_000)).not.toContain('new_number');
  });

  it('recognises the slow fan-out by calls per counterpart over the day', () => {
    const w = { ...quiet, distinct24h: 22, attempts24h: 27 }; // 1.23 calls each, like the fraud median
    expect(scoreCaller(rules(), w, plain).reasons[0].text).toBe(
      'called 22 different people in 24 hours, 1.23 calls each',
    );
    expect(scoreCaller(rules(), { ...w, attempts24h: 150 }, plain).score).toBe(0); // 6.8 each: a busy normal number
  });

  it('counts report-only rules in the total and the reasons, never in the alerting score', () => {
    const r = rules();
    r.blacklist = { ...r.blacklist, reportOnly: true };
    const s = scoreCaller(r, { ...quiet, listGlobal: 'black|0|case 17' }, plain);
    expect(s).toEqual({
      score: 0,
      total: 100,
      reasons: [
        {
          rule: 'blacklist',
          points: 100,
          code: 'blacklist',
          params: { note: 'case 17' },
          text: 'number is on the blacklist: case 17',
          reportOnly: true,
        },
      ],
    });
    expect(victimSeverity(r, s)).toBeNull();
  });

  it('says each reason as a message id with its figures, and the same in English words', () => {
    const suspect = scoreCaller(rules(), fanout, { ...plain, country: 'KH', sims: 9 });
    const call = scoreCall(rules(), suspect, {
      familiar: 2,
      suspectCallers: 2,
      durationS: 200,
      age: '65_PLUS',
    });
    const said = call.reasons.map((r) => [r.code, r.params, r.text]);
    expect(said).toEqual(
      expect.arrayContaining([
        ['spoofed_origin', { country: 'KH' }, 'call entered from KH but displays a domestic number'],
        ['sim_farm', { sims: 9 }, "caller's handset used with 9 different SIMs this week"],
        ['ring_relay', { suspects: 2 }, '2 different suspect numbers reached this person within the hour'],
        ['long_call', { duration: 180 }, 'on the phone with a suspect stranger for over 3 minutes'],
        ['vulnerable_age', { age: '65_PLUS' }, 'callee is aged 65 or older, a band scammers target'],
        ['familiar_talked', {}, 'callee has talked with this number before'],
      ]),
    );
    for (const r of call.reasons) expect(r.text).not.toMatch(/[{}]/);
  });

  it('ignores expired list entries and lets the whitelist subtract', () => {
    expect(scoreCaller(rules(), { ...quiet, listCarrier: `black|${AT - 1}|old` }, plain).score).toBe(0);
    expect(scoreCaller(rules(), { ...quiet, listCarrier: 'white|0|courier' }, plain).score).toBe(-100);
  });

  it('adds duration steps, ring relay and age only for suspect callers; familiarity subtracts', () => {
    const suspect = { score: 55, total: 55, reasons: [] };
    const ctx = { familiar: 0, suspectCallers: 1, durationS: 0, age: '65_PLUS' as const };
    expect(scoreCall(rules(), suspect, ctx).score).toBe(65);
    expect(scoreCall(rules(), suspect, { ...ctx, durationS: 200 }).score).toBe(85);
    expect(scoreCall(rules(), suspect, { ...ctx, durationS: 601, suspectCallers: 2 }).score).toBe(135);
    expect(scoreCall(rules(), suspect, { ...ctx, familiar: 1 }).score).toBe(5);
    expect(scoreCall(rules(), suspect, { ...ctx, familiar: 2 }).score).toBe(40);
    const harmless = { score: 10, total: 10, reasons: [] };
    expect(scoreCall(rules(), harmless, { ...ctx, durationS: 3600, suspectCallers: 5 }).score).toBe(10);
  });

  it('maps scores to severities and duration to steps', () => {
    const r = rules();
    expect(victimSeverity(r, { score: 59, total: 59, reasons: [] })).toBeNull();
    expect(victimSeverity(r, { score: 60, total: 60, reasons: [] })).toBe('warning');
    expect(victimSeverity(r, { score: 90, total: 90, reasons: [] })).toBe('critical');
    expect(suspectSeverity(r, { score: 85, total: 85, reasons: [] })).toBe('critical');
    expect([0, 59, 60, 179, 180, 599, 600, 5000].map((d) => stepReached(r, d))).toEqual([
      0, 0, 60, 60, 180, 180, 600, 600,
    ]);
  });

  describe('call-back to a one-ring number', () => {
    const ring: CallerWindows = { ...quiet, attempts24h: 120, answered24h: 2, distinct24h: 118 };

    it('scores a called number that rang many people with almost none answered', () => {
      const s = scoreCallback(rules(), ring);
      expect(s.score).toBe(60);
      expect(victimSeverity(rules(), s)).toBe('warning');
      expect(s.reasons[0].text).toBe(
        'called back a number that rang 118 different people in 24 hours (120 calls, 2 % answered): a one-ring call-back scam',
      );
    });

    it('gives ordinary numbers, busy callers people answer and small campaigns nothing', () => {
      expect(scoreCallback(rules(), quiet).score).toBe(0);
      expect(scoreCallback(rules(), { ...ring, answered24h: 60 }).score).toBe(0); // a courier
      expect(
        scoreCallback(rules(), { ...ring, attempts24h: 25, distinct24h: 25, answered24h: 0 }).score,
      ).toBe(0);
    });

    it("adds the called number's list entries, and a report-only rule decides nothing", () => {
      const r = rules();
      const black = { ...ring, listGlobal: 'black|0|confirmed premium-rate fraud' };
      expect(scoreCallback(r, black).score).toBe(160);
      expect(scoreCallback(r, { ...ring, listCarrier: 'white|0|hotline' }).score).toBe(-40);
      r.callback_to_one_ring = { ...r.callback_to_one_ring, reportOnly: true };
      const s = scoreCallback(r, black);
      expect(s.score).toBe(0);
      expect(s.reasons).toEqual([
        expect.objectContaining({ rule: 'callback_to_one_ring', reportOnly: true }),
      ]);
    });
  });
});

/** A day of a fraud SIM as the labelled data shows it: 40 strangers, answered, nobody calls back. */
const fanout: CallerWindows = {
  ...quiet,
  attempts10m: 4,
  attempts1h: 12,
  distinct1h: 12,
  attempts24h: 40,
  answered24h: 40,
  distinct24h: 39,
  newEver24h: 40,
  talk24h: 3000,
  ended24h: 40,
  short24h: 4,
  long24h: 5,
  slots24h: 5,
  attempts7d: 40,
  answered7d: 40,
  distinct7d: 39,
  newEver7d: 40,
  talk7d: 3000,
  ended7d: 40,
  days7d: 1,
};

describe('caller-risk model rule', () => {
  const model = CallerModel.load(BUNDLED_MODEL_PATH);
  const seen: string[] = [];
  const models: ModelSource = {
    resolve: (v) => (v === '' || v === 'other' ? model : null),
    observe: (v, role, outcome) => seen.push(`${v}|${role}|${outcome}`),
  };
  const withModel = (params: RuleParams, reportOnly = false): ResolvedRules => {
    const r = rules();
    r.caller_model = { ...r.caller_model, reportOnly, params: { ...r.caller_model.params, ...params } };
    // isolate the model: the hand-set behaviour rules stay out of these cases
    r.fanout = { ...r.fanout, enabled: false };
    r.call_centre = { ...r.call_centre, enabled: false };
    return r;
  };

  it('makes a likely fraud caller a suspect, with the features that decided in plain words', () => {
    const s = scoreCaller(withModel({}), fanout, plain, 0, models);
    expect(s.score).toBe(55);
    expect(s.reasons).toHaveLength(1);
    expect(s.reasons[0].rule).toBe('caller_model');
    expect(s.reasons[0].text).toMatch(
      new RegExp(`model ${model.version}: [\\d.]+ % likely a fraud caller \\(.+\\)`),
    );
    const params = s.reasons[0].params!;
    expect(s.reasons[0].code).toBe('caller_model');
    expect(params.model).toBe(model.version);
    expect(params.pct).toBeGreaterThan(50);
    // the features that pushed it up, each with its figure: the console words them itself
    const top = String(params.features).split(',');
    expect(top.length).toBeGreaterThan(0);
    for (const f of top) expect(params[f]).toBeDefined();
    // and a call shorter than minCallS keeps the reason, without points, saying how long it waits
    const short = scoreCall(withModel({}), s, {
      familiar: 0,
      suspectCallers: 0,
      durationS: 10,
      age: 'UNKNOWN',
    });
    expect(short.reasons[0]).toMatchObject({ points: 0, params: { ...params, countsAfter: 60 } });
    expect(short.reasons[0].text).toMatch(/\); counts for a call once it passes 1 minute$/);
    expect(suspectSeverity(rules(), s)).toBe('warning');
    expect(seen).toContain('|decide|suspect');
  });

  it('gives no opinion on an ordinary number, nor on one it has seen make no call', () => {
    expect(scoreCaller(withModel({}), quiet, plain, 0, models).reasons).toEqual([]);
    expect(scoreCaller(withModel({}), { ...emptyWindows(AT) }, plain, 0, models).reasons).toEqual([]);
  });

  it('report-only: the reason is shown, the points do not count', () => {
    const s = scoreCaller(withModel({}, true), fanout, plain, 0, models);
    expect(s.score).toBe(0);
    expect(s.total).toBe(55);
    expect(s.reasons[0].reportOnly).toBe(true);
  });

  it('a shadow model is scored and reported but never decides', () => {
    const s = scoreCaller(
      withModel({ minProbability: 0.999999, shadowModel: 'other' }),
      fanout,
      plain,
      0,
      models,
    );
    expect(s.score).toBe(0);
    expect(s.total).toBe(0);
    expect(s.reasons).toEqual([
      expect.objectContaining({ rule: 'caller_model', points: 0, reportOnly: true }),
    ]);
    expect(s.reasons[0].text).toMatch(/^shadow model /);
    expect(seen).toContain('other|shadow|suspect');
  });

  it('keeps the features the model judged (the evidence a reviewed outcome labels), for the call too', () => {
    const s = scoreCaller(withModel({}), fanout, plain, 0, models);
    expect(s.judged).toBe(fanout);
    const x = featureSnapshot(s.judged!);
    expect(x).toEqual(Array.from(callerFeatures(fanout)));
    expect(x).toHaveLength(FEATURE_COUNT);
    // below the threshold too: a reviewed report may label a number the model let through
    const busy = {
      ...quiet,
      attempts7d: 9,
      answered7d: 6,
      distinct7d: 3,
      talk7d: 900,
      ended7d: 9,
      days7d: 3,
    };
    const q = scoreCaller(withModel({}), busy, plain, 0, models);
    expect(q.reasons).toEqual([]);
    expect(q.judged).toBe(busy);
    const call = scoreCall(withModel({}), s, {
      familiar: 0,
      suspectCallers: 0,
      durationS: 300,
      age: 'UNKNOWN',
    });
    expect(call.judged).toBe(fanout);
    // no opinion, no snapshot: a number seen making no call, a class the model does not judge
    expect(scoreCaller(withModel({}), { ...emptyWindows(AT) }, plain, 0, models).judged).toBeUndefined();
    expect(scoreCaller(withModel({ classes: [] }), fanout, plain, 0, models).judged).toBeUndefined();
  });

  it('a version not loaded yet scores as no opinion and is counted', () => {
    const s = scoreCaller(withModel({ model: 'not-there' }), fanout, plain, 0, models);
    expect(s.score).toBe(0);
    expect(seen).toContain('not-there|decide|missing');
  });
});

describe('caller-risk model on a call', () => {
  const model = CallerModel.load(BUNDLED_MODEL_PATH);
  const models: ModelSource = { resolve: (v) => (v === '' ? model : null) };
  const busy = fanout;
  const r = (): ResolvedRules => {
    const x = rules();
    x.fanout = { ...x.fanout, enabled: false };
    return x;
  };
  const ctx = { familiar: 0, suspectCallers: 0, age: '65_PLUS' as const };

  it('speaks for a call only once it outlasts a nuisance call', () => {
    const caller = scoreCaller(r(), busy, plain, 0, models);
    expect(caller.score).toBe(55);
    const atAnswer = scoreCall(r(), caller, { ...ctx, durationS: 0 });
    expect(victimSeverity(r(), atAnswer)).toBeNull();
    expect(atAnswer.reasons.find((x) => x.rule === 'caller_model')?.text).toMatch(
      /counts for a call once it passes 1 minute/,
    );
    const at60 = scoreCall(r(), caller, { ...ctx, durationS: 60 });
    expect(victimSeverity(r(), at60)).toBe('warning');
  });

  it('only judges the number classes it was trained on (mobile subscribers)', () => {
    expect(scoreCaller(r(), busy, { ...plain, cls: 'FIXED' }, 0, models).score).toBe(0);
  });
});
