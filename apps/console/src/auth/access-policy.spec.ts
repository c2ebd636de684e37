import {
  alertScopeSql,
  can,
  carrierFilter,
  claimSide,
  ClaimState,
  listScopes,
  mayEscalate,
  mayReadListScope,
  mayRecordOutcome,
  Permission,
  PERMISSIONS,
  roomsForPrincipal,
  socketScopeUnchanged,
} from './access-policy';
import { Principal, Role, ROLES } from './principal';

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

/** The whole matrix, spelled out: a change of policy must change this table too. */
const MATRIX: Record<Permission, string> = {
  //                            operator officer supervisor admin
  'alerts.read': '                 x       x       x        x',
  'alerts.work': '                 x       x       x        -',
  'alerts.escalate': '             x       -       x        -',
  'lists.read': '                  x       x       x        x',
  'lists.add': '                   -       x       x        x',
  'lists.add_white': '             -       -       x        x',
  'lists.remove': '                -       -       x        x',
  'lists.whitelist_candidates': '  x       -       x        x',
  'rules.read': '                  -       -       x        x',
  'rules.write': '                 -       -       x        x',
  'users.manage': '                -       -       -        x',
  'audit.read': '                  -       -       x        x',
  'dead_letters.manage': '         -       -       x        x',
  'backtests.run': '               -       -       x        -',
  'intel.overview': '              -       x       x        x',
  'intel.number': '                x       x       x        x',
  'reports.read': '                -       -       x        x',
  'reports.review': '              -       -       x        -',
  'report_partners.manage': '      -       -       -        x',
};

describe('access matrix', () => {
  it('names every permission of the policy', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(Object.keys(PERMISSIONS).sort());
  });
  it.each(Object.entries(MATRIX))('%s', (action, row) => {
    const marks = row.trim().split(/\s+/);
    expect(marks).toHaveLength(ROLES.length);
    ROLES.forEach((role, i) =>
      expect([role, can({ role }, action as Permission)]).toEqual([role, marks[i] === 'x']),
    );
  });
});

const as = (role: Role, extra: Partial<Principal> = {}): Principal => ({
  ...base,
  role,
  username: role,
  ...(role === 'carrier_operator' ? { carrierId: 'carrier-a' } : {}),
  ...(role === 'police_officer' ? { regions: ['510100'] } : {}),
  ...extra,
});

describe('rows in scope', () => {
  it('lists: operators see global and their carrier, everyone else all', () => {
    expect(listScopes(as('carrier_operator'))).toEqual(['*', 'carrier-a']);
    expect(listScopes(as('police_officer'))).toBeNull();
    expect(listScopes(as('supervisor'))).toBeNull();
    expect(mayReadListScope(as('carrier_operator'), 'carrier-b')).toBe(false);
    expect(mayReadListScope(as('carrier_operator'), 'carrier-a')).toBe(true);
    expect(mayReadListScope(as('police_officer'), 'carrier-a')).toBe(true);
    expect(mayReadListScope(as('admin'), 'carrier-b')).toBe(true);
  });
  it('per-carrier data: an operator without a carrier sees none', () => {
    expect(carrierFilter(as('carrier_operator'))).toBe('carrier-a');
    expect(carrierFilter(as('carrier_operator', { carrierId: null }))).toBe('-');
    expect(carrierFilter(as('police_officer'))).toBeNull();
  });
  it('sockets join the rooms of their scope, and a changed scope closes them', () => {
    expect(roomsForPrincipal(as('carrier_operator'))).toEqual(['carrier:carrier-a']);
    expect(roomsForPrincipal(as('police_officer', { regions: ['510100', '510700'] }))).toHaveLength(2);
    const officer = as('police_officer', { regions: ['510100', '510700'] });
    expect(socketScopeUnchanged(officer, { ...officer, regions: ['510700', '510100'] })).toBe(true);
    expect(socketScopeUnchanged(officer, { ...officer, regions: ['510100'] })).toBe(false);
    expect(socketScopeUnchanged(as('supervisor'), as('admin'))).toBe(false);
  });
});

describe('claims', () => {
  const open: ClaimState = { state: 'open', claimed_by: null, police_claimed_by: null };
  const deskHeld: ClaimState = { state: 'claimed', claimed_by: 'alice', police_claimed_by: null };
  it('police claim beside the desk, never instead of it', () => {
    expect(claimSide(as('police_officer'))).toBe('police');
    expect(claimSide(as('carrier_operator'))).toBe('desk');
    expect(claimSide(as('supervisor'))).toBe('desk');
  });
  it('an outcome needs your own claim on your side, or a supervisor', () => {
    const alice = as('carrier_operator', { username: 'alice' });
    const bob = as('carrier_operator', { username: 'bob' });
    const officer = as('police_officer', { username: 'li' });
    expect(mayRecordOutcome(alice, deskHeld)).toBe(true);
    expect(mayRecordOutcome(bob, deskHeld)).toBe(false);
    expect(mayRecordOutcome(officer, deskHeld)).toBe(false);
    expect(mayRecordOutcome(officer, { ...deskHeld, police_claimed_by: 'li' })).toBe(true);
    expect(mayRecordOutcome(alice, { ...open, police_claimed_by: 'alice' })).toBe(false);
    expect(mayRecordOutcome(as('supervisor'), open)).toBe(true);
    expect(mayRecordOutcome(as('admin'), deskHeld)).toBe(false);
  });
  it("escalation never drops another person's claim unless a supervisor does it", () => {
    expect(mayEscalate(as('carrier_operator', { username: 'bob' }), deskHeld)).toEqual({
      allowed: false,
      dropsClaimOf: 'alice',
    });
    expect(mayEscalate(as('carrier_operator', { username: 'alice' }), deskHeld)).toEqual({
      allowed: true,
      dropsClaimOf: null,
    });
    expect(mayEscalate(as('supervisor'), deskHeld)).toEqual({ allowed: true, dropsClaimOf: 'alice' });
    expect(mayEscalate(as('police_officer'), open).allowed).toBe(false);
  });
});
