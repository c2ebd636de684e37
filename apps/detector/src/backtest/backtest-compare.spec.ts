import { AlertJobName } from '@eagle-eye/contracts';
import { RULE_IDS, RuleSet, defaultRule } from '@eagle-eye/rules';
import { BacktestAlert, compareAlerts, formatComparison, LiveAlert } from './backtest-compare';
import { CollectingSink } from './backtest-replay';
import { applyCandidate, CandidateRulesError, FixedRules, parseCandidateChanges } from './candidate-rules';

const T = Date.UTC(2026, 10, 24, 2, 0, 0);
const call = (callId: string, severity: 'warning' | 'critical' = 'warning'): BacktestAlert => ({
  kind: 'victim_on_call',
  carrierId: 'carrier-a',
  callId,
  suspect: 'p1.k1.aaaaaaaaaaaaaaaaaaaaaa',
  severity,
  eventTimeMs: T,
});
const live = (a: BacktestAlert, id: string, outcome: LiveAlert['outcome'] = null): LiveAlert => ({
  ...a,
  id,
  outcome,
});

describe('compareAlerts', () => {
  it('matches by carrier, kind and call (or suspect), and counts what the candidate drops per outcome', () => {
    const suspect: BacktestAlert = {
      kind: 'suspect_number',
      carrierId: 'carrier-a',
      suspect: 'p1.k1.bbbbbbbbbbbbbbbbbbbbbb',
      severity: 'critical',
      eventTimeMs: T,
    };
    const liveAlerts = [
      live(call('c1'), '1', 'confirmed_fraud'),
      live(call('c2'), '2', 'confirmed_fraud'),
      live(call('c3', 'critical'), '3', 'false_positive'),
      live(suspect, '4'),
    ];
    const backtest = [
      call('c1', 'critical'),
      call('c3', 'critical'),
      // the same call under another kind is another alert
      { ...call('c2'), kind: 'post_call' as const },
      { ...suspect, eventTimeMs: T + 60_000 },
      // the same call id of another carrier too
      { ...call('c1'), carrierId: 'carrier-b' },
    ];
    const cmp = compareAlerts(liveAlerts, backtest);
    expect(cmp.counts).toMatchObject({
      live: 4,
      backtest: 5,
      matched: 3,
      missed: 1,
      new: 2,
      severityChanged: 1,
    });
    expect(cmp.missed.map((a) => a.id)).toEqual(['2']);
    expect(cmp.severityChanged.map((m) => [m.live.severity, m.backtest.severity])).toEqual([
      ['warning', 'critical'],
    ]);
    expect(cmp.counts.byOutcome).toMatchObject({
      confirmed_fraud: { live: 2, kept: 1, dropped: 1 },
      false_positive: { live: 1, kept: 1, dropped: 0 },
      open: { live: 1, kept: 1, dropped: 0 },
    });
    expect(cmp.counts.byKind.post_call).toEqual({ live: 0, backtest: 1, matched: 0, missed: 0, new: 1 });
    const text = formatComparison(cmp).join('\n');
    expect(text).toContain('matched 3 (severity differs on 1), missed 1 (live only), new 2 (backtest only)');
    expect(text).toContain(
      'WARNING: this change would have dropped 1 alert(s) that desks confirmed as fraud',
    );
    expect(text).not.toContain('raises exactly the live alerts');
  });

  it('says so when the candidate raises exactly the live alerts', () => {
    const cmp = compareAlerts([live(call('c1'), '1')], [call('c1')]);
    expect(formatComparison(cmp)).toContain('  the candidate raises exactly the live alerts');
  });
});

describe('CollectingSink', () => {
  it('keeps one alert per key at its highest severity, first event time, and ignores call ends', async () => {
    const sink = new CollectingSink();
    const job = (severity: 'warning' | 'critical', t: number) => ({
      name: AlertJobName.VictimOnCall,
      data: {
        kind: 'victim_on_call',
        carrierId: 'carrier-a',
        callId: 'c1',
        victim: 'p1.k1.cccccccccccccccccccccc',
        suspect: 'p1.k1.aaaaaaaaaaaaaaaaaaaaaa',
        region: '510100',
        severity,
        score: 70,
        reasons: [],
        callAnsweredAt: T,
        stepS: 0,
        eventTimeMs: t,
        raisedAt: t,
      } as never,
    });
    await sink.publish([job('warning', T), job('critical', T + 60_000), job('warning', T + 120_000)]);
    await sink.publish([
      { name: AlertJobName.CallEnded, data: { carrierId: 'carrier-a', callId: 'c1' } as never },
    ]);
    expect([...sink.alerts.values()]).toEqual([
      expect.objectContaining({ kind: 'victim_on_call', callId: 'c1', severity: 'critical', eventTimeMs: T }),
    ]);
  });
});

describe('candidate rules', () => {
  const active: RuleSet = {
    version: 7,
    global: new Map(RULE_IDS.map((id) => [id, { ...defaultRule(id), version: 1 }])),
    overrides: new Map([
      ['carrier-b', new Map([['fanout', { ...defaultRule('fanout'), scope: 'carrier-b', points: 40 }]])],
    ]),
  };

  it('applies changes on top of the active set without touching it', () => {
    const changes = parseCandidateChanges(
      JSON.stringify({
        changes: [
          { ruleId: 'fanout', scope: '*', params: { distinct1h: 25 } },
          { ruleId: 'fanout', scope: 'carrier-b', enabled: false },
          { ruleId: 'graylist', scope: 'carrier-c', points: 20, reportOnly: true },
        ],
      }),
    );
    const set = applyCandidate(active, changes);
    const rules = new FixedRules(set);
    expect(rules.forCarrier('carrier-a').fanout).toMatchObject({
      enabled: true,
      params: { distinct1h: 25, distinct24h: 20 },
    });
    // an override keeps its own values and takes the change
    expect(rules.forCarrier('carrier-b').fanout).toMatchObject({ enabled: false, points: 40 });
    expect(rules.forCarrier('carrier-c').graylist).toMatchObject({
      points: 20,
      reportOnly: true,
      scope: 'carrier-c',
    });
    expect(rules.forCarrier('carrier-a').graylist.points).toBe(40);
    expect(active.global.get('fanout')?.params.distinct1h).toBe(15);
    expect(active.overrides.get('carrier-b')?.get('fanout')?.enabled).toBe(true);
  });

  it.each([
    ['{', /not JSON/],
    ['{"ruleId":"fanout"}', /must be a JSON array/],
    ['[{"ruleId":"no_such_rule"}]', /change 1: unknown rule "no_such_rule"/],
    ['[{"ruleId":"fanout","scope":"Carrier A"}]', /scope must be/],
    ['[{"ruleId":"fanout","enabled":"yes"}]', /enabled must be true or false/],
    ['[{"ruleId":"fanout","points":5000}]', /points must be an integer between -1000 and 1000/],
    ['[{"ruleId":"fanout","params":{"distinct1h":"many"}}]', /parameter distinct1h must be/],
    ['[{"ruleId":"fanout","params":{"nope":1}}]', /has no parameter nope/],
    ['[{"ruleId":"fanout","colour":"red"}]', /unknown field\(s\) colour/],
  ])('refuses %s', (json, why) => {
    expect(() => parseCandidateChanges(json)).toThrow(CandidateRulesError);
    expect(() => parseCandidateChanges(json)).toThrow(why);
  });
});
