import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Pool } from 'pg';
import { assertProductionDatabase, PG_POOL } from '@eagle-eye/db';

export interface ApiKeyRecord {
  keyId: string;
  carrierId: string;
  secretSha256: Buffer;
  revoked: boolean;
}

/** Carrier credentials in Postgres (migration 001: carriers, carrier_api_keys). */
@Injectable()
export class CarrierCredentialsRepository implements OnModuleInit {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /**
   * NODE_ENV=production: no start while the published demo keys or users work in this database, or
   * while the connection could erase the audit trail.
   */
  async onModuleInit(): Promise<void> {
    await assertProductionDatabase(this.pool);
  }

  async findApiKey(keyId: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.pool.query<{
      key_id: string;
      carrier_id: string;
      secret_sha256: Buffer;
      revoked: boolean;
    }>(
      `SELECT key_id, carrier_id, secret_sha256, revoked_at IS NOT NULL AND revoked_at <= now() AS revoked
         FROM carrier_api_keys WHERE key_id = $1`,
      [keyId],
    );
    const r = rows[0];
    return (
      r && { keyId: r.key_id, carrierId: r.carrier_id, secretSha256: r.secret_sha256, revoked: r.revoked }
    );
  }

  async carrierExists(carrierId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM carriers WHERE id = $1', [carrierId]);
    return (rowCount ?? 0) > 0;
  }
}
