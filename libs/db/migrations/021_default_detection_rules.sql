-- The default rule set (see libs/rules rule-catalog.ts and README "Detection" for the calibration).
INSERT INTO detection_rule_versions
  (rule_id, scope, version, enabled, report_only, points, params, changed_by, change_reason)
VALUES
  ('fanout', '*', 1, true, false, 30, '{"distinct1h": 15, "distinct24h": 20, "maxCallsPerCallee": 1.5}', 'migration', 'default rule set'),
  ('call_centre', '*', 1, true, false, 25, '{"attempts1h": 30, "attempts10m": 10, "maxAnswerRate": 0.3, "minShortShare": 0.5}', 'migration', 'default rule set'),
  ('blacklist', '*', 1, true, false, 100, '{}', 'migration', 'default rule set'),
  ('graylist', '*', 1, true, false, 40, '{}', 'migration', 'default rule set'),
  ('whitelist', '*', 1, true, false, -100, '{}', 'migration', 'default rule set'),
  ('spoofed_origin', '*', 1, true, false, 35, '{"homeCountry": "CN"}', 'migration', 'default rule set'),
  ('unverified_caller_id', '*', 1, true, false, 15, '{}', 'migration', 'default rule set'),
  ('display_mismatch', '*', 1, true, false, 30, '{}', 'migration', 'default rule set'),
  ('virtual_operator', '*', 1, true, false, 15, '{}', 'migration', 'default rule set'),
  ('new_number', '*', 1, true, false, 10, '{"maxAgeH": 48}', 'migration', 'default rule set'),
  ('sim_farm', '*', 1, true, false, 30, '{"sims": 5}', 'migration', 'default rule set'),
  ('ring_relay', '*', 1, true, false, 35, '{"suspectCallers": 2, "windowS": 3600}', 'migration', 'default rule set'),
  ('long_call', '*', 1, true, false, 35, '{"stepsS": [60, 180, 600], "stepPoints": [10, 20, 35]}', 'migration', 'default rule set'),
  ('vulnerable_age', '*', 1, true, false, 10, '{"bands": ["UNDER_18", "46_64", "65_PLUS"]}', 'migration', 'default rule set'),
  ('familiar', '*', 1, true, false, -60, '{"talkedPoints": -25, "minTalkS": 60}', 'migration', 'default rule set'),
  ('alert_policy', '*', 1, true, false, 0, '{"victimWarning": 60, "victimCritical": 90, "suspectCaller": 40, "suspectWarning": 55, "suspectCritical": 85, "cooldownS": 1800, "shortCallS": 10, "postCallMinTalkS": 30}', 'migration', 'default rule set');
