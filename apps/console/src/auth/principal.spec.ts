import { alertScopeSql, Principal } from './principal';

const base: Principal = {
  userId: '1',
  username: 'u',
  role: 'supervisor',
  carrierId: null,
  regions: [],
  displayName: '',
};

describe('alertScopeSql', () => {
  it('binds a carrier operator to its carrier', () => {
    const params: unknown[] = ['x'];
    expect(alertScopeSql({ ...base, role: 'carrier_operator', carrierId: 'carrier-a' }, params)).toBe(
      'a.carrier_id = $2',
    );
    expect(params).toEqual(['x', 'carrier-a']);
  });
  it('binds police to alerts routed to police in their regions', () => {
    const params: unknown[] = [];
    expect(alertScopeSql({ ...base, role: 'police_officer', regions: ['510100'] }, params)).toBe(
      '(a.police AND a.region = ANY($1::text[]))',
    );
    expect(params).toEqual([['510100']]);
  });
  it('lets supervisors and admins see everything', () => {
    expect(alertScopeSql(base, [])).toBe('TRUE');
    expect(alertScopeSql({ ...base, role: 'admin' }, [])).toBe('TRUE');
  });
});
