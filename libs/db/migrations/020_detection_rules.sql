-- Detection rules (versioned, per-carrier overrides, report-only switch) and the black/gray/white
-- lists. The detector mirrors both into memory/Redis; every change notifies running detectors.

-- Every change is a new row: the active rule of a scope is its highest version. scope '*' is the
-- global rule, any other value is a carrier's override of it.
CREATE TABLE detection_rule_versions (
  id           bigserial PRIMARY KEY,
  rule_id      text NOT NULL CHECK (rule_id ~ '^[a-z][a-z0-9_]{1,47}$'),
  scope        text NOT NULL CHECK (scope = '*' OR scope ~ '^[a-z0-9][a-z0-9-]{1,31}$'),
  version      integer NOT NULL CHECK (version > 0),
  enabled      boolean NOT NULL,
  report_only  boolean NOT NULL,
  points       integer NOT NULL CHECK (points BETWEEN -1000 AND 1000),
  params       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(params) = 'object'),
  changed_by   text NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  change_reason text NOT NULL CHECK (length(change_reason) > 0),
  UNIQUE (rule_id, scope, version)
);

CREATE VIEW detection_rules_active AS
  SELECT DISTINCT ON (rule_id, scope) *
  FROM detection_rule_versions
  ORDER BY rule_id, scope, version DESC;

-- Black/gray/white lists, global (scope '*') or per carrier. A number has at most one live entry
-- per scope; removing keeps the row (who, when, why) and frees the slot.
CREATE TABLE number_lists (
  id            bigserial PRIMARY KEY,
  list          text NOT NULL CHECK (list IN ('black', 'gray', 'white')),
  number_token  text NOT NULL CHECK (number_token ~ '^[A-Za-z0-9._-]{3,128}$'),
  scope         text NOT NULL CHECK (scope = '*' OR scope ~ '^[a-z0-9][a-z0-9-]{1,31}$'),
  reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
  added_by      text NOT NULL,
  added_at      timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  removed_by    text,
  removed_at    timestamptz,
  remove_reason text,
  CHECK (expires_at IS NULL OR expires_at > added_at),
  CHECK ((removed_at IS NULL) = (removed_by IS NULL))
);
CREATE UNIQUE INDEX number_lists_live ON number_lists (number_token, scope) WHERE removed_at IS NULL;
CREATE INDEX number_lists_scope ON number_lists (scope, list) WHERE removed_at IS NULL;

-- Running detectors LISTEN on this channel; the payload names the schema so that several
-- deployments (or test schemas) sharing one database only reload their own rules.
CREATE FUNCTION detection_rules_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('eagleeye_rules', current_schema() || ':' || NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER detection_rule_versions_notify AFTER INSERT ON detection_rule_versions
  FOR EACH ROW EXECUTE FUNCTION detection_rules_notify();

-- Rule history is append-only like the audit log.
CREATE FUNCTION detection_rule_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'detection_rule_versions is append-only: insert a new version';
END $$;
CREATE TRIGGER detection_rule_versions_no_update BEFORE UPDATE OR DELETE ON detection_rule_versions
  FOR EACH ROW EXECUTE FUNCTION detection_rule_versions_append_only();
