import { byPrefecture, fillTrend, hourLabel } from './intel-api';

describe('situation page helpers', () => {
  it('labels hours in the deployment zone as the server does', () => {
    expect(hourLabel(Date.parse('2026-03-01T16:30:00Z'), 'Asia/Shanghai')).toBe('2026-03-02T00:00');
  });

  it('fills hours without alerts with 0 and sums days in the deployment zone', () => {
    const t = fillTrend(
      [
        { hour: '2026-03-01T23:00', alerts: 2 },
        { hour: '2026-03-02T01:00', alerts: 3 },
      ],
      '2026-03-01T15:00:00Z', // 23:00 in Shanghai
      '2026-03-01T18:00:00Z',
      'Asia/Shanghai',
    );
    expect(t.hours).toEqual([
      { hour: '2026-03-01T23:00', alerts: 2 },
      { hour: '2026-03-02T00:00', alerts: 0 },
      { hour: '2026-03-02T01:00', alerts: 3 },
    ]);
    expect(t.days).toEqual([
      { day: '2026-03-01', alerts: 2 },
      { day: '2026-03-02', alerts: 3 },
    ]);
  });

  it('counts county codes under their prefecture and keeps what the map cannot show', () => {
    const r = byPrefecture(
      [
        { region: '510100', alerts: 4 },
        { region: '510104', alerts: 1 },
        { region: '513400', alerts: 2 },
        { region: '500000', alerts: 5 },
        { region: '', alerts: 1 },
      ],
      ['510100', '513400'],
    );
    expect([...r.onMap]).toEqual([
      ['510100', 5],
      ['513400', 2],
    ]);
    expect(r.offMap).toEqual([
      { region: '500000', alerts: 5 },
      { region: '', alerts: 1 },
    ]);
  });
});
