-- Alerts as the consoles see them, exactly once per fact, with their history and a change sequence
-- that consoles resume from.

CREATE TABLE alerts (
  id               bigserial PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('victim_on_call', 'post_call', 'suspect_number')),
  carrier_id       text NOT NULL REFERENCES carriers(id),
  call_id          text,
  victim           text,
  suspect          text NOT NULL,
  region           text,
  severity         text NOT NULL CHECK (severity IN ('warning', 'critical')),
  score            double precision NOT NULL,
  reasons          jsonb NOT NULL DEFAULT '[]'::jsonb,
  step_s           integer NOT NULL DEFAULT 0,
  call_answered_at timestamptz,
  call_ended_at    timestamptz,
  talk_time_s      integer,
  event_time       timestamptz NOT NULL,
  raised_at        timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'claimed', 'escalated', 'closed')),
  claimed_by       text,
  claimed_at       timestamptz,
  outcome          text CHECK (outcome IN ('dissuaded', 'victim_unreachable', 'false_positive', 'confirmed_fraud')),
  outcome_by       text,
  outcome_at       timestamptz,
  -- routed to the police room of `region` (critical, suspect number, unclaimed in time, escalated by hand)
  police           boolean NOT NULL DEFAULT false,
  police_reason    text,
  escalated_at     timestamptz,
  -- change sequence: seq of the first change (creation) and of the latest one
  created_seq      bigint NOT NULL,
  seq              bigint NOT NULL UNIQUE,
  CONSTRAINT alerts_call_fields CHECK (kind = 'suspect_number' OR (call_id IS NOT NULL AND victim IS NOT NULL))
);
-- one alert per call and kind, one per suspect number and carrier
CREATE UNIQUE INDEX alerts_call_uq ON alerts (carrier_id, call_id, kind) WHERE kind <> 'suspect_number';
CREATE UNIQUE INDEX alerts_suspect_uq ON alerts (carrier_id, suspect) WHERE kind = 'suspect_number';
CREATE INDEX alerts_carrier_queue ON alerts (carrier_id, raised_at DESC);
CREATE INDEX alerts_police_queue ON alerts (region, raised_at DESC) WHERE police;
CREATE INDEX alerts_suspect ON alerts (suspect);

-- Allocated under a transaction-scoped advisory lock, so seq order is commit order and a client
-- resuming from seq N can never miss a change that committed later with a smaller number.
CREATE SEQUENCE alert_change_seq;

-- Every change of an alert (created, upgraded, call ended, claimed, outcome, escalated), in the
-- same transaction as the change.
CREATE TABLE alert_history (
  seq        bigint PRIMARY KEY,
  alert_id   bigint NOT NULL REFERENCES alerts(id),
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);

-- A call's end may reach the worker before the alert it belongs to; kept here and applied on insert.
CREATE TABLE alert_call_ends (
  carrier_id    text NOT NULL,
  call_id       text NOT NULL,
  call_ended_at timestamptz NOT NULL,
  talk_time_s   integer NOT NULL,
  PRIMARY KEY (carrier_id, call_id)
);

CREATE TABLE alert_notes (
  id        bigserial PRIMARY KEY,
  alert_id  bigint NOT NULL REFERENCES alerts(id),
  at        timestamptz NOT NULL DEFAULT now(),
  author    text NOT NULL,
  text      text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000)
);
CREATE INDEX alert_notes_alert ON alert_notes (alert_id, id);

-- Numbers that operators marked as false positives: candidates for the whitelist, reviewed by hand.
CREATE TABLE whitelist_candidates (
  carrier_id       text NOT NULL,
  suspect          text NOT NULL,
  false_positives  integer NOT NULL DEFAULT 1,
  last_alert_id    bigint NOT NULL,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (carrier_id, suspect)
);

CREATE FUNCTION alert_next_seq() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(1162626130); -- 'EALR': held to commit, so seq order = commit order
  RETURN nextval('alert_change_seq');
END $$;

CREATE FUNCTION alert_iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The alert exactly as consoles receive it (contracts AlertView), built in one place for the
-- worker's publications, the console's REST answers and its replays.
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
  'outcome', a.outcome,
  'seq', a.seq,
  'routedToPolice', a.police,
  'policeReason', a.police_reason
) AS view
FROM alerts a;
