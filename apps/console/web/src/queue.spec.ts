import type { AlertView } from '@eagle-eye/contracts/alerts';
import { sections, topReason } from './queue';

const base: AlertView = {
  id: 'x',
  kind: 'victim_on_call',
  callId: 'c',
  carrierId: 'carrier-a',
  victim: 'v',
  suspect: 's',
  region: '510100',
  severity: 'warning',
  score: 70,
  reasons: [],
  callAnsweredAt: '2026-01-01T00:00:00Z',
  callEndedAt: null,
  talkTimeS: null,
  raisedAt: '2026-01-01T00:03:00Z',
  updatedAt: '2026-01-01T00:03:00Z',
  state: 'open',
  claimedBy: null,
  outcome: null,
  seq: 1,
};
const alert = (o: Partial<AlertView>): AlertView => ({ ...base, ...o });

describe('queue sections', () => {
  it('puts victims on a running call first, the longest call then the highest score first', () => {
    const s = sections(
      [
        alert({ id: 'suspect', kind: 'suspect_number', severity: 'critical', callAnsweredAt: null }),
        alert({
          id: 'ended-critical',
          severity: 'critical',
          callEndedAt: '2026-01-01T00:10:00Z',
          talkTimeS: 600,
        }),
        alert({ id: 'short', callAnsweredAt: '2026-01-01T00:05:00Z', severity: 'critical', score: 150 }),
        alert({ id: 'long-low', score: 60 }),
        alert({ id: 'long-high', score: 90 }),
        alert({ id: 'closed', state: 'closed' }),
      ],
      { showClosed: false, region: '' },
    );
    expect(s.live.map((a) => a.id)).toEqual(['long-high', 'long-low', 'short']);
    expect(s.ended.map((a) => a.id)).toEqual(['ended-critical']);
    expect(s.suspects.map((a) => a.id)).toEqual(['suspect']);
  });

  it('shows closed alerts on request (below the open ones) and filters by region', () => {
    const s = sections(
      [
        alert({ id: 'closed', state: 'closed', kind: 'post_call', raisedAt: '2026-01-02T00:00:00Z' }),
        alert({ id: 'open', kind: 'post_call' }),
        alert({ id: 'mianyang', kind: 'post_call', region: '510700' }),
      ],
      { showClosed: true, region: '510100' },
    );
    expect(s.ended.map((a) => a.id)).toEqual(['open', 'closed']);
  });

  it('names the reason that counted most, enforced rules first', () => {
    expect(
      topReason({
        reasons: [
          { rule: 'a', points: 50, text: 'report only', reportOnly: true },
          { rule: 'b', points: 10, text: 'small' },
          { rule: 'c', points: 40, text: 'big' },
        ],
      })?.text,
    ).toBe('big');
    expect(topReason({ reasons: [] })).toBeNull();
  });
});
