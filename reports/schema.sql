-- reports/schema.sql: where every simulator run, scenario run and real-ensemble run is recorded
-- (`paddock sim ... --db FILE`).  Reports are built from these tables; the binary embeds this
-- file and applies it to the database before each run (every statement is idempotent).

-- One run: a seed of the simulator, a scenario on a seed, or a scenario against real processes.
CREATE TABLE IF NOT EXISTS runs (
  id          INTEGER PRIMARY KEY,
  started_at  TEXT    NOT NULL,            -- UTC, ISO 8601
  kind        TEXT    NOT NULL,            -- 'sim' | 'scenario' | 'real'
  scenario    TEXT,                        -- the scenario file; NULL for a plain simulator run
  seed        INTEGER NOT NULL,
  commit_id   TEXT    NOT NULL,            -- the build's git commit
  parameters  TEXT    NOT NULL,            -- JSON: servers, observers, clients, seconds, ...
  outcome     TEXT    NOT NULL,            -- 'pass' | 'violation' | 'liveness' | 'crash'
  exit_code   INTEGER NOT NULL,            -- 0, 129, 128, 127 (the simulator's exit codes)
  message     TEXT,                        -- what failed, NULL on a pass
  digest      TEXT    NOT NULL,            -- the run's trace digest: the same seed gives the same
  virtual_ms  INTEGER NOT NULL,
  wall_ms     INTEGER NOT NULL,
  replay      TEXT    NOT NULL             -- the command that replays the run exactly
);
CREATE INDEX IF NOT EXISTS runs_by_outcome ON runs (outcome, kind, scenario);

-- Figures of a run (events, acknowledged writes, crashes, elections, ...), one row each.
CREATE TABLE IF NOT EXISTS run_figures (
  run_id INTEGER NOT NULL REFERENCES runs (id),
  name   TEXT    NOT NULL,
  value  REAL    NOT NULL,
  PRIMARY KEY (run_id, name)
);

-- The checks of a run and whether they held.
CREATE TABLE IF NOT EXISTS checks (
  run_id  INTEGER NOT NULL REFERENCES runs (id),
  name    TEXT    NOT NULL,                -- e.g. 'safety', 'liveness', or a scenario's expect
  held    INTEGER NOT NULL,                -- 1 held, 0 failed
  step    TEXT,                            -- the scenario step that checked it
  message TEXT
);

-- The timeline of a run: faults, recoveries, role changes, scenario steps (virtual time).
CREATE TABLE IF NOT EXISTS events (
  run_id INTEGER NOT NULL REFERENCES runs (id),
  at_us  INTEGER NOT NULL,
  server INTEGER,                          -- NULL when not about one server
  kind   TEXT    NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, at_us);

-- Client operations of a scenario run.
CREATE TABLE IF NOT EXISTS operations (
  run_id      INTEGER NOT NULL REFERENCES runs (id),
  client      INTEGER NOT NULL,
  op          TEXT    NOT NULL,
  path        TEXT,
  called_us   INTEGER NOT NULL,
  returned_us INTEGER,                     -- NULL if no answer came
  err         INTEGER,
  zxid        INTEGER
);

-- Client throughput of a scenario run over virtual time, in 100 ms buckets (at_ms: the
-- bucket's start); the background load and the scenario's own operations both count.
CREATE TABLE IF NOT EXISTS throughput (
  run_id INTEGER NOT NULL REFERENCES runs (id),
  at_ms  INTEGER NOT NULL,
  ok     INTEGER NOT NULL,                 -- operations answered without an error
  failed INTEGER NOT NULL,                 -- answered with an error (CONNECTIONLOSS included)
  PRIMARY KEY (run_id, at_ms)
);

-- A fuzz failure shrunk (`paddock fuzz ... --db`): the smallest world and fault schedule found
-- that still fails the same way, its replay command and the Lua scenario for
-- scenarios/regressions/.  The fault mix of any fuzz run is in runs.parameters ("faults", a
-- mask of the classes on; "fault_classes", their names).
CREATE TABLE IF NOT EXISTS shrunk (
  run_id      INTEGER PRIMARY KEY REFERENCES runs (id),
  replay      TEXT    NOT NULL,            -- replays the shrunk run exactly
  parameters  TEXT    NOT NULL,            -- JSON: the shrunk world
  message     TEXT    NOT NULL,            -- how the shrunk run fails
  tries       INTEGER NOT NULL,            -- runs the shrinking took
  moves_kept  INTEGER NOT NULL,            -- nemesis moves (faults) left in the schedule
  moves_total INTEGER NOT NULL,            -- nemesis moves of the failing run
  scenario    TEXT    NOT NULL             -- Lua, for scenarios/regressions/
);
