import { roomsForAlert as roomsFor } from '@eagle-eye/contracts';

describe('roomsFor', () => {
  it('sends a carrier-only alert to its carrier and supervisors', () => {
    expect(roomsFor({ carrierId: 'carrier-a', region: '510100', routedToPolice: false })).toEqual([
      'carrier:carrier-a',
      'all',
    ]);
  });
  it('adds the region room once routed to police', () => {
    expect(roomsFor({ carrierId: 'carrier-b', region: '510700', routedToPolice: true })).toEqual([
      'carrier:carrier-b',
      'all',
      'region:510700',
    ]);
  });
  it('has no police room without a region', () => {
    expect(roomsFor({ carrierId: 'carrier-b', region: null, routedToPolice: true })).toEqual([
      'carrier:carrier-b',
      'all',
    ]);
  });
});
