-- Floors under the retention purge, in the database: the apps connect as a role that may call
-- retention_purge_batch (060) but own nothing, so the floors below bound what the application can
-- ever erase, whatever its configuration says. Only the schema's owner (migrations) changes them.
-- The audit log keeps at least a year; alerts, notes and history at least 30 days.
CREATE TABLE retention_floors (
  what     text PRIMARY KEY,
  min_age  interval NOT NULL CHECK (min_age >= interval '1 hour')
);
INSERT INTO retention_floors (what, min_age) VALUES
  ('alerts', interval '30 days'),
  ('notes', interval '30 days'),
  ('history', interval '30 days'),
  ('audit', interval '365 days'),
  ('call_ends', interval '1 day');

CREATE OR REPLACE FUNCTION retention_purge_batch(p_what text, p_cutoff timestamptz, p_limit integer)
RETURNS TABLE (tbl text, purged bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
  n bigint;
  ids bigint[];
  floor_age interval;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN
    RAISE EXCEPTION 'retention_purge_batch: limit % out of range 1..100000', p_limit;
  END IF;
  SELECT min_age INTO floor_age FROM retention_floors WHERE what = p_what;
  IF floor_age IS NULL THEN
    RAISE EXCEPTION 'retention_purge_batch: unknown data %', p_what;
  END IF;
  IF p_cutoff IS NULL OR p_cutoff > now() - floor_age THEN
    RAISE EXCEPTION 'retention_purge_batch: % is kept at least % (retention_floors); cutoff % is too recent',
      p_what, floor_age, p_cutoff;
  END IF;
  CASE p_what
  WHEN 'alerts' THEN
    SELECT array_agg(id) INTO ids FROM (
      SELECT id FROM alerts WHERE updated_at < p_cutoff ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED
    ) s;
    IF ids IS NULL THEN
      RETURN QUERY VALUES ('alerts'::text, 0::bigint);
      RETURN;
    END IF;
    DELETE FROM alert_notes WHERE alert_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN QUERY VALUES ('notes'::text, n);
    ALTER TABLE alert_history DISABLE TRIGGER USER;
    DELETE FROM alert_history WHERE alert_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    ALTER TABLE alert_history ENABLE TRIGGER USER;
    RETURN QUERY VALUES ('history'::text, n);
    DELETE FROM alerts WHERE id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN QUERY VALUES ('alerts'::text, n);
  WHEN 'notes' THEN
    DELETE FROM alert_notes WHERE id IN (
      SELECT id FROM alert_notes WHERE at < p_cutoff ORDER BY id LIMIT p_limit
    );
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN QUERY VALUES ('notes'::text, n);
  WHEN 'history' THEN
    ALTER TABLE alert_history DISABLE TRIGGER USER;
    DELETE FROM alert_history WHERE seq IN (
      SELECT seq FROM alert_history WHERE at < p_cutoff ORDER BY seq LIMIT p_limit
    );
    GET DIAGNOSTICS n = ROW_COUNT;
    ALTER TABLE alert_history ENABLE TRIGGER USER;
    RETURN QUERY VALUES ('history'::text, n);
  WHEN 'audit' THEN
    ALTER TABLE audit_log DISABLE TRIGGER USER;
    DELETE FROM audit_log WHERE id IN (
      SELECT id FROM audit_log WHERE at < p_cutoff ORDER BY id LIMIT p_limit
    );
    GET DIAGNOSTICS n = ROW_COUNT;
    ALTER TABLE audit_log ENABLE TRIGGER USER;
    RETURN QUERY VALUES ('audit'::text, n);
  WHEN 'call_ends' THEN
    DELETE FROM alert_call_ends WHERE (carrier_id, call_id) IN (
      SELECT carrier_id, call_id FROM alert_call_ends WHERE call_ended_at < p_cutoff LIMIT p_limit
    );
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN QUERY VALUES ('call_ends'::text, n);
  END CASE;
END $$;
REVOKE ALL ON FUNCTION retention_purge_batch(text, timestamptz, integer) FROM PUBLIC;
