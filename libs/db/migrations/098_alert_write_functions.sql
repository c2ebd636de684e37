-- The alert worker's writes, one function per job kind, so that a write is one round trip (issue 13).
-- Each write was about six statements in sequence (the change seq, the row FOR UPDATE, the insert or
-- update, its alert_history entry, its alert_evidence snapshot), all while holding the change-sequence
-- lock (030: alert_next_seq, held to the commit's WAL flush); a job's write waited for every
-- statement of the writes ahead of it. The same statements now run inside PostgreSQL.
--
-- SECURITY INVOKER (the default, spelled out): each function runs with the privileges of its caller,
-- so the app role can do through them exactly what it could do with the statements, and no more:
-- alert_history and alert_evidence stay append-only for it (app-role.ts), and any row-level or
-- tenant rule on these tables applies as to the statements themselves. EXECUTE is PUBLIC's, as for
-- alert_next_seq: an invoker's function confers nothing its caller lacks.
--
-- Each function takes the change seq first (alert_next_seq: the advisory lock before any row lock,
-- the order every writer of alerts keeps, so the worker and the console cannot deadlock), and
-- returns the alerts it created or changed: none when the job changes nothing (a repeat, a stale
-- step, an alert no longer open). Times are epoch milliseconds as the jobs carry them.

-- A history entry's trace (detail.traceId), as 096 describes: nothing when the job carried none.
CREATE FUNCTION alert_traced(p_trace_id text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_trace_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('traceId', p_trace_id) END
$$;

-- A victim-on-call or post-call job: one alert per (carrier, call, kind). New: inserted with a call
-- end that arrived first (alert_call_ends). Known: merged, never losing severity or score (a later
-- step upgrades it and takes its reasons when it scores at least as high; the call's end is taken
-- once), and nothing is written when the merge changes nothing. Every change appends its history
-- entry and the step's evidence (090, 095), in the same transaction.
CREATE FUNCTION alert_write_call(
  p_kind text, p_carrier_id text, p_call_id text, p_victim text, p_suspect text, p_region text,
  p_severity text, p_score double precision, p_reasons jsonb, p_step_s integer,
  p_call_answered_ms double precision, p_call_ended_ms double precision, p_talk_time_s integer,
  p_event_ms double precision, p_raised_ms double precision, p_trace_id text, p_caller_features jsonb)
RETURNS TABLE (alert_id bigint, created boolean)
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  v_seq bigint := alert_next_seq();
  r alerts%ROWTYPE;
  v_id bigint;
  v_action text := 'created';
  v_severity text := p_severity;
  v_score double precision := p_score;
  v_reasons jsonb := p_reasons;
  v_step_s integer := p_step_s;
  v_police boolean;
  v_police_reason text;
BEGIN
  SELECT * INTO r FROM alerts a
   WHERE a.carrier_id = p_carrier_id AND a.call_id = p_call_id AND a.kind = p_kind FOR UPDATE;
  IF NOT FOUND THEN
    v_police := p_severity = 'critical';
    INSERT INTO alerts (kind, carrier_id, call_id, victim, suspect, region, severity, score, reasons,
        step_s, call_answered_at, call_ended_at, talk_time_s, event_time, raised_at, police, police_reason,
        created_seq, seq, trace_id)
    SELECT p_kind, p_carrier_id, p_call_id, p_victim, p_suspect, p_region, p_severity, p_score, p_reasons,
           p_step_s, to_timestamp(p_call_answered_ms / 1000.0),
           COALESCE(to_timestamp(p_call_ended_ms / 1000.0), e.call_ended_at), COALESCE(p_talk_time_s, e.talk_time_s),
           to_timestamp(p_event_ms / 1000.0), to_timestamp(p_raised_ms / 1000.0), v_police,
           CASE WHEN v_police THEN 'critical' END, v_seq, v_seq, p_trace_id
      FROM (SELECT 1) one
      LEFT JOIN alert_call_ends e ON e.carrier_id = p_carrier_id AND e.call_id = p_call_id
    RETURNING id INTO v_id;
  ELSE
    v_id := r.id;
    v_severity := CASE WHEN p_severity = 'critical' OR r.severity = 'critical' THEN 'critical' ELSE 'warning' END;
    v_score := greatest(r.score, p_score);
    v_reasons := CASE WHEN p_score >= r.score THEN p_reasons ELSE r.reasons END;
    v_step_s := greatest(r.step_s, p_step_s);
    v_police := r.police OR v_severity = 'critical';
    v_police_reason := COALESCE(r.police_reason, CASE WHEN v_police THEN 'critical' END);
    IF v_severity = r.severity AND v_score = r.score AND v_reasons = r.reasons AND v_step_s = r.step_s
       AND v_police = r.police AND NOT (r.call_ended_at IS NULL AND p_call_ended_ms IS NOT NULL) THEN
      RETURN; -- a repeat or a stale step: nothing to change
    END IF;
    UPDATE alerts a SET severity = v_severity, score = v_score, reasons = v_reasons, step_s = v_step_s,
           call_ended_at = COALESCE(a.call_ended_at, to_timestamp(p_call_ended_ms / 1000.0)),
           talk_time_s = COALESCE(a.talk_time_s, p_talk_time_s), police = v_police, police_reason = v_police_reason,
           updated_at = now(), seq = v_seq, trace_id = COALESCE(p_trace_id, a.trace_id)
     WHERE a.id = v_id;
    v_action := CASE WHEN v_severity <> r.severity THEN 'upgraded' ELSE 'updated' END;
  END IF;
  INSERT INTO alert_history (seq, alert_id, actor, action, detail)
  VALUES (v_seq, v_id, 'detector', v_action,
          jsonb_build_object('severity', v_severity, 'score', v_score, 'stepS', v_step_s) || alert_traced(p_trace_id));
  INSERT INTO alert_evidence (alert_id, seq, action, event_time, raised_at, step_s, severity, score, reasons,
      call_answered_at, call_ended_at, talk_time_s, caller_features)
  VALUES (v_id, v_seq, v_action, to_timestamp(p_event_ms / 1000.0), to_timestamp(p_raised_ms / 1000.0),
          p_step_s, p_severity, p_score, p_reasons, to_timestamp(p_call_answered_ms / 1000.0),
          to_timestamp(p_call_ended_ms / 1000.0), p_talk_time_s, p_caller_features);
  RETURN QUERY SELECT v_id, v_action = 'created';
END $$;

-- A suspect-number job: one alert per (carrier, number), routed to police from the start. Merged as
-- a call alert is (its step stays), the region filled in once known.
CREATE FUNCTION alert_write_suspect(
  p_carrier_id text, p_suspect text, p_region text, p_severity text, p_score double precision,
  p_reasons jsonb, p_event_ms double precision, p_raised_ms double precision, p_trace_id text,
  p_caller_features jsonb)
RETURNS TABLE (alert_id bigint, created boolean)
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  v_seq bigint := alert_next_seq();
  r alerts%ROWTYPE;
  v_id bigint;
  v_action text := 'created';
  v_severity text := p_severity;
  v_score double precision := p_score;
  v_reasons jsonb;
BEGIN
  SELECT * INTO r FROM alerts a
   WHERE a.carrier_id = p_carrier_id AND a.suspect = p_suspect AND a.kind = 'suspect_number' FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO alerts (kind, carrier_id, suspect, region, severity, score, reasons, event_time, raised_at,
        police, police_reason, created_seq, seq, trace_id)
    VALUES ('suspect_number', p_carrier_id, p_suspect, p_region, p_severity, p_score, p_reasons,
            to_timestamp(p_event_ms / 1000.0), to_timestamp(p_raised_ms / 1000.0), true, 'suspect_number',
            v_seq, v_seq, p_trace_id)
    RETURNING id INTO v_id;
  ELSE
    v_id := r.id;
    v_severity := CASE WHEN p_severity = 'critical' OR r.severity = 'critical' THEN 'critical' ELSE 'warning' END;
    v_score := greatest(r.score, p_score);
    v_reasons := CASE WHEN p_score >= r.score THEN p_reasons ELSE r.reasons END;
    IF v_severity = r.severity AND v_score = r.score AND v_reasons = r.reasons
       AND (r.police OR v_severity = 'critical') = r.police THEN
      RETURN;
    END IF;
    UPDATE alerts a SET severity = v_severity, score = v_score, reasons = v_reasons,
           region = COALESCE(a.region, p_region), updated_at = now(), seq = v_seq,
           trace_id = COALESCE(p_trace_id, a.trace_id)
     WHERE a.id = v_id;
    v_action := CASE WHEN v_severity <> r.severity THEN 'upgraded' ELSE 'updated' END;
  END IF;
  INSERT INTO alert_history (seq, alert_id, actor, action, detail)
  VALUES (v_seq, v_id, 'detector', v_action,
          jsonb_build_object('severity', v_severity, 'score', v_score) || alert_traced(p_trace_id));
  INSERT INTO alert_evidence (alert_id, seq, action, event_time, raised_at, step_s, severity, score, reasons,
      caller_features)
  VALUES (v_id, v_seq, v_action, to_timestamp(p_event_ms / 1000.0), to_timestamp(p_raised_ms / 1000.0), 0,
          p_severity, p_score, p_reasons, p_caller_features);
  RETURN QUERY SELECT v_id, v_action = 'created';
END $$;

-- A call-ended job: the end is kept for an alert still to come, and every open-call alert of the
-- call is stamped, each change with its own seq and history entry (in id order).
CREATE FUNCTION alert_write_call_end(
  p_carrier_id text, p_call_id text, p_call_ended_ms double precision, p_talk_time_s integer, p_trace_id text)
RETURNS TABLE (alert_id bigint, created boolean)
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  v_seq bigint := alert_next_seq();
  v_ids bigint[];
  v_id bigint;
  v_first boolean := true;
BEGIN
  INSERT INTO alert_call_ends (carrier_id, call_id, call_ended_at, talk_time_s)
  VALUES (p_carrier_id, p_call_id, to_timestamp(p_call_ended_ms / 1000.0), p_talk_time_s) ON CONFLICT DO NOTHING;
  SELECT array_agg(s.id ORDER BY s.id) INTO v_ids FROM (
    SELECT a.id FROM alerts a
     WHERE a.carrier_id = p_carrier_id AND a.call_id = p_call_id AND a.kind <> 'suspect_number'
       AND a.call_ended_at IS NULL
     ORDER BY a.id FOR UPDATE) s;
  FOREACH v_id IN ARRAY COALESCE(v_ids, '{}') LOOP
    IF NOT v_first THEN
      v_seq := alert_next_seq();
    END IF;
    v_first := false;
    UPDATE alerts a SET call_ended_at = to_timestamp(p_call_ended_ms / 1000.0), talk_time_s = p_talk_time_s,
           updated_at = now(), seq = v_seq, trace_id = COALESCE(p_trace_id, a.trace_id)
     WHERE a.id = v_id;
    INSERT INTO alert_history (seq, alert_id, actor, action, detail)
    VALUES (v_seq, v_id, 'detector', 'call_ended',
            jsonb_build_object('talkTimeS', p_talk_time_s) || alert_traced(p_trace_id));
    alert_id := v_id;
    created := false;
    RETURN NEXT;
  END LOOP;
END $$;

-- The escalation timer: an alert nobody claimed goes to the police; nothing once it was claimed,
-- escalated or closed.
CREATE FUNCTION alert_write_escalation(p_alert_id bigint)
RETURNS TABLE (alert_id bigint, created boolean)
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  v_seq bigint := alert_next_seq();
BEGIN
  UPDATE alerts a SET state = 'escalated', police = true, police_reason = COALESCE(a.police_reason, 'unclaimed'),
         escalated_at = now(), updated_at = now(), seq = v_seq
   WHERE a.id = p_alert_id AND a.state = 'open';
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO alert_history (seq, alert_id, actor, action, detail)
  VALUES (v_seq, p_alert_id, 'system', 'escalated', '{"reason": "unclaimed"}');
  RETURN QUERY SELECT p_alert_id, false;
END $$;

-- Group commit in one round trip: the writes that share a transaction (the worker's batch), in order,
-- each as {"f": call | suspect | call_end | escalation, "a": [the function's arguments]}. Each runs
-- in a block of its own (a subtransaction): a write that fails is rolled back alone and comes back
-- as its SQLSTATE and message (write_no counts from 1), the others stand. Called as a statement on
-- its own, the batch commits with that statement: the change-sequence lock is held from the first
-- write's seq to that commit and no longer.
CREATE FUNCTION alert_write_batch(p_writes jsonb)
RETURNS TABLE (write_no integer, alert_id bigint, created boolean, error_code text, error_message text)
LANGUAGE plpgsql SECURITY INVOKER AS $$
DECLARE
  w jsonb;
  a jsonb;
  n integer;
  ch record;
BEGIN
  FOR w, n IN SELECT e.value, e.ordinality::integer FROM jsonb_array_elements(p_writes) WITH ORDINALITY e LOOP
    a := w->'a';
    write_no := n;
    error_code := NULL;
    error_message := NULL;
    BEGIN
      CASE w->>'f'
      WHEN 'call' THEN
        FOR ch IN SELECT * FROM alert_write_call(a->>0, a->>1, a->>2, a->>3, a->>4, a->>5, a->>6,
            (a->>7)::double precision, (a->>8)::jsonb, (a->>9)::integer, (a->>10)::double precision,
            (a->>11)::double precision, (a->>12)::integer, (a->>13)::double precision,
            (a->>14)::double precision, a->>15, (a->>16)::jsonb) LOOP
          alert_id := ch.alert_id;
          created := ch.created;
          RETURN NEXT;
        END LOOP;
      WHEN 'suspect' THEN
        FOR ch IN SELECT * FROM alert_write_suspect(a->>0, a->>1, a->>2, a->>3, (a->>4)::double precision,
            (a->>5)::jsonb, (a->>6)::double precision, (a->>7)::double precision, a->>8, (a->>9)::jsonb) LOOP
          alert_id := ch.alert_id;
          created := ch.created;
          RETURN NEXT;
        END LOOP;
      WHEN 'call_end' THEN
        FOR ch IN SELECT * FROM alert_write_call_end(a->>0, a->>1, (a->>2)::double precision,
            (a->>3)::integer, a->>4) LOOP
          alert_id := ch.alert_id;
          created := ch.created;
          RETURN NEXT;
        END LOOP;
      WHEN 'escalation' THEN
        FOR ch IN SELECT * FROM alert_write_escalation((a->>0)::bigint) LOOP
          alert_id := ch.alert_id;
          created := ch.created;
          RETURN NEXT;
        END LOOP;
      ELSE
        RAISE EXCEPTION 'alert_write_batch: no write function %', w->>'f' USING ERRCODE = '22023';
      END CASE;
    EXCEPTION WHEN OTHERS THEN
      alert_id := NULL;
      created := NULL;
      error_code := SQLSTATE;
      error_message := SQLERRM;
      RETURN NEXT;
    END;
  END LOOP;
END $$;
