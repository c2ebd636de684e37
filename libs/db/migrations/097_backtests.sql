-- Backtests a supervisor asks for from the console (README "Backtest"): the retained hand-off
-- streams replayed in event time with the active rules plus candidate changes, compared with the
-- alerts stored for a period. The console inserts a request (status queued); the detector's backtest
-- runner claims one at a time (SELECT ... FOR UPDATE SKIP LOCKED; the partial unique index below
-- lets only one run at once across detector replicas), writes its progress, then the report (JSON:
-- counts, missed / new / severity-changed alerts, pseudonym tokens only) or why it failed.
CREATE TABLE backtests (
  id            bigserial PRIMARY KEY,
  requested_by  text NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT now(),
  -- the requester's carrier: a supervisor of one carrier sees and asks for that carrier's only;
  -- NULL: a supervisor of every carrier
  carrier_scope text,
  -- the carriers whose alerts are compared ({}: every carrier)
  carriers      text[] NOT NULL DEFAULT '{}',
  period_from   timestamptz NOT NULL,
  period_to     timestamptz NOT NULL,
  changes       jsonb NOT NULL DEFAULT '[]',
  note          text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  started_at    timestamptz,
  finished_at   timestamptz,
  heartbeat_at  timestamptz,
  runner        text,
  progress      text,
  error         text,
  counts        jsonb,
  report        jsonb,
  CHECK (period_to > period_from)
);
CREATE INDEX backtests_queue ON backtests (id) WHERE status = 'queued';
CREATE UNIQUE INDEX backtests_one_running ON backtests ((true)) WHERE status = 'running';
