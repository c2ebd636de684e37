-- The escalation timer as a sweep of the alerts table (issue 13): the worker asks every
-- ALERT_ESCALATION_SWEEP_MS for the open alerts raised ALERT_ESCALATE_AFTER_S ago or more, instead
-- of adding a delayed BullMQ job per alert (about four Redis round trips, each an fsync, per alert).

-- Only open alerts are indexed: the sweep's whole read, however many alerts were ever raised.
CREATE INDEX alerts_open_raised ON alerts (raised_at) WHERE state = 'open';

-- Escalates, oldest first, at most p_limit open alerts raised p_after_s seconds ago or more, each as
-- alert_write_escalation does (state, police routing, history entry, change seq). Nothing due: one
-- read of the index, no lock. Otherwise the change-sequence lock is taken before any row lock, the
-- order every writer of alerts keeps (098), so a sweep and a console claim cannot deadlock; rows
-- another transaction still holds are skipped, not waited for (the next sweep sees them again if
-- they are still open).
CREATE FUNCTION alert_write_escalation_due(p_after_s integer, p_limit integer)
RETURNS TABLE (alert_id bigint, created boolean)
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  v_id bigint;
  ch record;
BEGIN
  IF p_after_s IS NULL OR p_after_s < 0 OR p_limit IS NULL OR p_limit < 1 THEN
    RAISE EXCEPTION 'alert_write_escalation_due: p_after_s >= 0 and p_limit >= 1 (got %, %)', p_after_s, p_limit
      USING ERRCODE = '22023';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM alerts a
                  WHERE a.state = 'open' AND a.raised_at <= now() - make_interval(secs => p_after_s)) THEN
    RETURN;
  END IF;
  PERFORM alert_next_seq();
  FOR v_id IN
    SELECT a.id FROM alerts a
     WHERE a.state = 'open' AND a.raised_at <= now() - make_interval(secs => p_after_s)
     ORDER BY a.raised_at, a.id
     LIMIT p_limit
     FOR UPDATE SKIP LOCKED
  LOOP
    FOR ch IN SELECT * FROM alert_write_escalation(v_id) LOOP
      alert_id := ch.alert_id;
      created := ch.created;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
