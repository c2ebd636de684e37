-- Separate claims for the carrier desk and for police on the same alert. The desk's claim
-- (claimed_by, state 'claimed') is the fastest way to the victim and must never be blocked by an
-- officer working the same alert; an officer's claim is kept beside it and does not change the
-- alert's state.
ALTER TABLE alerts
  ADD COLUMN police_claimed_by text,
  ADD COLUMN police_claimed_at timestamptz;

-- the view's column list is fixed when it is created: recreate it with the new columns
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
  'policeReason', a.police_reason
) AS view
FROM alerts a;
