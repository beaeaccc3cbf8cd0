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

// v2: pool keys sealed at rest, and deletion records.
//  - `secret` (clear text) gives way to `sealed` (AES-256-GCM: format byte, nonce, ciphertext,
//    tag; see storage/secret_box.h) and `fingerprint` (a keyed HMAC-SHA256 of the key) which
//    takes over the UNIQUE dedupe. SQL cannot encrypt (it has no master key), so v1 keys are
//    copied to `plain` here and sealed by SqliteStore::open() right after migrating, in one
//    transaction; a row never has both `plain` and `sealed`.
//  - The table is rebuilt (SQLite cannot drop a UNIQUE column constraint); migrate() turns
//    foreign keys off around the steps, so dropping the old table does not cascade into
//    key_cooldowns, and checks them before each commit. The AUTOINCREMENT high-water mark is
//    carried over so a deleted key's id is still never reused.
//  - deleted_secrets: what an admin deleted (a key's fingerprint or a token's SHA-256, never the
//    value), so the environment bootstrap does not bring it back at the next start.
//  - storage_meta: the master key check value, and later other facts about the file.
constexpr const char* kV2 = R"sql(
CREATE TABLE keys_v2 (
  id                   INTEGER PRIMARY KEY AUTOINCREMENT,
  fingerprint          TEXT    UNIQUE CHECK (fingerprint IS NULL OR length(fingerprint) = 64),
  sealed               BLOB,
  plain                TEXT    CHECK (plain IS NULL OR length(plain) BETWEEN 1 AND 256),
  created_at           INTEGER NOT NULL,
  disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  disabled_reason      TEXT    NOT NULL DEFAULT '',
  consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  last_used_at         INTEGER NOT NULL DEFAULT 0,
  last_error           TEXT    NOT NULL DEFAULT '',
  last_checked_at      INTEGER NOT NULL DEFAULT 0,
  CHECK ((plain IS NULL) = (sealed IS NOT NULL AND fingerprint IS NOT NULL))
);
INSERT INTO keys_v2 (id, plain, created_at, disabled, disabled_reason, consecutive_failures,
                     last_used_at, last_error, last_checked_at)
  SELECT id, secret, created_at, disabled, disabled_reason, consecutive_failures, last_used_at,
         last_error, last_checked_at FROM keys;
DELETE FROM sqlite_sequence WHERE name = 'keys_v2';
INSERT INTO sqlite_sequence (name, seq) SELECT 'keys_v2', seq FROM sqlite_sequence WHERE name = 'keys';
DROP TABLE keys;
ALTER TABLE keys_v2 RENAME TO keys;

CREATE TABLE deleted_secrets (
  kind       TEXT    NOT NULL CHECK (kind IN ('key', 'token')),
  digest     TEXT    NOT NULL CHECK (length(digest) = 64),
  deleted_at INTEGER NOT NULL,
  PRIMARY KEY (kind, digest)
) WITHOUT ROWID;

CREATE TABLE storage_meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql";

// v3: statistics from rollups only (no log rows read), and refused requests as counts.
//  - usage_second_model and usage_minute_key cover the recent ragged end of a window (under an
//    hour) that v1 read from request_log: during a flood that was hundreds of thousands of rows
//    per query. They are pruned after a few hours (see SqliteStore::prune_fine_usage).
//  - refused_minute counts requests the auth filter refused (no valid token): one row per
//    minute instead of one log row per request, so unauthenticated traffic cannot fill the log.
//  - The last three hours of existing log rows are folded into the new tables, so the first
//    dashboard after the upgrade is complete.
constexpr const char* kV3 = R"sql(
CREATE TABLE usage_second_model (
  sec_ms            INTEGER NOT NULL,
  model             TEXT    NOT NULL,
  requests          INTEGER NOT NULL,
  failures          INTEGER NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens      INTEGER NOT NULL,
  PRIMARY KEY (sec_ms, model)
) WITHOUT ROWID;

CREATE TABLE usage_minute_key (
  minute_ms         INTEGER NOT NULL,
  key_id            INTEGER NOT NULL,
  requests          INTEGER NOT NULL,
  failures          INTEGER NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  total_tokens      INTEGER NOT NULL,
  PRIMARY KEY (minute_ms, key_id)
) WITHOUT ROWID;

CREATE TABLE refused_minute (
  minute_ms INTEGER PRIMARY KEY,
  requests  INTEGER NOT NULL CHECK (requests >= 0)
);

INSERT INTO usage_second_model
  SELECT (time_ms / 1000) * 1000, model, count(*),
         sum(CASE WHEN status >= 400 OR status = 0 THEN 1 ELSE 0 END),
         sum(prompt_tokens), sum(completion_tokens), sum(total_tokens)
  FROM request_log WHERE time_ms >= (CAST(strftime('%s', 'now') AS INTEGER) - 10800) * 1000
  GROUP BY 1, 2;
INSERT INTO usage_minute_key
  SELECT (time_ms / 60000) * 60000, key_id, count(*),
         sum(CASE WHEN status >= 400 OR status = 0 THEN 1 ELSE 0 END),
         sum(prompt_tokens), sum(completion_tokens), sum(total_tokens)
  FROM request_log
  WHERE key_id IS NOT NULL AND time_ms >= (CAST(strftime('%s', 'now') AS INTEGER) - 10800) * 1000
  GROUP BY 1, 2;
)sql";

// v4: the keys a request tried and that failed before another key answered. The request row
// names only the key that answered last, so without this a key's drill-down found none of its
// failures that a failover hid. Rows go with their request row (ON DELETE CASCADE); they name
// keys by id only, with no foreign key to keys, like every log row. The columns are declared in
// primary-key order: SQLite 3.40's quick_check wrongly reports "NULL value" in a WITHOUT ROWID
// table whose primary key lists its columns in another order.
constexpr const char* kV4 = R"sql(
CREATE TABLE request_log_failed_keys (
  key_id INTEGER NOT NULL,
  log_id INTEGER NOT NULL REFERENCES request_log(id) ON DELETE CASCADE,
  PRIMARY KEY (key_id, log_id)
) WITHOUT ROWID;
CREATE INDEX request_log_failed_keys_by_log ON request_log_failed_keys (log_id);
)sql";

// v5: stored responses of the OpenAI Responses front (store: true): one row per response with its
// whole conversation as JSON, owned by the client token that made it, pruned after expires_at.
constexpr const char* kV5 = R"sql(
CREATE TABLE stored_responses (
  id         TEXT    PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  token_id   INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  data       TEXT    NOT NULL CHECK (json_valid(data))
);  -- a rowid table: rows are large, which WITHOUT ROWID tables handle poorly
CREATE INDEX stored_responses_by_expiry ON stored_responses (expires_at);
)sql";

// v6: the request id of each logged request (the x-request-id its client got), so a client's
// report finds its row. Older rows keep ''. Self-contained: one column, one index.
constexpr const char* kV6 = R"sql(
ALTER TABLE request_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
CREATE INDEX request_log_by_request_id ON request_log (request_id) WHERE request_id <> '';
)sql";

// v7: client tokens as tenants (issue 14). Each token carries its policy (allowed models as a
// comma-separated list — names cannot hold a comma —, rate limits, quotas, expiry, key group,
// enabled); token_usage_daily holds requests and tokens per token and UTC day (days since
// 1970-01-01), which the gateway adds its counted deltas to and reads back (quotas survive a
// restart and a group of gateways sums into the same rows). The index serves statistics of one
// token (GET /admin/api/stats?token_id=N) from the log rows of that token only.
constexpr const char* kV7 = R"sql(
ALTER TABLE client_tokens ADD COLUMN models TEXT NOT NULL DEFAULT '';
ALTER TABLE client_tokens ADD COLUMN rpm INTEGER NOT NULL DEFAULT 0 CHECK (rpm >= 0);
ALTER TABLE client_tokens ADD COLUMN tpm INTEGER NOT NULL DEFAULT 0 CHECK (tpm >= 0);
ALTER TABLE client_tokens ADD COLUMN daily_tokens INTEGER NOT NULL DEFAULT 0
  CHECK (daily_tokens >= 0);
ALTER TABLE client_tokens ADD COLUMN monthly_tokens INTEGER NOT NULL DEFAULT 0
  CHECK (monthly_tokens >= 0);
ALTER TABLE client_tokens ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0 CHECK (expires_at >= 0);
ALTER TABLE client_tokens ADD COLUMN key_group TEXT NOT NULL DEFAULT '';
ALTER TABLE client_tokens ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1));
CREATE TABLE token_usage_daily (
  token_id INTEGER NOT NULL,
  day      INTEGER NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  tokens   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (token_id, day)
) WITHOUT ROWID;
CREATE INDEX request_log_by_token ON request_log (token_id, time_ms) WHERE token_id IS NOT NULL;
)sql";

// v8: each pool key's policy, set by an operator: weight (share of traffic), group (which
// tokens may use it), its own rpm/tpm limits, a proxy its traffic leaves through (sealed like
// the key: the URL may hold a password; NULL = none) and a note. Self-contained: columns with
// defaults that every existing key satisfies.
constexpr const char* kV8 = R"sql(
ALTER TABLE keys ADD COLUMN weight INTEGER NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100);
ALTER TABLE keys ADD COLUMN key_group TEXT NOT NULL DEFAULT '' CHECK (length(key_group) <= 64);
ALTER TABLE keys ADD COLUMN rpm INTEGER NOT NULL DEFAULT 0 CHECK (rpm >= 0);
ALTER TABLE keys ADD COLUMN tpm INTEGER NOT NULL DEFAULT 0 CHECK (tpm >= 0);
ALTER TABLE keys ADD COLUMN proxy_sealed BLOB;
ALTER TABLE keys ADD COLUMN note TEXT NOT NULL DEFAULT '' CHECK (length(CAST(note AS BLOB)) <= 500);
)sql";

// v9: a group of gateways on one database. `instance_id` says which gateway of the group logged
// a row ('' in older rows); `health_changed_at` is when a key's disabled state last changed or
// its health was reset (wall clock ms, 0 = never), so instances merging shared key health can
// tell the later decision from a stale view. Self-contained: three columns, one index.
constexpr const char* kV9 = R"sql(
ALTER TABLE request_log ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
ALTER TABLE error_log ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN health_changed_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX request_log_by_instance ON request_log (instance_id, time_ms) WHERE instance_id <> '';
)sql";

// v10: resource affinity — which pool key created each server-side Gemini resource (a file, a
// cached content, a batch, an interaction, a tuned model, an operation) and which client token,
// so later calls naming it use that key. Rows go at expires_at. Self-contained: one table.
constexpr const char* kV10 = R"sql(
CREATE TABLE resource_owners (
  name       TEXT    PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 512),
  key_id     INTEGER NOT NULL,
  token_id   INTEGER NOT NULL,
  kind       TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX resource_owners_by_expiry ON resource_owners (expires_at);
)sql";

// v11: the request-id index goes. No query looks a row up by request id (the id is shown in
// the rows a page lists), and maintaining it cost ~11 % of every log insert (bench_log_append).
// Self-contained: one index dropped; a lookup by request id, if one is ever added, brings its
// own.
constexpr const char* kV11 = R"sql(
DROP INDEX IF EXISTS request_log_by_request_id;
)sql";

// v12: the status index holds only the rows whose status is not 200. Nearly every stored request
// is a 200, each index entry cost ~0.65 µs of every insert (bench_log_append), and only filters
// that exclude 200 need it: they carry the condition literally (storage/log_index_terms.h), a
// filter that includes 200 uses the time index. Self-contained: one index rebuilt.
constexpr const char* kV12 = R"sql(
DROP INDEX IF EXISTS request_log_by_status;
CREATE INDEX request_log_by_status ON request_log (status, time_ms) WHERE status <> 200;
)sql";

// v13: what changed, for the change feed of a group of gateways on one SQLite file. The feed
// watched `PRAGMA data_version`, which every commit of another connection moves — this
// process's own request-log batches included — so under traffic every gateway re-read all its
// keys, tokens and settings five times a second. Now each topic of storage/change_feed.h has a
// version that triggers raise in the same transaction as the change (as PostgreSQL's NOTIFY is
// sent), by whichever gateway wrote, and only for changes of what the topic's readers use
// (conf/group_sync.cpp, pool/shared_health.cpp): not for the usage columns written behind
// (last_used_at, last_checked_at, last_error, consecutive_failures), not for circuit breakers
// (key_cooldowns rows named "circuit:…", which stay local), not for a cooldown's strikes alone
// or the removal of ended cooldowns, not for logs or usage rollups. A new decision (disabled,
// reset) stamps health_changed_at, which is what the key-health trigger watches beside the
// disabled state. Sessions have a topic but no trigger: they are looked up per request, so
// nothing re-reads them. The feed reads the versions only when data_version moved. A later
// migration that adds a column a topic's readers use must drop and re-create that topic's
// trigger with the column in its WHEN; one that rebuilds a table re-creates its triggers
// (tests/unit/storage/migrations_test.cpp lists them at the latest version).
constexpr const char* kV13 = R"sql(
CREATE TABLE change_versions (
  topic   TEXT    PRIMARY KEY,
  version INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO change_versions (topic) VALUES ('keys'), ('key_health'), ('tokens'), ('settings'),
  ('sessions');

CREATE TRIGGER keys_added AFTER INSERT ON keys BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'keys';
END;
CREATE TRIGGER keys_deleted AFTER DELETE ON keys BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'keys';
END;
CREATE TRIGGER keys_edited AFTER UPDATE OF fingerprint, sealed, plain, weight, key_group, rpm,
  tpm, proxy_sealed, note ON keys
WHEN OLD.fingerprint IS NOT NEW.fingerprint OR OLD.sealed IS NOT NEW.sealed
  OR OLD.plain IS NOT NEW.plain OR OLD.weight IS NOT NEW.weight
  OR OLD.key_group IS NOT NEW.key_group OR OLD.rpm IS NOT NEW.rpm OR OLD.tpm IS NOT NEW.tpm
  OR OLD.proxy_sealed IS NOT NEW.proxy_sealed OR OLD.note IS NOT NEW.note BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'keys';
END;
CREATE TRIGGER key_health_decided AFTER UPDATE OF disabled, disabled_reason, health_changed_at
  ON keys
WHEN OLD.disabled IS NOT NEW.disabled OR OLD.disabled_reason IS NOT NEW.disabled_reason
  OR OLD.health_changed_at IS NOT NEW.health_changed_at BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'key_health';
END;
CREATE TRIGGER key_cooldown_added AFTER INSERT ON key_cooldowns
WHEN substr(NEW.model, 1, 8) <> 'circuit:' BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'key_health';
END;
CREATE TRIGGER key_cooldown_extended AFTER UPDATE OF until_ms ON key_cooldowns
WHEN substr(NEW.model, 1, 8) <> 'circuit:' AND OLD.until_ms IS NOT NEW.until_ms BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'key_health';
END;

CREATE TRIGGER tokens_added AFTER INSERT ON client_tokens BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'tokens';
END;
CREATE TRIGGER tokens_deleted AFTER DELETE ON client_tokens BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'tokens';
END;
CREATE TRIGGER tokens_edited AFTER UPDATE OF label, token_sha256, prefix, suffix, models, rpm,
  tpm, daily_tokens, monthly_tokens, expires_at, key_group, enabled ON client_tokens
WHEN OLD.label IS NOT NEW.label OR OLD.token_sha256 IS NOT NEW.token_sha256
  OR OLD.prefix IS NOT NEW.prefix OR OLD.suffix IS NOT NEW.suffix
  OR OLD.models IS NOT NEW.models OR OLD.rpm IS NOT NEW.rpm OR OLD.tpm IS NOT NEW.tpm
  OR OLD.daily_tokens IS NOT NEW.daily_tokens OR OLD.monthly_tokens IS NOT NEW.monthly_tokens
  OR OLD.expires_at IS NOT NEW.expires_at OR OLD.key_group IS NOT NEW.key_group
  OR OLD.enabled IS NOT NEW.enabled BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'tokens';
END;

CREATE TRIGGER settings_added AFTER INSERT ON settings BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'settings';
END;
CREATE TRIGGER settings_edited AFTER UPDATE ON settings BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'settings';
END;
CREATE TRIGGER settings_deleted AFTER DELETE ON settings BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'settings';
END;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kAll = {
      {1, "keys, key health, tokens, settings, sessions, logs, usage rollups", kV1},
      {2, "pool keys sealed at rest, deletion records, storage meta", kV2},
      {3, "fine usage rollups for recent windows, refused-request counts", kV3},
      {4, "failed keys of each request (failover)", kV4},
      {5, "stored responses of the OpenAI Responses front", kV5},
      {6, "request id of each request log row", kV6},
      {7, "token policies and per-token daily usage", kV7},
      {8, "pool key policy: weight, group, rpm, tpm, proxy, note", kV8},
      {9, "instance id on log rows, time of a key's last health decision (group)", kV9},
      {10, "resource affinity: the pool key and client token of each created resource", kV10},
      {11, "no request-id index on the request log (no lookup used it; every insert paid)", kV11},
      {12, "the request log's status index holds only non-200 rows", kV12},
      {13, "change versions per topic, raised by triggers (the group's change feed)", kV13},
  };
  return kAll;
}

int latest_schema_version() {
  return migrations().back().version;
}

}  // namespace gemgate::storage::sqlite
