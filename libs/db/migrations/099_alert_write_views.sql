-- The alert as consoles receive it (alert_views, 096), read inside the statement that wrote it, so
-- the worker publishes a change without reading it back in a round trip of its own (issue 13):
--   SELECT w.alert_id, w.created, alert_view_of(w.alert_id) FROM alert_write_call(...) w
-- The write function runs first (its rows are complete before the select list is computed);
-- VOLATILE (and PL/pgSQL, never inlined) so its query takes a fresh snapshot that sees the
-- statement's own writes. The view is the alert as of that change, which commits with it: a
-- console keeps, per alert, the highest seq it has seen, so a later change published first is
-- never overwritten by it. SECURITY INVOKER: the caller's rights on alerts, as a SELECT would.
CREATE FUNCTION alert_view_of(p_alert_id bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  RETURN (SELECT v.view FROM alert_views v WHERE v.id = p_alert_id);
END $$;
