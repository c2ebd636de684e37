import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL } from '@eagle-eye/db';
import type { CallerModelFile } from '@eagle-eye/scoring';

export interface RegisteredModel {
  version: string;
  sha256: string;
  dataSha256: string | null;
  thresholds: CallerModelFile['thresholds'];
  metrics: Record<string, unknown>;
  registeredBy: string;
  registeredAt: Date;
}

interface ModelRow {
  version: string;
  sha256: string;
  data_sha256: string | null;
  thresholds: CallerModelFile['thresholds'];
  metrics: Record<string, unknown>;
  body?: CallerModelFile;
  registered_by: string;
  registered_at: Date;
}

const toModel = (r: ModelRow): RegisteredModel => ({
  version: r.version,
  sha256: r.sha256,
  dataSha256: r.data_sha256,
  thresholds: r.thresholds,
  metrics: r.metrics,
  registeredBy: r.registered_by,
  registeredAt: r.registered_at,
});

/**
 * The caller-risk model registry (table caller_models): every version with its training-data hash,
 * cross-validated metrics and thresholds. Which version decides, per carrier, is the `caller_model`
 * rule's business; rows never change once written.
 */
@Injectable()
export class CallerModelsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** Registers a model version; registering the same version again is a no-op. */
  async register(file: CallerModelFile, sha256: string, registeredBy: string): Promise<void> {
    if (!/^[a-z0-9][a-z0-9._-]{2,63}$/.test(file.version))
      throw new Error(`bad model version ${file.version}`);
    const { rows } = await this.pool.query<{ sha256: string }>(
      `INSERT INTO caller_models (version, sha256, data_sha256, thresholds, metrics, body, registered_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (version) DO NOTHING
       RETURNING sha256`,
      [
        file.version,
        sha256,
        typeof file.training?.dataSha256 === 'string' ? file.training.dataSha256 : null,
        JSON.stringify(file.thresholds),
        JSON.stringify(file.metrics),
        JSON.stringify(file),
        registeredBy,
      ],
    );
    if (rows.length) return;
    const cur = await this.pool.query<{ sha256: string }>(
      'SELECT sha256 FROM caller_models WHERE version = $1',
      [file.version],
    );
    if (cur.rows[0] && cur.rows[0].sha256 !== sha256) {
      throw new Error(
        `model version ${file.version} is registered with other contents (sha256 ${cur.rows[0].sha256})`,
      );
    }
  }

  /** A version's model file, or null when it is not registered. */
  async get(version: string): Promise<{ file: CallerModelFile; sha256: string } | null> {
    const { rows } = await this.pool.query<ModelRow>('SELECT * FROM caller_models WHERE version = $1', [
      version,
    ]);
    const r = rows[0];
    return r?.body ? { file: r.body, sha256: r.sha256 } : null;
  }

  async list(): Promise<RegisteredModel[]> {
    const { rows } = await this.pool.query<ModelRow>(
      `SELECT version, sha256, data_sha256, thresholds, metrics, registered_by, registered_at
       FROM caller_models ORDER BY registered_at DESC, version`,
    );
    return rows.map(toModel);
  }
}
