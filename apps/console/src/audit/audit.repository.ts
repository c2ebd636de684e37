import { Inject, Injectable } from '@nestjs/common';
import { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@eagle-eye/db';
import { auditScope, Principal } from '../auth/principal';

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  actorRole: string;
  action: string;
  objectType: string;
  objectId: string | null;
  carrierId: string | null;
  region: string | null;
  detail: Record<string, unknown>;
}

/** Appends to the append-only audit_log: who (and in which scope) saw or did what. */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async record(
    who: Principal,
    action: string,
    objectType: string,
    objectId: string | null,
    detail: Record<string, unknown> = {},
    client?: PoolClient,
  ): Promise<void> {
    const scope = auditScope(who);
    await (client ?? this.pool).query(
      `INSERT INTO audit_log (actor, actor_role, action, object_type, object_id, carrier_id, region, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        who.username,
        who.role,
        action,
        objectType,
        objectId,
        scope.carrierId,
        scope.region,
        JSON.stringify(detail),
      ],
    );
  }

  async list(filter: {
    limit: number;
    before?: string;
    actor?: string;
    action?: string;
    objectId?: string;
  }): Promise<AuditEntry[]> {
    const { rows } = await this.pool.query<AuditEntry>(
      `SELECT id::text, alert_iso(at) AS at, actor, actor_role AS "actorRole", action, object_type AS "objectType",
              object_id AS "objectId", carrier_id AS "carrierId", region, detail
         FROM audit_log
        WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR actor = $2)
          AND ($3::text IS NULL OR action = $3) AND ($4::text IS NULL OR object_id = $4)
        ORDER BY id DESC LIMIT $5`,
      [
        filter.before ?? null,
        filter.actor ?? null,
        filter.action ?? null,
        filter.objectId ?? null,
        filter.limit,
      ],
    );
    return rows;
  }
}
