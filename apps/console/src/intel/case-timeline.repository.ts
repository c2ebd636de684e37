import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { AlertReason, AlertView, Severity } from '@eagle-eye/contracts';
import { PG_POOL } from '@eagle-eye/db';

/** The detection step as the detector sent it, kept with the alert (migration 090). */
export interface EvidenceSnapshot {
  eventTime: string;
  raisedAt: string;
  stepS: number;
  severity: Severity;
  score: number;
  reasons: AlertReason[];
  callAnsweredAt: string | null;
  callEndedAt: string | null;
  talkTimeS: number | null;
}

/** Another alert of the same suspect (or on the same victim) near this one. */
export type NearbyCall = Pick<
  AlertView,
  | 'kind'
  | 'callId'
  | 'victim'
  | 'suspect'
  | 'region'
  | 'severity'
  | 'score'
  | 'reasons'
  | 'callAnsweredAt'
  | 'callEndedAt'
  | 'talkTimeS'
  | 'raisedAt'
  | 'outcome'
> & {
  alertId: string;
  /** before or after this alert's call (its answer, else its raising) */
  relation: 'before' | 'after';
};

/** A case file for one alert: what happened around it, step by step, with the reasons. */
export interface CaseTimeline {
  alert: AlertView;
  /** hours either side of the alert that nearby calls are taken from */
  windowHours: number;
  /** every change of the alert, oldest first; detection steps carry their evidence snapshot */
  steps: {
    seq: string;
    at: string;
    actor: string;
    action: string;
    detail: Record<string, unknown>;
    evidence: EvidenceSnapshot | null;
  }[];
  /** the suspect's other alerted calls in the reader's scope, by time */
  suspectCalls: NearbyCall[];
  /** the victim's calls from other suspects (a ring hands a victim between numbers), by time */
  victimCalls: NearbyCall[];
}

/**
 * Builds the SQL condition limiting alerts (alias) to the reader's scope, appending its parameters
 * to params: the access policy's alertScopeSql bound to the reader.
 */
export type ScopeSql = (params: unknown[], alias: string) => string;

const NEARBY_LIMIT = 200;

/** Reads a case timeline from PostgreSQL only: nothing in it depends on Redis windows. */
@Injectable()
export class CaseTimelineRepository {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  /** null: no such alert in the reader's scope. */
  async timeline(id: string, scope: ScopeSql, windowHours: number): Promise<CaseTimeline | null> {
    const params: unknown[] = [id];
    const { rows } = await this.pool.query<{ view: AlertView; pivot: Date }>(
      `SELECT a.view, coalesce(a.call_answered_at, a.raised_at) AS pivot
         FROM alert_views a WHERE a.id = $1 AND ${scope(params, 'a')}`,
      params,
    );
    const found = rows[0];
    if (!found) return null;
    const alert = found.view;
    const [steps, suspectCalls, victimCalls] = await Promise.all([
      this.pool.query<CaseTimeline['steps'][number] & { evidence: EvidenceSnapshot | null }>(
        `SELECT h.seq::text AS seq, alert_iso(h.at) AS at, h.actor, h.action, h.detail,
                CASE WHEN e.alert_id IS NULL THEN NULL ELSE jsonb_build_object(
                  'eventTime', alert_iso(e.event_time), 'raisedAt', alert_iso(e.raised_at), 'stepS', e.step_s,
                  'severity', e.severity, 'score', e.score, 'reasons', e.reasons,
                  'callAnsweredAt', alert_iso(e.call_answered_at), 'callEndedAt', alert_iso(e.call_ended_at),
                  'talkTimeS', e.talk_time_s) END AS evidence
           FROM alert_history h LEFT JOIN alert_evidence e ON e.alert_id = h.alert_id AND e.seq = h.seq
          WHERE h.alert_id = $1 ORDER BY h.seq`,
        [id],
      ),
      this.nearby('suspect', alert.suspect, id, found.pivot, windowHours, scope),
      alert.victim
        ? this.nearby('victim', alert.victim, id, found.pivot, windowHours, scope)
        : Promise.resolve([]),
    ]);
    return { alert, windowHours, steps: steps.rows, suspectCalls, victimCalls };
  }

  private async nearby(
    column: 'suspect' | 'victim',
    token: string,
    id: string,
    pivot: Date,
    hours: number,
    scope: ScopeSql,
  ): Promise<NearbyCall[]> {
    const params: unknown[] = [token, id, pivot, hours];
    const cond = scope(params, 'a');
    const { rows } = await this.pool.query<NearbyCall>(
      `SELECT a.id::text AS "alertId", a.kind, a.call_id AS "callId", a.victim, a.suspect, a.region, a.severity,
              a.score, a.reasons, alert_iso(a.call_answered_at) AS "callAnsweredAt",
              alert_iso(a.call_ended_at) AS "callEndedAt", a.talk_time_s AS "talkTimeS",
              alert_iso(a.raised_at) AS "raisedAt", a.outcome,
              CASE WHEN coalesce(a.call_answered_at, a.raised_at) < $3 THEN 'before' ELSE 'after' END AS relation
         FROM alerts a
        WHERE a.${column} = $1 AND a.id <> $2::bigint
          AND coalesce(a.call_answered_at, a.raised_at) BETWEEN $3::timestamptz - make_interval(hours => $4)
                                                            AND $3::timestamptz + make_interval(hours => $4)
          ${column === 'victim' ? 'AND a.suspect <> (SELECT suspect FROM alerts WHERE id = $2::bigint)' : ''}
          AND ${cond}
        ORDER BY coalesce(a.call_answered_at, a.raised_at), a.id
        LIMIT ${NEARBY_LIMIT}`,
      params,
    );
    return rows;
  }
}
