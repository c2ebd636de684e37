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

/** The audit row's scope columns for this principal. */
export function auditScope(p: Principal): { carrierId: string | null; region: string | null } {
  return { carrierId: p.carrierId, region: p.regions.length ? p.regions.join(',') : null };
}
