export type Role = 'carrier_operator' | 'police_officer' | 'supervisor' | 'admin';
export const ROLES: readonly Role[] = ['carrier_operator', 'police_officer', 'supervisor', 'admin'];

/** The signed-in user and the scope every query of theirs is limited to. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  carrierId: string | null;
  regions: string[];
  displayName: string;
}

/**
 * The SQL condition limiting alerts (table alias `a`) to what a principal may see: its own
 * carrier's, or, for police, those routed to police in its own regions. Parameters are appended
 * to `params`; the returned fragment references them by position.
 */
export function alertScopeSql(p: Principal, params: unknown[]): string {
  switch (p.role) {
    case 'carrier_operator':
      params.push(p.carrierId);
      return `a.carrier_id = $${params.length}`;
    case 'police_officer':
      params.push(p.regions);
      return `(a.police AND a.region = ANY($${params.length}::text[]))`;
    case 'supervisor':
    case 'admin':
      return 'TRUE';
    default: {
      const never: never = p.role;
      throw new Error(`unknown role ${String(never)}`);
    }
  }
}

/** The audit row's scope columns for this principal. */
export function auditScope(p: Principal): { carrierId: string | null; region: string | null } {
  return { carrierId: p.carrierId, region: p.regions.length ? p.regions.join(',') : null };
}
