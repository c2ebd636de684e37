import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL } from '@eagle-eye/db';

export const REPORT_CATEGORIES = [
  'impersonation_police',
  'impersonation_service',
  'investment',
  'loan',
  'romance',
  'part_time_job',
  'shopping_refund',
  'other',
] as const;
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];

export interface NewReport {
  partnerId: string;
  reporter: string;
  numberToken: string;
  category: ReportCategory;
  evidence?: string;
  region?: string;
}

/** A number's reports as the review queue shows them. */
export interface ReportedNumber {
  numberToken: string;
  reports: number;
  reporters: number;
  partners: number;
  categories: Record<string, number>;
  regions: string[];
  firstAt: string;
  lastAt: string;
  /** the live list entry at scope '*', if any */
  list: { list: string; reason: string; expiresAt: string | null; addedBy: string } | null;
}

export interface ReportRow {
  id: string;
  partnerId: string;
  reporter: string;
  category: ReportCategory;
  evidence: string | null;
  region: string | null;
  reportedAt: string;
  state: 'pending' | 'confirmed' | 'dismissed';
  reviewedBy: string | null;
  reviewedAt: string | null;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Partner credentials and the reports they send (migration 075). */
@Injectable()
export class ReportsRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** The partner of a live key whose secret matches (constant-time), or null. */
  async partnerForKey(keyId: string, secret: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ partner_id: string; secret_sha256: Buffer }>(
      `SELECT k.partner_id, k.secret_sha256 FROM report_partner_keys k JOIN report_partners p ON p.id = k.partner_id
        WHERE k.key_id = $1 AND (k.revoked_at IS NULL OR k.revoked_at > now()) AND p.disabled_at IS NULL`,
      [keyId],
    );
    const given = sha256(secret);
    const row = rows[0];
    if (!row || row.secret_sha256.length !== given.length || !timingSafeEqual(row.secret_sha256, given))
      return null;
    return row.partner_id;
  }

  /** A new partner with its first key; the key is shown once and stored as SHA-256 only. */
  async createPartner(
    id: string,
    name: string,
    createdBy: string,
  ): Promise<{ apiKey: string; keyId: string }> {
    const keyId = randomBytes(9)
      .toString('base64url')
      .replace(/[^A-Za-z0-9]/g, 'x');
    const secret = randomBytes(32).toString('base64url');
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('INSERT INTO report_partners (id, name, created_by) VALUES ($1, $2, $3)', [
        id,
        name,
        createdBy,
      ]);
      await c.query(
        'INSERT INTO report_partner_keys (key_id, partner_id, secret_sha256) VALUES ($1, $2, $3)',
        [keyId, id, sha256(secret)],
      );
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
    return { keyId, apiKey: `erk_${keyId}_${secret}` };
  }

  async revokeKey(keyId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE report_partner_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL',
      [keyId],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Stores a report once per (partner, reporter, number); a repeat changes nothing. Returns whether
   * it was new and how many distinct people (across partners) have pending reports on the number.
   */
  async add(r: NewReport): Promise<{ id: string; duplicate: boolean; reporters: number }> {
    const ins = await this.pool.query<{ id: string }>(
      `INSERT INTO number_reports (partner_id, reporter, number_token, category, evidence, region)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (partner_id, reporter, number_token) DO NOTHING RETURNING id::text`,
      [r.partnerId, r.reporter, r.numberToken, r.category, r.evidence ?? null, r.region ?? null],
    );
    const existing = ins.rows[0]
      ? ins.rows[0]
      : (
          await this.pool.query<{ id: string }>(
            'SELECT id::text FROM number_reports WHERE partner_id = $1 AND reporter = $2 AND number_token = $3',
            [r.partnerId, r.reporter, r.numberToken],
          )
        ).rows[0];
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(DISTINCT (partner_id, reporter)) AS n FROM number_reports
        WHERE number_token = $1 AND state = 'pending'`,
      [r.numberToken],
    );
    return { id: existing.id, duplicate: !ins.rows[0], reporters: Number(rows[0].n) };
  }

  /** Numbers with pending reports, most reporters first. */
  async pending(limit: number, offset: number): Promise<{ items: ReportedNumber[]; total: number }> {
    const [items, total] = await Promise.all([
      this.pool.query<ReportedNumber>(
        `SELECT r.number_token AS "numberToken", count(*)::int AS reports,
                count(DISTINCT (r.partner_id, r.reporter))::int AS reporters,
                count(DISTINCT r.partner_id)::int AS partners,
                (SELECT jsonb_object_agg(category, n) FROM (
                   SELECT category, count(*) AS n FROM number_reports x
                    WHERE x.number_token = r.number_token AND x.state = 'pending' GROUP BY 1) c) AS categories,
                coalesce(array_agg(DISTINCT r.region) FILTER (WHERE r.region IS NOT NULL), '{}') AS regions,
                alert_iso(min(r.reported_at)) AS "firstAt", alert_iso(max(r.reported_at)) AS "lastAt",
                (SELECT jsonb_build_object('list', l.list, 'reason', l.reason, 'expiresAt', alert_iso(l.expires_at),
                                           'addedBy', l.added_by)
                   FROM number_lists l WHERE l.number_token = r.number_token AND l.scope = '*' AND l.removed_at IS NULL
                    AND (l.expires_at IS NULL OR l.expires_at > now())) AS list
           FROM number_reports r WHERE r.state = 'pending'
          GROUP BY r.number_token ORDER BY reporters DESC, "lastAt" DESC, r.number_token
          LIMIT $1 OFFSET $2`,
        [limit, offset],
      ),
      this.pool.query<{ n: string }>(
        `SELECT count(DISTINCT number_token) AS n FROM number_reports WHERE state = 'pending'`,
      ),
    ]);
    return { items: items.rows, total: Number(total.rows[0].n) };
  }

  async forNumber(numberToken: string): Promise<ReportRow[]> {
    const { rows } = await this.pool.query<ReportRow>(
      `SELECT id::text, partner_id AS "partnerId", reporter, category, evidence, region,
              alert_iso(reported_at) AS "reportedAt", state, reviewed_by AS "reviewedBy",
              alert_iso(reviewed_at) AS "reviewedAt"
         FROM number_reports WHERE number_token = $1 ORDER BY reported_at DESC, id DESC LIMIT 500`,
      [numberToken],
    );
    return rows;
  }

  /** Marks the number's pending reports reviewed; returns how many. */
  async review(numberToken: string, state: 'confirmed' | 'dismissed', by: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE number_reports SET state = $2, reviewed_by = $3, reviewed_at = now()
        WHERE number_token = $1 AND state = 'pending'`,
      [numberToken, state, by],
    );
    return rowCount ?? 0;
  }
}
