-- The trace of an alert's latest detection change (W3C trace id, 32 hex), written by the alert
-- worker from the job's traceparent on every change the detector caused (created, upgraded,
-- updated, call ended); a change made by people (claim, outcome, escalation) keeps it. REST answers
-- carry it as AlertView.traceId like the socket events, so an SRE holding an alert from the API
-- finds the carrier batch's trace and the logs of ingest, detector and worker. NULL: no trace known
-- (an alert from before this migration, a job without a traceparent).
ALTER TABLE alerts ADD COLUMN trace_id text CHECK (trace_id ~ '^[0-9a-f]{32}$');

-- alerts older than the column: their latest traced change is in the history (detail.traceId)
UPDATE alerts a SET trace_id = h.trace_id
  FROM (SELECT DISTINCT ON (alert_id) alert_id, detail->>'traceId' AS trace_id
          FROM alert_history
         WHERE detail->>'traceId' ~ '^[0-9a-f]{32}$'
         ORDER BY alert_id, seq DESC) h
 WHERE h.alert_id = a.id;

-- the view's column list is fixed when it is created: recreate it with the new column (as 080)
DROP VIEW alert_views;
CREATE VIEW alert_views AS
SELECT a.*, jsonb_build_object(
  'id', a.id::text,
  'kind', a.kind,
  'callId', a.call_id,
  'carrierId', a.carrier_id,
  'victim', a.victim,
  'suspect', a.suspect,
  'region', a.region,
  'severity', a.severity,
  'score', a.score,
  'reasons', a.reasons,
  'callAnsweredAt', alert_iso(a.call_answered_at),
  'callEndedAt', alert_iso(a.call_ended_at),
  'talkTimeS', a.talk_time_s,
  'raisedAt', alert_iso(a.raised_at),
  'updatedAt', alert_iso(a.updated_at),
  'state', a.state,
  'claimedBy', a.claimed_by,
  'claimedAt', alert_iso(a.claimed_at),
  'policeClaimedBy', a.police_claimed_by,
  'policeClaimedAt', alert_iso(a.police_claimed_at),
  'outcome', a.outcome,
  'seq', a.seq,
  'routedToPolice', a.police,
  'policeReason', a.police_reason,
  'traceId', a.trace_id
) AS view
FROM alerts a;
