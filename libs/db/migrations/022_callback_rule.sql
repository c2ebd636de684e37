-- One-ring call-back scams: the scam number rings many subscribers once (near-zero answer rate) and
-- waits for the curious to call back a premium line. The victim is the CALLER of the answered
-- call; the detector reads the called number's own caller-side windows (see README "Detection").
INSERT INTO detection_rule_versions
  (rule_id, scope, version, enabled, report_only, points, params, changed_by, change_reason)
VALUES
  ('callback_to_one_ring', '*', 1, true, false, 60,
   '{"minAttempts24h": 30, "minDistinct24h": 20, "maxAnswerRate": 0.05}', 'migration',
   'default rule: alert a subscriber who calls back a number that rang many people with almost none answered (one-ring call-back scam)')
ON CONFLICT (rule_id, scope, version) DO NOTHING;
