// SQLite schema, version by version. Why the tables look the way they do:
//  - Keys are rows, not a JSON blob in a settings value (the Python predecessor's 64 KB cap),
//    and their health is columns plus a cooldown table, so it survives restarts.
//  - Logs reference keys and tokens by id only (never the secret) and carry no foreign key:
//    a log row outlives the key it names.
//  - usage_* are rollups maintained on insert: dashboard statistics over 24 h or 30 days read
//    a few thousand rollup rows instead of scanning up to millions of log rows.
//  - CHECK constraints make the database refuse what the code would never write, so a bug
//    shows up as an error instead of bad data.
#include "storage/sqlite/schema.h"

namespace gemgate::storage::sqlite {
namespace {

constexpr const char* kV1 = R"sql(
CREATE TABLE keys (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused
  secret               TEXT    NOT NULL UNIQUE CHECK (length(secret) BETWEEN 1 AND 256),
  created_at           INTEGER NOT NULL,
  disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  disabled_reason      TEXT    NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  last_used_at         INTEGER NOT NULL DEFAULT 0,
  last_error           TEXT    NOT NULL DEFAULT '',
  last_checked_at      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE key_cooldowns (
  key_id   INTEGER NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
  model    TEXT    NOT NULL CHECK (length(model) > 0),
  until_ms INTEGER NOT NULL,
  strikes  INTEGER NOT NULL DEFAULT 0 CHECK (strikes >= 0),
  PRIMARY KEY (key_id, model)
) WITHOUT ROWID;

CREATE TABLE client_tokens (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  label        TEXT    NOT NULL DEFAULT '',
  token_sha256 TEXT    NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
  prefix       TEXT    NOT NULL DEFAULT '',
  suffix       TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE settings (
  name       TEXT    PRIMARY KEY,
  value      TEXT    NOT NULL CHECK (json_valid(value)),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE admin_sessions (
  id_sha256  TEXT    PRIMARY KEY CHECK (length(id_sha256) = 64),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at);

CREATE TABLE request_log (
  id                INTEGER PRIMARY KEY,
  time_ms           INTEGER NOT NULL,
  route             TEXT    NOT NULL DEFAULT '',
  method            TEXT    NOT NULL DEFAULT '',
  path              TEXT    NOT NULL DEFAULT '',
  model             TEXT    NOT NULL DEFAULT '',
  key_id            INTEGER,
  token_id          INTEGER,
  status            INTEGER NOT NULL,
  latency_ms        INTEGER NOT NULL DEFAULT 0,
  attempts          INTEGER NOT NULL DEFAULT 1,
  stream            INTEGER NOT NULL DEFAULT 0 CHECK (stream IN (0, 1)),
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  thoughts_tokens   INTEGER NOT NULL DEFAULT 0,
  cached_tokens     INTEGER NOT NULL DEFAULT 0,
  total_tokens      INTEGER NOT NULL DEFAULT 0,
  error             TEXT    NOT NULL DEFAULT ''
);
-- Each index also orders by time (and rowid), so "newest first" pages need no sort.
CREATE INDEX request_log_by_time   ON request_log (time_ms);
CREATE INDEX request_log_by_key    ON request_log (key_id, time_ms);
CREATE INDEX request_log_by_model  ON request_log (model, time_ms);
CREATE INDEX request_log_by_status ON request_log (status, time_ms);

CREATE TABLE error_log (
  id      INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  key_id  INTEGER,
  model   TEXT    NOT NULL DEFAULT '',
  status  INTEGER NOT NULL DEFAULT 0,
  kind    TEXT    NOT NULL DEFAULT '',
  message TEXT    NOT NULL DEFAULT '',
  route   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX error_log_by_time   ON error_log (time_ms);
CREATE INDEX error_log_by_key    ON error_log (key_id, time_ms);
CREATE INDEX error_log_by_model  ON error_log (model, time_ms);
CREATE INDEX error_log_by_kind   ON error_log (kind, time_ms);
CREATE INDEX error_log_by_status ON error_log (status, time_ms);

-- Usage rollups, maintained in the same transaction as the log rows (see sqlite_stats.cpp).
-- A failure is status >= 400 or status 0. Per-model hours serve totals, per-model figures and
-- the time series; per-key days and hours serve the per-key figures (keys × days stays small
-- even with thousands of keys, where keys × hours would not). Rows without a key only appear
-- in the per-model table. No secondary indexes: a key-page lookup scans a time range of the
-- primary key (a day of hours is ~24 × keys rows), and each extra index would cost a random
-- page write per key in every log batch.
CREATE TABLE usage_hourly_model (
  hour_ms           INTEGER NOT NULL,
  model             TEXT    NOT NULL,
  requests          INTEGER NOT NULL,
  failures          INTEGER NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens      INTEGER NOT NULL,
  PRIMARY KEY (hour_ms, model)
) WITHOUT ROWID;

CREATE TABLE usage_hourly_key (
  hour_ms           INTEGER NOT NULL,
  key_id            INTEGER NOT NULL,
  requests          INTEGER NOT NULL,
  failures          INTEGER NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens      INTEGER NOT NULL,
  PRIMARY KEY (hour_ms, key_id)
) WITHOUT ROWID;

CREATE TABLE usage_daily_key (
  day_ms            INTEGER NOT NULL,
  key_id            INTEGER NOT NULL,
  requests          INTEGER NOT NULL,
  failures          INTEGER NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens      INTEGER NOT NULL,
  PRIMARY KEY (day_ms, key_id)
) WITHOUT ROWID;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kAll = {
      {1, "keys, key health, tokens, settings, sessions, logs, usage rollups", kV1},
  };
  return kAll;
}

int latest_schema_version() {
  return migrations().back().version;
}

}  // namespace gemgate::storage::sqlite
