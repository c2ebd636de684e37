-- The suspect's caller-model features at each detection step, kept with the alert's evidence (090):
-- an object of feature name -> value (libs/scoring FEATURE_NAMES), NULL when the model did not
-- judge the number (a class it was not trained on, no calls seen, a job from an older detector).
-- Once a desk records an alert's outcome (confirmed fraud / false positive) or a supervisor reviews
-- reports of the number (confirmed / dismissed), these rows are the labelled samples the model is
-- retrained on (`npm run train -- --feedback-carrier <id>`; README "The learned caller-risk model").
-- Pseudonymous like the rest of the evidence: figures of the number's windows, no identifiers.
ALTER TABLE alert_evidence ADD COLUMN caller_features jsonb
  CHECK (caller_features IS NULL OR jsonb_typeof(caller_features) = 'object');

-- the export reads the evidence of one carrier's alerts on one number
CREATE INDEX alerts_carrier_suspect ON alerts (carrier_id, suspect);
