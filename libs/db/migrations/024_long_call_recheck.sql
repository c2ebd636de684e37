-- Long calls are re-scored every recheckS seconds after the last duration step while they run: a
-- scammer's number often shows its pattern (ringing strangers) only while a victim is kept on the
-- line, and the victim must be reached before the call ends, not in a post-call alert.
INSERT INTO detection_rule_versions
  (rule_id, scope, version, enabled, report_only, points, params, changed_by, change_reason)
VALUES
  ('long_call', '*', 2, true, false, 35,
   '{"stepsS": [60, 180, 600], "stepPoints": [10, 20, 35], "recheckS": 300}', 'migration',
   'long calls are re-scored every 5 minutes after the last step, so a caller whose risk shows during the call still reaches the victim on the line')
ON CONFLICT (rule_id, scope, version) DO NOTHING;
