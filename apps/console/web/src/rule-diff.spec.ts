import { changedParams, formatParam, parseParam, ruleChanges, RuleFields } from './rule-diff';

describe('rule changes (the rule dialog preview and the version history)', () => {
  it('reads a typed parameter back in the kind of its current value, or refuses it', () => {
    expect(parseParam(15, ' 20 ')).toBe(20);
    expect(parseParam(0.3, '0.25')).toBe(0.25);
    expect(parseParam(15, '2O')).toBeNull();
    expect(parseParam(15, '')).toBeNull();
    expect(parseParam('CN', ' HK ')).toBe('HK');
    expect(parseParam([60, 180, 600], '60, 120，600')).toEqual([60, 120, 600]);
    expect(parseParam([60, 180, 600], '60,,600')).toBeNull();
    expect(parseParam([60, 180, 600], '60, x')).toBeNull();
    expect(parseParam(['MOBILE'], 'MOBILE、VIRTUAL_OPERATOR')).toEqual(['MOBILE', 'VIRTUAL_OPERATOR']);
    expect(parseParam(['MOBILE'], '')).toEqual([]);
    expect(formatParam([60, 180])).toBe('60, 180');
    expect(formatParam(undefined)).toBe('—');
  });

  it('lists exactly what differs, switches and points first, then each parameter', () => {
    const before: RuleFields = {
      enabled: true,
      reportOnly: false,
      points: 35,
      params: { stepsS: [60, 180, 600], recheckS: 300, homeCountry: 'CN' },
    };
    expect(ruleChanges(before, structuredClone(before))).toEqual([]);
    const after: RuleFields = {
      ...before,
      reportOnly: true,
      points: 40,
      params: { stepsS: [60, 120, 600], recheckS: 300, homeCountry: 'CN', added: 1 },
    };
    expect(ruleChanges(before, after)).toEqual([
      { kind: 'reportOnly', before: false, after: true },
      { kind: 'points', before: 35, after: 40 },
      { kind: 'param', name: 'stepsS', before: '60, 180, 600', after: '60, 120, 600' },
      { kind: 'param', name: 'added', before: '—', after: '1' },
    ]);
    expect(changedParams(before.params, after.params)).toEqual({ stepsS: [60, 120, 600], added: 1 });
  });
});
