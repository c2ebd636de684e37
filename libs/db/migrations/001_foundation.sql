-- Carriers, their ingest credentials, console users and the audit trail.

CREATE TABLE carriers (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,31}$'),
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are random 256-bit secrets shown once; only their SHA-256 is stored. A slow password
-- hash is unnecessary for secrets of that entropy and would cost every stream its start-up time.
CREATE TABLE carrier_api_keys (
  key_id      text PRIMARY KEY,
  carrier_id  text NOT NULL REFERENCES carriers(id),
  secret_sha256 bytea NOT NULL UNIQUE,
  label       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX carrier_api_keys_carrier ON carrier_api_keys (carrier_id);

CREATE TABLE console_users (
  id            bigserial PRIMARY KEY,
  username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('carrier_operator', 'police_officer', 'supervisor', 'admin')),
  carrier_id    text REFERENCES carriers(id),
  regions       text[] NOT NULL DEFAULT '{}',
  display_name  text NOT NULL DEFAULT '',
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- a carrier operator is bound to exactly one carrier; a police officer to at least one region
  CONSTRAINT console_users_scope CHECK (
    (role <> 'carrier_operator' OR carrier_id IS NOT NULL) AND
    (role <> 'police_officer' OR cardinality(regions) > 0)
  )
);

-- Who saw and did what. Append-only: updates and deletes are refused by a trigger.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  actor_role  text NOT NULL,
  action      text NOT NULL,
  object_type text NOT NULL,
  object_id   text,
  carrier_id  text,
  region      text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
