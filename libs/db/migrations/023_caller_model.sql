-- The learned caller-risk model (npm run train): a registry of model versions, each with the hash
-- of the data it was trained on, its cross-validated metrics and its decision threshold, and the
-- `caller_model` detection rule that chooses which version decides (params.model, '' = the version
-- bundled with the detector) and which runs in the shadow (params.shadowModel) per carrier. A rule
-- change is hot-reloaded like every rule; report_only runs the deciding model in report-only mode.
CREATE TABLE caller_models (
  version        text PRIMARY KEY CHECK (version ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  data_sha256    text,
  thresholds     jsonb NOT NULL,
  metrics        jsonb NOT NULL,
  body           jsonb NOT NULL,
  registered_by  text NOT NULL,
  registered_at  timestamptz NOT NULL DEFAULT now()
);

-- A registered version is immutable: a changed model is a new version.
CREATE FUNCTION caller_models_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'caller_models rows are immutable: register a new version';
END $$;
CREATE TRIGGER caller_models_no_update BEFORE UPDATE OR DELETE ON caller_models
  FOR EACH ROW EXECUTE FUNCTION caller_models_immutable();

INSERT INTO detection_rule_versions
  (rule_id, scope, version, enabled, report_only, points, params, changed_by, change_reason)
VALUES
  ('caller_model', '*', 1, true, false, 55,
   '{"model": "", "shadowModel": "", "minProbability": 0, "minCallS": 60, "classes": ["MOBILE", "VIRTUAL_OPERATOR"]}', 'migration',
   'default rule: the calibrated caller-risk model marks a caller whose fraud probability reaches the model''s 95 %-precision threshold as a suspect')
ON CONFLICT (rule_id, scope, version) DO NOTHING;
