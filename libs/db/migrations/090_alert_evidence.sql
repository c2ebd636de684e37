-- Evidence kept with an alert at each detection step (raised, upgraded, updated): what the detector
-- sent at that moment (event time, the call's check step, score, severity, the reasons with the
-- window figures in their text, the call's answer and end as known then). The detector's windows
-- live in Redis for days at most; this keeps the case timeline and its reasons for as long as the
-- alert itself. Written by the alert worker in the same transaction as the alert change (seq is
-- that change's alert_history entry); append-only for the app role (app-role.ts); removed with
-- its alert by retention (ON DELETE CASCADE).
CREATE TABLE alert_evidence (
  alert_id         bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  seq              bigint NOT NULL,
  action           text NOT NULL CHECK (action IN ('created', 'upgraded', 'updated')),
  event_time       timestamptz NOT NULL,
  raised_at        timestamptz NOT NULL,
  step_s           integer NOT NULL DEFAULT 0,
  severity         text NOT NULL CHECK (severity IN ('warning', 'critical')),
  score            double precision NOT NULL,
  reasons          jsonb NOT NULL,
  call_answered_at timestamptz,
  call_ended_at    timestamptz,
  talk_time_s      integer,
  PRIMARY KEY (alert_id, seq)
);
