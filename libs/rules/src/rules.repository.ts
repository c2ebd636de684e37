import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { Pool, PoolClient } from 'pg';
import { PG_POOL } from '@eagle-eye/db';
import { classifyPseudonym, looksLikeClearNumber } from '@eagle-eye/pseudonym';
import { PerNodePipeline, perNodePipeline, REDIS, RedisKeys } from '@eagle-eye/redis';
import {
  defaultRule,
  isRuleId,
  ResolvedRules,
  RULE_IDS,
  RuleConfig,
  RuleId,
  RuleParams,
  validateParams,
} from './rule-catalog';

export type ListName = 'black' | 'gray' | 'white';
export const LIST_NAMES: readonly ListName[] = ['black', 'gray', 'white'];

/** Who made a change, for the audit trail. */
export interface Actor {
  actor: string;
  actorRole: string;
}

export interface RuleVersion extends RuleConfig {
  changedBy: string;
  changedAt: Date;
  changeReason: string;
}

export interface RuleSet {
  /** the highest rule version row id: changes whenever any rule changes */
  version: number;
  global: Map<RuleId, RuleConfig>;
  overrides: Map<string, Map<RuleId, RuleConfig>>;
}

export interface RuleChange extends Actor {
  ruleId: string;
  /** '*' for the global rule, or a carrier id for its override */
  scope: string;
  enabled?: boolean;
  reportOnly?: boolean;
  points?: number;
  params?: Record<string, unknown>;
  /** why: required, kept with the version */
  reason: string;
}

export interface ListEntry {
  id: number;
  list: ListName;
  numberToken: string;
  scope: string;
  reason: string;
  addedBy: string;
  addedAt: Date;
  expiresAt: Date | null;
  removedBy: string | null;
  removedAt: Date | null;
  removeReason: string | null;
}

export class RuleValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleValidationError';
  }
}

const SCOPE = /^(\*|[a-z0-9][a-z0-9-]{1,31})$/;

/** Free text is stored and shown to operators: it must never carry a clear phone number. */
function checkText(what: string, text: string | undefined): string {
  const t = text?.trim() ?? '';
  if (!t) throw new RuleValidationError(`a ${what} is required`);
  if (t.length > 200) throw new RuleValidationError(`the ${what} is longer than 200 characters`);
  if (looksLikeClearNumber(t))
    throw new RuleValidationError(`the ${what} looks like it contains a phone number`);
  return t;
}
/** Mirror entries live at most this long in Redis; the detector re-syncs lists well within it. */
export const LIST_MIRROR_TTL_MS = 8 * 86400_000;

interface RuleRow {
  rule_id: string;
  scope: string;
  version: number;
  enabled: boolean;
  report_only: boolean;
  points: number;
  params: RuleParams;
  changed_by: string;
  changed_at: Date;
  change_reason: string;
}

interface ListRow {
  id: string;
  list: ListName;
  number_token: string;
  scope: string;
  reason: string;
  added_by: string;
  added_at: Date;
  expires_at: Date | null;
  removed_by: string | null;
  removed_at: Date | null;
  remove_reason: string | null;
}

function toRule(r: RuleRow): RuleConfig {
  return {
    id: r.rule_id as RuleId,
    scope: r.scope,
    version: r.version,
    enabled: r.enabled,
    reportOnly: r.report_only,
    points: r.points,
    params: r.params,
  };
}

function toEntry(r: ListRow): ListEntry {
  return {
    id: Number(r.id),
    list: r.list,
    numberToken: r.number_token,
    scope: r.scope,
    reason: r.reason,
    addedBy: r.added_by,
    addedAt: r.added_at,
    expiresAt: r.expires_at,
    removedBy: r.removed_by,
    removedAt: r.removed_at,
    removeReason: r.remove_reason,
  };
}

/** The global rules with a carrier's overrides applied; a rule without any row gets its default. */
export function resolveRules(set: RuleSet, carrierId: string): ResolvedRules {
  const over = set.overrides.get(carrierId);
  const out = {} as ResolvedRules;
  for (const id of RULE_IDS) out[id] = over?.get(id) ?? set.global.get(id) ?? defaultRule(id);
  return out;
}

/**
 * Detection rules and number lists: PostgreSQL is the source of truth (versioned rules, list
 * entries with audit fields); list entries are mirrored onto the number's own Redis key so the
 * detector's caller script reads them in the same slot. Every change writes an audit_log row.
 */
@Injectable()
export class RulesRepository {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async currentVersion(): Promise<number> {
    const { rows } = await this.pool.query<{ v: string | null }>(
      'SELECT max(id) AS v FROM detection_rule_versions',
    );
    return Number(rows[0].v ?? 0);
  }

  async getActiveRuleSet(): Promise<RuleSet> {
    const { rows } = await this.pool.query<RuleRow & { v: string }>(
      `SELECT a.*, (SELECT max(id) FROM detection_rule_versions) AS v FROM detection_rules_active a`,
    );
    const set: RuleSet = { version: Number(rows[0]?.v ?? 0), global: new Map(), overrides: new Map() };
    for (const r of rows) {
      if (!isRuleId(r.rule_id)) continue; // a rule this build does not know yet
      const rule = toRule(r);
      if (r.scope === '*') set.global.set(rule.id, rule);
      else {
        let m = set.overrides.get(r.scope);
        if (!m) set.overrides.set(r.scope, (m = new Map()));
        m.set(rule.id, rule);
      }
    }
    return set;
  }

  async getRules(carrierId: string): Promise<ResolvedRules> {
    return resolveRules(await this.getActiveRuleSet(), carrierId);
  }

  /** Writes a new version of one rule (global or a carrier override) and its audit row. */
  async updateRule(change: RuleChange): Promise<RuleVersion> {
    if (!isRuleId(change.ruleId)) throw new RuleValidationError(`unknown rule ${change.ruleId}`);
    if (!SCOPE.test(change.scope))
      throw new RuleValidationError(`bad scope ${change.scope}: '*' or a carrier id`);
    checkText('reason for the change', change.reason);
    if (change.points !== undefined && (!Number.isInteger(change.points) || Math.abs(change.points) > 1000)) {
      throw new RuleValidationError('points must be an integer between -1000 and 1000');
    }
    const id = change.ruleId;
    return this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rule:${id}:${change.scope}`]);
      const cur = await c.query<RuleRow>(
        `SELECT * FROM detection_rule_versions WHERE rule_id = $1 AND scope IN ($2, '*')
         ORDER BY (scope = $2) DESC, version DESC LIMIT 1`,
        [id, change.scope],
      );
      const base = cur.rows[0] ? toRule(cur.rows[0]) : defaultRule(id);
      let params: RuleParams;
      try {
        params = validateParams(id, { ...base.params, ...(change.params ?? {}) });
      } catch (e) {
        throw new RuleValidationError((e as Error).message);
      }
      const last = await c.query<{ v: number | null }>(
        'SELECT max(version) AS v FROM detection_rule_versions WHERE rule_id = $1 AND scope = $2',
        [id, change.scope],
      );
      const { rows } = await c.query<RuleRow>(
        `INSERT INTO detection_rule_versions
           (rule_id, scope, version, enabled, report_only, points, params, changed_by, change_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [
          id,
          change.scope,
          (last.rows[0].v ?? 0) + 1,
          change.enabled ?? base.enabled,
          change.reportOnly ?? base.reportOnly,
          change.points ?? base.points,
          JSON.stringify(params),
          change.actor,
          change.reason.trim(),
        ],
      );
      const row = rows[0];
      await this.audit(c, change, 'rule.update', 'detection_rule', `${id}@${change.scope}`, change.scope, {
        version: row.version,
        from: {
          enabled: base.enabled,
          reportOnly: base.reportOnly,
          points: base.points,
          params: base.params,
        },
        to: { enabled: row.enabled, reportOnly: row.report_only, points: row.points, params: row.params },
        reason: row.change_reason,
      });
      return {
        ...toRule(row),
        changedBy: row.changed_by,
        changedAt: row.changed_at,
        changeReason: row.change_reason,
      };
    });
  }

  async listVersions(ruleId: string, scope?: string): Promise<RuleVersion[]> {
    const { rows } = await this.pool.query<RuleRow>(
      `SELECT * FROM detection_rule_versions WHERE rule_id = $1 AND ($2::text IS NULL OR scope = $2)
       ORDER BY scope, version DESC`,
      [ruleId, scope ?? null],
    );
    return rows.map((r) => ({
      ...toRule(r),
      changedBy: r.changed_by,
      changedAt: r.changed_at,
      changeReason: r.change_reason,
    }));
  }

  async addListEntry(
    entry: Actor & {
      list: ListName;
      numberToken: string;
      scope: string;
      reason: string;
      expiresAt?: Date | null;
    },
  ): Promise<ListEntry> {
    if (!LIST_NAMES.includes(entry.list)) throw new RuleValidationError(`unknown list ${entry.list}`);
    if (!SCOPE.test(entry.scope))
      throw new RuleValidationError(`bad scope ${entry.scope}: '*' or a carrier id`);
    const verdict = classifyPseudonym(entry.numberToken);
    if (verdict !== 'ok') {
      throw new RuleValidationError(
        verdict === 'clear_number'
          ? 'number must be a pseudonym token, never a clear number'
          : 'malformed number token',
      );
    }
    checkText('reason', entry.reason);
    if (entry.expiresAt && entry.expiresAt.getTime() <= Date.now()) {
      throw new RuleValidationError('expiry must be in the future');
    }
    const saved = await this.tx(async (c) => {
      let rows: ListRow[];
      try {
        ({ rows } = await c.query<ListRow>(
          `INSERT INTO number_lists (list, number_token, scope, reason, added_by, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
          [
            entry.list,
            entry.numberToken,
            entry.scope,
            entry.reason.trim(),
            entry.actor,
            entry.expiresAt ?? null,
          ],
        ));
      } catch (e) {
        if ((e as { code?: string }).code === '23505') {
          throw new RuleValidationError(
            `number is already on a list in scope ${entry.scope}; remove it first`,
          );
        }
        throw e;
      }
      await this.audit(c, entry, 'list.add', 'number_list', rows[0].id, entry.scope, {
        list: entry.list,
        reason: entry.reason,
        expiresAt: entry.expiresAt ?? null,
      });
      return toEntry(rows[0]);
    });
    await this.mirror(saved);
    return saved;
  }

  async removeListEntry(
    req: Actor & { numberToken: string; scope: string; reason: string },
  ): Promise<ListEntry | null> {
    checkText('reason', req.reason);
    const removed = await this.tx(async (c) => {
      const { rows } = await c.query<ListRow>(
        `UPDATE number_lists SET removed_at = now(), removed_by = $3, remove_reason = $4
         WHERE number_token = $1 AND scope = $2 AND removed_at IS NULL RETURNING *`,
        [req.numberToken, req.scope, req.actor, req.reason],
      );
      if (!rows[0]) return null;
      await this.audit(c, req, 'list.remove', 'number_list', rows[0].id, req.scope, {
        list: rows[0].list,
        reason: req.reason,
      });
      return toEntry(rows[0]);
    });
    if (removed) await this.redis.hdel(this.keys.numLists(req.numberToken), req.scope);
    return removed;
  }

  async listEntries(
    filter: {
      scope?: string;
      list?: ListName;
      numberToken?: string;
      includeRemoved?: boolean;
      limit?: number;
    } = {},
  ): Promise<ListEntry[]> {
    const { rows } = await this.pool.query<ListRow>(
      `SELECT * FROM number_lists
       WHERE ($1::text IS NULL OR scope = $1) AND ($2::text IS NULL OR list = $2)
         AND ($3::text IS NULL OR number_token = $3) AND ($4 OR removed_at IS NULL)
       ORDER BY added_at DESC, id DESC LIMIT $5`,
      [
        filter.scope ?? null,
        filter.list ?? null,
        filter.numberToken ?? null,
        filter.includeRemoved ?? false,
        Math.min(filter.limit ?? 500, 5000),
      ],
    );
    return rows.map(toEntry);
  }

  /**
   * Writes every live entry into its Redis mirror (after a Redis restart, and periodically so the
   * mirror TTL never lapses for a live entry). Returns the number of entries written.
   */
  async syncListsToRedis(batch = 1000): Promise<number> {
    let after = 0;
    let n = 0;
    for (;;) {
      const { rows } = await this.pool.query<ListRow>(
        `SELECT * FROM number_lists WHERE removed_at IS NULL AND (expires_at IS NULL OR expires_at > now())
           AND id > $1 ORDER BY id LIMIT $2`,
        [after, batch],
      );
      if (!rows.length) return n;
      const p = perNodePipeline(this.redis);
      for (const r of rows) this.mirrorInto(p, toEntry(r));
      await p.exec();
      n += rows.length;
      after = Number(rows[rows.length - 1].id);
    }
  }

  private async mirror(e: ListEntry): Promise<void> {
    const p = perNodePipeline(this.redis);
    this.mirrorInto(p, e);
    await p.exec();
  }

  private mirrorInto(p: PerNodePipeline, e: ListEntry): void {
    const key = this.keys.numLists(e.numberToken);
    // reason without '|' so the script's split stays simple
    p.hset(
      key,
      e.scope,
      `${e.list}|${e.expiresAt?.getTime() ?? 0}|${e.reason.replace(/\|/g, '/').slice(0, 120)}`,
    );
    p.pexpire(key, LIST_MIRROR_TTL_MS, 'GT');
    p.pexpire(key, LIST_MIRROR_TTL_MS, 'NX');
  }

  private async audit(
    c: PoolClient,
    who: Actor,
    action: string,
    objectType: string,
    objectId: string,
    scope: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await c.query(
      `INSERT INTO audit_log (actor, actor_role, action, object_type, object_id, carrier_id, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        who.actor,
        who.actorRole,
        action,
        objectType,
        objectId,
        scope === '*' ? null : scope,
        JSON.stringify(detail),
      ],
    );
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }
}
