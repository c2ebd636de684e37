import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { AlertKind, AlertOutcome, AlertReason, Severity } from '@eagle-eye/contracts';
import { PG_POOL } from '@eagle-eye/db';
import { alertScopeSql, listScopes } from '../auth/access-policy';
import { Principal } from '../auth/principal';

export const OUTCOMES: readonly AlertOutcome[] = [
  'dissuaded',
  'victim_unreachable',
  'false_positive',
  'confirmed_fraud',
];
const KINDS: readonly AlertKind[] = ['victim_on_call', 'post_call', 'suspect_number'];
const SEVERITIES: readonly Severity[] = ['warning', 'critical'];

/** Situational awareness over a time window, in the reader's scope. */
export interface Overview {
  from: string;
  to: string;
  timeZone: string;
  alerts: number;
  byKind: Record<AlertKind, number>;
  bySeverity: Record<Severity, number>;
  /** alerts with no outcome yet */
  open: number;
  outcomes: Record<AlertOutcome, number>;
  /** by the region of the victim (suspect-number alerts: of the carrier's report) */
  byRegion: { region: string; alerts: number; critical: number; victims: number; confirmed: number }[];
  /**
   * per rule that gave points: alerts, and among those with an outcome, how many were confirmed
   * fraud or dissuaded victims (a true alert) against false positives; precision = true / (true +
   * false), null before any outcome
   */
  byRule: {
    rule: string;
    alerts: number;
    trueAlerts: number;
    falsePositives: number;
    precision: number | null;
  }[];
  /** alerts per hour of the window, in the deployment's time zone */
  byHour: { hour: string; alerts: number }[];
  /**
   * byRule per day of the window (deployment's time zone), oldest first: each rule's precision over
   * time (the model speaks as its rule, caller_model)
   */
  byRuleDay: {
    day: string;
    rule: string;
    alerts: number;
    trueAlerts: number;
    falsePositives: number;
    precision: number | null;
  }[];
}

/** What the alerts in the reader's scope say about one number. */
export interface NumberIntel {
  token: string;
  alerts: number;
  byKind: Record<AlertKind, number>;
  outcomes: Record<AlertOutcome, number>;
  firstAt: string | null;
  lastAt: string | null;
  /** distinct victims alerted with this number as the suspect, in the last 1 h / 24 h / 7 d */
  victims: { h1: number; h24: number; d7: number };
  regions: { region: string; alerts: number }[];
  /** alerts by hour of day (0-23) in the deployment's time zone */
  byHourOfDay: number[];
  /** list entries for the number, live and past, in scopes the reader may see */
  lists: {
    list: 'black' | 'gray' | 'white';
    scope: string;
    reason: string;
    addedBy: string;
    addedAt: string;
    expiresAt: string | null;
    removedAt: string | null;
    removedBy: string | null;
  }[];
  /** other suspects that reached the same victims within an hour of this one: a likely ring */
  linked: { token: string; sharedVictims: number; alerts: number }[];
  /** the reasons of the newest alert on it, with the model's verdict among them when it spoke */
  latest: {
    at: string;
    severity: Severity;
    /** as the detector gave them: rule, points, reason id with its figures (newer alerts), English text */
    reasons: Pick<AlertReason, 'rule' | 'points' | 'code' | 'params' | 'text'>[];
  } | null;
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/**
 * Aggregate reads for supervisors and police: every statement carries the reader's scope
 * (alertScopeSql), so counts never include what the reader could not open one by one.
 */
@Injectable()
export class IntelRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async overview(p: Principal, from: Date, to: Date, timeZone: string): Promise<Overview> {
    const params: unknown[] = [from, to];
    const cond = `a.raised_at >= $1 AND a.raised_at < $2 AND ${alertScopeSql(p, params)}`;
    const tz = params.length + 1;
    const [totals, regions, rules, hours, ruleDays] = await Promise.all([
      this.pool.query<{ kind: AlertKind; severity: Severity; outcome: AlertOutcome | null; n: string }>(
        `SELECT kind, severity, outcome, count(*) AS n FROM alerts a WHERE ${cond} GROUP BY 1, 2, 3`,
        params,
      ),
      this.pool.query<{ region: string; n: string; critical: string; victims: string; confirmed: string }>(
        `SELECT coalesce(a.region, '') AS region, count(*) AS n,
                count(*) FILTER (WHERE a.severity = 'critical') AS critical,
                count(DISTINCT a.victim) AS victims,
                count(*) FILTER (WHERE a.outcome = 'confirmed_fraud') AS confirmed
           FROM alerts a WHERE ${cond} GROUP BY 1 ORDER BY 2 DESC, 1`,
        params,
      ),
      this.pool.query<{ rule: string; n: string; t: string; f: string }>(
        `SELECT r->>'rule' AS rule, count(DISTINCT a.id) AS n,
                count(DISTINCT a.id) FILTER (WHERE a.outcome IN ('confirmed_fraud', 'dissuaded')) AS t,
                count(DISTINCT a.id) FILTER (WHERE a.outcome = 'false_positive') AS f
           FROM alerts a CROSS JOIN LATERAL jsonb_array_elements(a.reasons) r
          WHERE ${cond} AND coalesce((r->>'points')::float8, 0) > 0
          GROUP BY 1 ORDER BY 2 DESC, 1`,
        params,
      ),
      this.pool.query<{ hour: string; n: string }>(
        `SELECT to_char(date_trunc('hour', a.raised_at AT TIME ZONE $${tz}), 'YYYY-MM-DD"T"HH24:00') AS hour,
                count(*) AS n
           FROM alerts a WHERE ${cond} GROUP BY 1 ORDER BY 1`,
        [...params, timeZone],
      ),
      this.pool.query<{ day: string; rule: string; n: string; t: string; f: string }>(
        `SELECT to_char(a.raised_at AT TIME ZONE $${tz}, 'YYYY-MM-DD') AS day, r->>'rule' AS rule,
                count(DISTINCT a.id) AS n,
                count(DISTINCT a.id) FILTER (WHERE a.outcome IN ('confirmed_fraud', 'dissuaded')) AS t,
                count(DISTINCT a.id) FILTER (WHERE a.outcome = 'false_positive') AS f
           FROM alerts a CROSS JOIN LATERAL jsonb_array_elements(a.reasons) r
          WHERE ${cond} AND coalesce((r->>'points')::float8, 0) > 0
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [...params, timeZone],
      ),
    ]);
    const precision = (r: { n: string; t: string; f: string }) => {
      const [t, f] = [Number(r.t), Number(r.f)];
      return { alerts: Number(r.n), trueAlerts: t, falsePositives: f, precision: t + f ? t / (t + f) : null };
    };
    const out: Overview = {
      from: from.toISOString(),
      to: to.toISOString(),
      timeZone,
      alerts: 0,
      byKind: zeros(KINDS),
      bySeverity: zeros(SEVERITIES),
      open: 0,
      outcomes: zeros(OUTCOMES),
      byRegion: regions.rows.map((r) => ({
        region: r.region,
        alerts: Number(r.n),
        critical: Number(r.critical),
        victims: Number(r.victims),
        confirmed: Number(r.confirmed),
      })),
      byRule: rules.rows.map((r) => ({ rule: r.rule, ...precision(r) })),
      byHour: hours.rows.map((r) => ({ hour: r.hour, alerts: Number(r.n) })),
      byRuleDay: ruleDays.rows.map((r) => ({ day: r.day, rule: r.rule, ...precision(r) })),
    };
    for (const r of totals.rows) {
      const n = Number(r.n);
      out.alerts += n;
      out.byKind[r.kind] += n;
      out.bySeverity[r.severity] += n;
      if (r.outcome) out.outcomes[r.outcome] += n;
      else out.open += n;
    }
    return out;
  }

  /** null: no alert in the reader's scope names this number (the reader learns nothing more). */
  async number(p: Principal, token: string, now: Date, timeZone: string): Promise<NumberIntel | null> {
    const params: unknown[] = [token];
    const cond = `a.suspect = $1 AND ${alertScopeSql(p, params)}`;
    const base = params.length;
    // the ring query scopes both sides: its own parameter list
    const lp: unknown[] = [token];
    const linkedCond = `a.suspect = $1 AND ${alertScopeSql(p, lp)} AND ${alertScopeSql(p, lp, 'b')}`;
    const [totals, victims, regions, hours, latest, linked] = await Promise.all([
      this.pool.query<{
        kind: AlertKind;
        outcome: AlertOutcome | null;
        n: string;
        first: string;
        last: string;
      }>(
        `SELECT kind, outcome, count(*) AS n, alert_iso(min(a.raised_at)) AS first, alert_iso(max(a.raised_at)) AS last
           FROM alerts a WHERE ${cond} GROUP BY 1, 2`,
        params,
      ),
      this.pool.query<{ h1: string; h24: string; d7: string }>(
        `SELECT count(DISTINCT a.victim) FILTER (WHERE a.raised_at >= $${base + 1}::timestamptz - interval '1 hour') AS h1,
                count(DISTINCT a.victim) FILTER (WHERE a.raised_at >= $${base + 1}::timestamptz - interval '24 hours') AS h24,
                count(DISTINCT a.victim) FILTER (WHERE a.raised_at >= $${base + 1}::timestamptz - interval '7 days') AS d7
           FROM alerts a WHERE ${cond} AND a.victim IS NOT NULL AND a.raised_at <= $${base + 1}`,
        [...params, now],
      ),
      this.pool.query<{ region: string; n: string }>(
        `SELECT coalesce(a.region, '') AS region, count(*) AS n FROM alerts a WHERE ${cond} GROUP BY 1 ORDER BY 2 DESC, 1`,
        params,
      ),
      this.pool.query<{ h: number; n: string }>(
        `SELECT extract(hour FROM a.raised_at AT TIME ZONE $${base + 1})::int AS h, count(*) AS n
           FROM alerts a WHERE ${cond} GROUP BY 1`,
        [...params, timeZone],
      ),
      this.pool.query<{
        at: string;
        severity: Severity;
        reasons: NonNullable<NumberIntel['latest']>['reasons'];
      }>(
        `SELECT alert_iso(a.raised_at) AS at, a.severity, a.reasons FROM alerts a WHERE ${cond}
          ORDER BY a.raised_at DESC, a.id DESC LIMIT 1`,
        params,
      ),
      // numbers that alerted on the same victims within an hour of this one, in the same scope
      this.pool.query<{ token: string; shared: string; n: string }>(
        `SELECT b.suspect AS token, count(DISTINCT b.victim) AS shared, count(DISTINCT b.id) AS n
           FROM alerts a JOIN alerts b
             ON b.victim = a.victim AND b.suspect <> a.suspect
            AND b.raised_at BETWEEN a.raised_at - interval '1 hour' AND a.raised_at + interval '1 hour'
          WHERE ${linkedCond} AND a.victim IS NOT NULL
          GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT 20`,
        lp,
      ),
    ]);
    if (!totals.rows.length) return null;
    const lists = await this.lists(p, token);
    const out: NumberIntel = {
      token,
      alerts: 0,
      byKind: zeros(KINDS),
      outcomes: zeros(OUTCOMES),
      firstAt: null,
      lastAt: null,
      victims: {
        h1: Number(victims.rows[0].h1),
        h24: Number(victims.rows[0].h24),
        d7: Number(victims.rows[0].d7),
      },
      regions: regions.rows.map((r) => ({ region: r.region, alerts: Number(r.n) })),
      byHourOfDay: Array.from({ length: 24 }, () => 0),
      lists,
      linked: linked.rows.map((r) => ({
        token: r.token,
        sharedVictims: Number(r.shared),
        alerts: Number(r.n),
      })),
      latest: latest.rows[0]
        ? {
            at: latest.rows[0].at,
            severity: latest.rows[0].severity,
            reasons: latest.rows[0].reasons.map((r) => ({
              rule: r.rule,
              points: r.points,
              ...(r.code ? { code: r.code, params: r.params ?? {} } : {}),
              text: r.text,
            })),
          }
        : null,
    };
    for (const r of totals.rows) {
      const n = Number(r.n);
      out.alerts += n;
      out.byKind[r.kind] += n;
      if (r.outcome) out.outcomes[r.outcome] += n;
      if (!out.firstAt || r.first < out.firstAt) out.firstAt = r.first;
      if (!out.lastAt || r.last > out.lastAt) out.lastAt = r.last;
    }
    for (const r of hours.rows) out.byHourOfDay[r.h] = Number(r.n);
    return out;
  }

  /** List entries in the scopes a reader sees: global ones, and a carrier operator's own carrier's. */
  private async lists(p: Principal, token: string): Promise<NumberIntel['lists']> {
    const scopes = listScopes(p);
    const { rows } = await this.pool.query<NumberIntel['lists'][number]>(
      `SELECT list, scope, reason, added_by AS "addedBy", alert_iso(added_at) AS "addedAt",
              alert_iso(expires_at) AS "expiresAt", alert_iso(removed_at) AS "removedAt", removed_by AS "removedBy"
         FROM number_lists WHERE number_token = $1 AND ($2::text[] IS NULL OR scope = ANY($2::text[]))
        ORDER BY added_at DESC, id DESC`,
      [token, scopes],
    );
    return rows;
  }
}
