-- Data retention (PIPL): the alert worker deletes what is past its retention period, in batches
-- (apps/alert-worker/src/retention). audit_log is append-only by trigger (001), and so may be
-- alert_history; the purge is the one path around that: this function, owned by the migration's
-- role (the tables' owner), SECURITY DEFINER, with EXECUTE revoked from PUBLIC. Inside its own
-- transaction it disables the table's user triggers, deletes one batch of rows older than the
-- cutoff and enables them again, so no other session ever sees the triggers off (it holds the
-- table's SHARE ROW EXCLUSIVE lock for that batch only: inserts wait milliseconds). Where the apps
-- connect as a role other than the owner, grant that role EXECUTE on this function and nothing
-- more: it can then purge old rows and still neither update nor delete any other.
--
--   alerts   whose last change (updated_at) is older than the cutoff, with their notes and history
--   notes    alert_notes older than the cutoff
--   history  alert_history entries older than the cutoff
--   audit    audit_log entries older than the cutoff
--   call_ends  alert_call_ends older than the cutoff (call ends whose alert never came)
CREATE FUNCTION retention_purge_batch(p_what text, p_cutoff timestamptz, p_limit integer)
RETURNS TABLE (tbl text, purged bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
  n bigint;
  ids bigint[];
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN
    RAISE EXCEPTION 'retention_purge_batch: limit % out of range 1..100000', p_limit;
  END IF;
  IF p_cutoff IS NULL OR p_cutoff > now() - interval '1 hour' THEN
    RAISE EXCEPTION 'retention_purge_batch: cutoff % is not at least an hour in the past', p_cutoff;
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
  ELSE
    RAISE EXCEPTION 'retention_purge_batch: unknown data %', p_what;
  END CASE;
END $$;
REVOKE ALL ON FUNCTION retention_purge_batch(text, timestamptz, integer) FROM PUBLIC;

-- the purge finds old rows by time
CREATE INDEX alerts_updated_at ON alerts (updated_at);
CREATE INDEX alert_notes_at ON alert_notes (at);
CREATE INDEX alert_history_at ON alert_history (at);
CREATE INDEX alert_call_ends_ended ON alert_call_ends (call_ended_at);
