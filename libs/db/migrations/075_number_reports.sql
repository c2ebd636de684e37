-- Reports of fraud numbers from partner apps (anti-fraud apps, police hotlines): the public's eyes.
-- A partner authenticates with its own API key (`Bearer erk_<keyId>_<secret>`, only SHA-256 of
-- the secret stored); a report names a number by its pseudonym token (never a clear number), a
-- category and free-text evidence, and is kept once per (partner, reporter, number). Reports from
-- enough distinct reporters graylist the number (with expiry) until a supervisor confirms
-- (blacklist) or dismisses them.
CREATE TABLE report_partners (
  id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,31}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

CREATE TABLE report_partner_keys (
  key_id        text PRIMARY KEY CHECK (key_id ~ '^[A-Za-z0-9]{1,64}$'),
  partner_id    text NOT NULL REFERENCES report_partners(id),
  secret_sha256 bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);

CREATE TABLE number_reports (
  id           bigserial PRIMARY KEY,
  partner_id   text NOT NULL REFERENCES report_partners(id),
  -- the partner's own opaque id of the person reporting (never a phone number)
  reporter     text NOT NULL CHECK (reporter ~ '^[A-Za-z0-9._:-]{1,64}$'),
  number_token text NOT NULL CHECK (number_token ~ '^[A-Za-z0-9._-]{3,128}$'),
  category     text NOT NULL CHECK (category IN ('impersonation_police', 'impersonation_service', 'investment',
                                                 'loan', 'romance', 'part_time_job', 'shopping_refund', 'other')),
  evidence     text CHECK (length(evidence) <= 2000),
  region       text CHECK (region ~ '^[A-Za-z0-9_-]{1,16}$'),
  reported_at  timestamptz NOT NULL DEFAULT now(),
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'dismissed')),
  reviewed_by  text,
  reviewed_at  timestamptz,
  UNIQUE (partner_id, reporter, number_token)
);
CREATE INDEX number_reports_pending ON number_reports (number_token) WHERE state = 'pending';
CREATE INDEX number_reports_at ON number_reports (reported_at);
