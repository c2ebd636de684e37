import { AlertRooms } from '@eagle-eye/contracts';
import { Principal, Role } from './principal';

/**
 * Every access decision of the console in one place, used by REST routes (the `Allow` decorator
 * and AuthGuard), by services (alert actions) and by sockets (rooms, re-checks):
 *
 * - **What** a role may do: `PERMISSIONS`, checked by `can` (403 otherwise).
 * - **Which rows** it may see: `alertScopeSql` (its carrier's alerts; for police, alerts routed to
 *   police in its regions; supervisors and admins everything), `listScopes`, `roomsForPrincipal`.
 *   An alert outside the scope is simply not found (404), never a 403 that confirms it exists.
 * - **Which claim** a person holds on an alert and what that lets them do: `claimSide`,
 *   `mayRecordOutcome`, `mayEscalate`.
 *
 * A change of policy is a change of this file and of `access-policy.spec.ts`, which spells the
 * whole matrix out.
 */

/** Actions a route or a service asks permission for. */
export const PERMISSIONS = {
  /** read alerts in scope (list, detail, history, notes, socket) */
  'alerts.read': ['carrier_operator', 'police_officer', 'supervisor', 'admin'],
  /** claim, record an outcome, add a note */
  'alerts.work': ['carrier_operator', 'police_officer', 'supervisor'],
  /** hand an alert to police by hand */
  'alerts.escalate': ['carrier_operator', 'supervisor'],
  /** read the black, gray and white lists (carrier operators: global and their own carrier's) */
  'lists.read': ['carrier_operator', 'police_officer', 'supervisor', 'admin'],
  /** add to the black or gray list */
  'lists.add': ['police_officer', 'supervisor', 'admin'],
  /** add to the white list (exempts a number from detection) */
  'lists.add_white': ['supervisor', 'admin'],
  'lists.remove': ['supervisor', 'admin'],
  'lists.whitelist_candidates': ['carrier_operator', 'supervisor', 'admin'],
  'rules.read': ['supervisor', 'admin'],
  'rules.write': ['supervisor', 'admin'],
  'users.manage': ['admin'],
  'audit.read': ['supervisor', 'admin'],
  'dead_letters.manage': ['supervisor', 'admin'],
  /** ask for a backtest of candidate rule changes and read its report */
  'backtests.run': ['supervisor'],
  'intel.overview': ['police_officer', 'supervisor', 'admin'],
  'intel.number': ['carrier_operator', 'police_officer', 'supervisor', 'admin'],
  'reports.read': ['supervisor', 'admin'],
  'reports.review': ['supervisor'],
  'report_partners.manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

/** Whether the principal's role may do this at all (rows are limited separately, by scope). */
export function can(p: Pick<Principal, 'role'>, action: Permission): boolean {
  return (PERMISSIONS[action] as readonly Role[]).includes(p.role);
}

/**
 * The SQL condition limiting alerts (table alias `alias`) to what a principal may see: its own
 * carrier's, or, for police, those routed to police in its own regions. Parameters are appended
 * to `params`; the returned fragment references them by position.
 */
export function alertScopeSql(p: Principal, params: unknown[], alias = 'a'): string {
  if (!/^[a-z]\w*$/.test(alias)) throw new Error(`bad table alias ${alias}`);
  switch (p.role) {
    case 'carrier_operator':
      params.push(p.carrierId);
      return `${alias}.carrier_id = $${params.length}`;
    case 'police_officer':
      params.push(p.regions);
      return `(${alias}.police AND ${alias}.region = ANY($${params.length}::text[]))`;
    case 'supervisor':
    case 'admin':
      return 'TRUE';
    default: {
      const never: never = p.role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
}

/**
 * The list scopes (`*` global, or a carrier id) a reader sees; null: all of them. A carrier's own
 * entries are its business (its customers on its white list): other carriers do not see them;
 * police and supervisors see every list.
 */
export function listScopes(p: Principal): string[] | null {
  switch (p.role) {
    case 'carrier_operator':
      return ['*', p.carrierId ?? '*'];
    case 'police_officer':
    case 'supervisor':
    case 'admin':
      return null;
    default: {
      const never: never = p.role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
}

/**
 * The carrier a reader's per-carrier data (whitelist candidates, reports) is limited to; null: every
 * carrier. A carrier operator without a carrier sees none (`-` matches no carrier id).
 */
export function carrierFilter(p: Principal): string | null {
  return p.role === 'carrier_operator' ? (p.carrierId ?? '-') : null;
}

/** Whether a reader may ask for list entries of `scope` (undefined: the scopes it sees). */
export function mayReadListScope(p: Principal, scope: string | undefined): boolean {
  const scopes = listScopes(p);
  return scope === undefined || scopes === null || scopes.includes(scope);
}

/** The rooms a user's socket joins: its carrier, its regions (police), or everything. */
export function roomsForPrincipal(p: Principal): string[] {
  switch (p.role) {
    case 'carrier_operator':
      return p.carrierId ? [AlertRooms.carrier(p.carrierId)] : [];
    case 'police_officer':
      return p.regions.map((r) => AlertRooms.region(r));
    case 'supervisor':
    case 'admin':
      return [AlertRooms.all];
    default: {
      const never: never = p.role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
}

/**
 * Whether an open socket may keep streaming after its session was re-verified: same role and
 * same rooms. Anything else (regions taken away, carrier changed) closes it.
 */
export function socketScopeUnchanged(before: Principal, now: Principal): boolean {
  const rooms = (p: Principal) => roomsForPrincipal(p).sort().join(' ');
  return before.role === now.role && rooms(before) === rooms(now);
}

/**
 * Which claim a person takes on an alert: the carrier desk's (the fastest way to the victim) or
 * police's, kept beside it so that neither locks the other out.
 */
export function claimSide(p: Principal): 'desk' | 'police' {
  return p.role === 'police_officer' ? 'police' : 'desk';
}

/** The claim columns of an alert row that these decisions read. */
export interface ClaimState {
  state: 'open' | 'claimed' | 'escalated' | 'closed';
  claimed_by: string | null;
  police_claimed_by: string | null;
}

/**
 * Who may close an alert with an outcome: the holder of the desk's claim, the officer holding the
 * police claim, or a supervisor (recorded as an override).
 */
export function mayRecordOutcome(p: Principal, row: ClaimState): boolean {
  if (!can(p, 'alerts.work')) return false;
  if (p.role === 'supervisor') return true;
  return claimSide(p) === 'police'
    ? row.police_claimed_by === p.username
    : row.state === 'claimed' && row.claimed_by === p.username;
}

/**
 * Escalation hands an alert to police. Another person's desk claim is never dropped silently:
 * only its holder or a supervisor may escalate it (the caller answers 409 otherwise).
 */
export function mayEscalate(
  p: Principal,
  row: ClaimState,
): { allowed: boolean; dropsClaimOf: string | null } {
  if (!can(p, 'alerts.escalate')) return { allowed: false, dropsClaimOf: null };
  const heldBy = row.state === 'claimed' && row.claimed_by !== p.username ? row.claimed_by : null;
  return { allowed: !heldBy || p.role === 'supervisor', dropsClaimOf: heldBy };
}
