import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { RedisKeys } from '@eagle-eye/redis';
import {
  connectTestRedis,
  createTestSchema,
  dropRedisPrefix,
  TestSchema,
  uniqueId,
} from '@eagle-eye/testing';
import { defaultRule, RULE_CATALOG, RULE_IDS } from './rule-catalog';
import { resolveRules, RulesRepository, RuleValidationError } from './rules.repository';

const tok = () => `p1.t.${randomBytes(16).toString('base64url').slice(0, 22)}`;
const admin = { actor: 'admin', actorRole: 'admin' };

describe('RulesRepository on real PostgreSQL and Redis', () => {
  let db: TestSchema;
  let redis: Redis;
  let keys: RedisKeys;
  let repo: RulesRepository;
  beforeAll(async () => {
    db = await createTestSchema();
    redis = await connectTestRedis();
    keys = new RedisKeys(uniqueId('ee'));
    repo = new RulesRepository(db.pool, redis, keys);
  });
  afterAll(async () => {
    await dropRedisPrefix(redis, keys.prefix);
    redis.disconnect();
    await db.drop();
  });

  it('seeds the catalog defaults as the active version of every rule', async () => {
    const set = await repo.getActiveRuleSet();
    /** rules whose defaults a later migration changed (024: long calls re-checked after the last step) */
    const changed: Partial<Record<(typeof RULE_IDS)[number], number>> = { long_call: 2 };
    for (const id of RULE_IDS) {
      expect(set.global.get(id)).toEqual({ ...defaultRule(id), version: changed[id] ?? 1 });
    }
    expect(set.version).toBeGreaterThan(0);
  });

  it('versions every change with who, when, why, writes the audit log, resolves carrier overrides', async () => {
    const v2 = await repo.updateRule({
      ruleId: 'fanout',
      scope: '*',
      params: { distinct1h: 25 },
      ...admin,
      reason: 'too many alerts on couriers',
    });
    expect(v2).toMatchObject({
      version: 2,
      points: 30,
      changedBy: 'admin',
      changeReason: 'too many alerts on couriers',
    });
    expect(v2.params).toEqual({ ...RULE_CATALOG.fanout.params, distinct1h: 25 });
    const over = await repo.updateRule({
      ruleId: 'fanout',
      scope: 'carrier-b',
      points: 45,
      reportOnly: true,
      ...admin,
      reason: 'trial',
    });
    expect(over).toMatchObject({ version: 1, scope: 'carrier-b', points: 45, reportOnly: true });
    expect(over.params.distinct1h).toBe(25); // starts from the global rule

    const set = await repo.getActiveRuleSet();
    expect(resolveRules(set, 'carrier-a').fanout).toMatchObject({ scope: '*', version: 2, points: 30 });
    expect(resolveRules(set, 'carrier-b').fanout).toMatchObject({
      scope: 'carrier-b',
      points: 45,
      reportOnly: true,
    });

    const versions = await repo.listVersions('fanout');
    expect(versions.map((v) => [v.scope, v.version])).toEqual([
      ['*', 2],
      ['*', 1],
      ['carrier-b', 1],
    ]);
    const audit = await db.pool.query(
      `SELECT actor, action, object_id, carrier_id, detail FROM audit_log WHERE object_type = 'detection_rule' ORDER BY id`,
    );
    expect(audit.rows).toEqual([
      expect.objectContaining({
        actor: 'admin',
        action: 'rule.update',
        object_id: 'fanout@*',
        carrier_id: null,
      }),
      expect.objectContaining({
        action: 'rule.update',
        object_id: 'fanout@carrier-b',
        carrier_id: 'carrier-b',
      }),
    ]);
    expect(audit.rows[0].detail).toMatchObject({
      version: 2,
      reason: 'too many alerts on couriers',
      from: { params: { distinct1h: 15 } },
      to: { params: { distinct1h: 25 } },
    });
    // history cannot be rewritten
    await expect(db.pool.query(`UPDATE detection_rule_versions SET points = 1`)).rejects.toThrow(
      /append-only/,
    );
  });

  it('refuses bad changes with a plain message', async () => {
    await expect(repo.updateRule({ ruleId: 'nope', scope: '*', ...admin, reason: 'x' })).rejects.toThrow(
      'unknown rule nope',
    );
    await expect(
      repo.updateRule({
        ruleId: 'fanout',
        scope: '*',
        params: { distinct1h: 'many' },
        ...admin,
        reason: 'x',
      }),
    ).rejects.toThrow(RuleValidationError);
    await expect(
      repo.updateRule({ ruleId: 'fanout', scope: '*', params: { bogus: 1 }, ...admin, reason: 'x' }),
    ).rejects.toThrow('rule fanout has no parameter bogus');
    await expect(
      repo.updateRule({ ruleId: 'fanout', scope: 'Bad Scope', ...admin, reason: 'x' }),
    ).rejects.toThrow(/bad scope/);
    await expect(repo.updateRule({ ruleId: 'fanout', scope: '*', ...admin, reason: ' ' })).rejects.toThrow(
      /reason/,
    );
  });

  it('keeps lists in PostgreSQL with audit fields and mirrors them onto the number key in Redis', async () => {
    const n = tok();
    const expires = new Date(Date.now() + 3600_000);
    const e = await repo.addListEntry({
      list: 'gray',
      numberToken: n,
      scope: 'carrier-a',
      reason: 'reported by 3 subscribers',
      expiresAt: expires,
      ...admin,
    });
    expect(e).toMatchObject({
      list: 'gray',
      numberToken: n,
      scope: 'carrier-a',
      addedBy: 'admin',
      removedAt: null,
    });
    expect(await redis.hget(keys.numLists(n), 'carrier-a')).toBe(
      `gray|${expires.getTime()}|reported by 3 subscribers`,
    );
    expect(await redis.pttl(keys.numLists(n))).toBeGreaterThan(7 * 86400_000);
    await expect(
      repo.addListEntry({ list: 'white', numberToken: n, scope: 'carrier-a', reason: 'x', ...admin }),
    ).rejects.toThrow(/already on a list/);
    await expect(
      repo.addListEntry({ list: 'black', numberToken: '+8613800138000', scope: '*', reason: 'x', ...admin }),
    ).rejects.toThrow('number must be a pseudonym token, never a clear number');
    expect(await repo.listEntries({ scope: 'carrier-a' })).toHaveLength(1);

    const removed = await repo.removeListEntry({
      numberToken: n,
      scope: 'carrier-a',
      reason: 'cleared after review',
      actor: 'officer',
      actorRole: 'police_officer',
    });
    expect(removed).toMatchObject({ removedBy: 'officer', removeReason: 'cleared after review' });
    expect(await redis.hget(keys.numLists(n), 'carrier-a')).toBeNull();
    expect(await repo.listEntries({ scope: 'carrier-a' })).toHaveLength(0);
    expect(await repo.listEntries({ scope: 'carrier-a', includeRemoved: true })).toHaveLength(1);
    const audit = await db.pool.query(
      `SELECT action FROM audit_log WHERE object_type = 'number_list' ORDER BY id`,
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['list.add', 'list.remove']);

    // a lost mirror (Redis restarted) is rebuilt from PostgreSQL
    const b = tok();
    await repo.addListEntry({
      list: 'black',
      numberToken: b,
      scope: '*',
      reason: 'confirmed fraud',
      ...admin,
    });
    await redis.del(keys.numLists(b));
    expect(await repo.syncListsToRedis()).toBeGreaterThanOrEqual(1);
    expect(await redis.hget(keys.numLists(b), '*')).toBe('black|0|confirmed fraud');
  });
});
