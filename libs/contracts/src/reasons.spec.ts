import { FEATURE_NAMES } from '@eagle-eye/scoring';
import { englishReason, featureMessage, REASON_CODES, REASON_MESSAGES_EN, reasonTextEn } from './reasons';

describe('reason messages (libs/contracts)', () => {
  it('has a message for every model feature and every reason id, each parameter filled in', () => {
    for (const f of FEATURE_NAMES) expect(REASON_MESSAGES_EN.features[f]).toEqual(expect.any(String));
    expect(REASON_CODES).toContain('fanout_hour');
    expect(REASON_CODES).not.toContain('features');
    expect(featureMessage('calledBack7d', 0)).toBe('calledBack7d_none');
    expect(featureMessage('calledBack7d', 2)).toBe('calledBack7d');
    expect(featureMessage('handsets', 1)).toBe('handsets_one');
  });

  it('words durations as the detector always did', () => {
    const d = (s: number) => reasonTextEn('long_call', { duration: s });
    expect([60, 90, 180, 600].map(d)).toEqual([
      'on the phone with a suspect stranger for over 1 minute',
      'on the phone with a suspect stranger for over 90 seconds',
      'on the phone with a suspect stranger for over 3 minutes',
      'on the phone with a suspect stranger for over 10 minutes',
    ]);
  });

  it('leaves a missing parameter visible rather than inventing one, and an unknown id as its id', () => {
    expect(englishReason('fanout_hour', {})).toBe('called {distinct} different people in the last hour');
    expect(englishReason('no_such_reason', {})).toBe('no_such_reason');
    expect(reasonTextEn('blacklist', { note: 'case {17}' })).toBe('number is on the blacklist: case {17}');
  });
});
