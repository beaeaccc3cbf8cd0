// The rows and query shapes that cross the Store interface. They are plain values, free of any
// SQL dialect, so a PostgreSQL backend can fill the same structs. Every time is Unix milliseconds
// (UTC); 0 means "never" where a moment may not have happened yet.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gemgate::storage {

using Millis = std::int64_t;  // Unix time in milliseconds

// ---- Gemini pool keys ------------------------------------------------------------------------

// A cooldown of one key for one model (after a 429). `strikes` counts 429s in a row so the pool
// can grow the next cooldown; it outlives the cooldown itself and resets only on success/reset.
struct ModelCooldown {
  std::string model;
  Millis until_ms = 0;
  int strikes = 0;
};

// The stored health of one key: what the in-memory pool knows of it (pool::KeyHealth), written
// behind (coalesced, latest wins) so it survives a restart.
struct KeyHealthRow {
  std::int64_t key_id = 0;
  bool disabled = false;
  std::string disabled_reason;  // why it was disabled ("API_KEY_INVALID", "by admin"); no secrets
  int consecutive_failures = 0;
  std::vector<ModelCooldown> cooldowns;  // one per model at most
  Millis last_used_at = 0;
  std::string last_error;  // short and already redacted; the store redacts again
  Millis last_checked_at = 0;
  // When `disabled` last changed or the health was reset (wall clock, 0 = never). Several
  // gateways write the same rows: save_key_health() keeps the later decision (see store.h).
  Millis health_changed_at = 0;
};

// What an operator decided about a key (pool::KeyPolicy as stored); every field optional.
// `proxy` is a secret (it may hold a password): stored sealed like the key, never in clear.
struct KeyPolicyRow {
  int weight = 1;        // 1..100
  std::string group;     // "" = the default group; at most 64 characters
  std::int64_t rpm = 0;  // 0 = no limit
  std::int64_t tpm = 0;  // 0 = no limit
  std::string proxy;     // "" = the global upstream proxy rule
  std::string note;      // at most 500 bytes
};

// A pool key with its health. `secret` is the key exactly as it must be sent upstream.
struct Key {
  std::int64_t id = 0;  // stable for the life of the key; never reused
  std::string secret;
  Millis created_at = 0;
  KeyHealthRow health;  // health.key_id == id
  KeyPolicyRow policy;
};

// One input line of add_keys() that was refused. The secret itself is not repeated.
struct RejectedKey {
  std::size_t index = 0;  // position in the input vector
  std::string reason;
};

struct AddKeysResult {
  std::vector<std::int64_t> added_ids;  // in input order
  std::size_t duplicates = 0;           // already stored, or repeated within the input
  std::vector<RejectedKey> rejected;
  // Input positions skipped because an admin deleted that key earlier (KeyOrigin::kEnvironment
  // only). The secret itself is not repeated.
  std::vector<std::size_t> skipped_deleted;
};

// Who adds keys. The environment (API_KEYS at start) never brings back a key an admin deleted;
// the admin API adding the same key again is a deliberate act and lifts the deletion record.
enum class KeyOrigin { kAdmin, kEnvironment };

// ---- Client tokens ---------------------------------------------------------------------------

// What a client token may do (issue 14). Every limit is optional: 0 (or empty) means none.
struct TokenPolicyRow {
  std::vector<std::string> models;  // allowed model names or '*' patterns; empty = every model
  std::int64_t rpm = 0;             // requests per minute
  std::int64_t tpm = 0;             // tokens per minute
  std::int64_t daily_tokens = 0;    // tokens per UTC day
  std::int64_t monthly_tokens = 0;  // tokens per UTC calendar month
  Millis expires_at = 0;            // 0 = never
  std::string key_group;            // "" = every key
  bool enabled = true;
};

// A client token as stored: only its SHA-256 and a display prefix/suffix, never the token.
struct ClientToken {
  std::int64_t id = 0;
  std::string label;
  std::string token_sha256;  // 64 lowercase hex characters
  std::string prefix;        // first 4 characters, for display ("sk-g")
  std::string suffix;        // last 4 characters
  Millis created_at = 0;
  Millis last_used_at = 0;
  TokenPolicyRow policy = {};
};

struct NewClientToken {
  std::string label;
  std::string token_sha256;
  std::string prefix;
  std::string suffix;
  Millis created_at = 0;
  TokenPolicyRow policy = {};
};

// Requests and tokens of one client token on one UTC day (days since 1970-01-01): a delta to
// add (write-behind of the usage counters), or a stored total.
struct TokenDayUsage {
  std::int64_t token_id = 0;
  std::int64_t day = 0;
  std::int64_t requests = 0;
  std::int64_t tokens = 0;
};

// "Token `id` was used at `at_ms`" (write-behind; an older time never overwrites a newer one).
struct TokenTouch {
  std::int64_t id = 0;
  Millis at_ms = 0;
};

// ---- Settings and admin sessions -------------------------------------------------------------

// One atomic settings change: `set` writes name → JSON text; `reset` deletes names so they fall
// back to their defaults. A name may not appear in both.
struct SettingsBatch {
  std::map<std::string, std::string> set;
  std::vector<std::string> reset;
  Millis updated_at = 0;
};

// A browser admin session. Only the SHA-256 of the session id is stored.
struct AdminSession {
  std::string id_sha256;  // 64 lowercase hex characters
  Millis created_at = 0;
  Millis expires_at = 0;
};

// ---- Stored responses (the OpenAI Responses front) -------------------------------------------

// One stored response with its conversation, as the `responses` filter saved it. `data` is
// opaque JSON text to the store; the row belongs to the client token that created it.
struct StoredResponse {
  std::string id;  // "resp_…", at most kMaxStoredResponseIdLength characters
  std::int64_t token_id = -1;
  Millis created_at = 0;
  Millis expires_at = 0;
  std::string data;  // at most kMaxStoredResponseBytes
};

inline constexpr std::size_t kMaxStoredResponseIdLength = 128;
inline constexpr std::size_t kMaxStoredResponseBytes = 16u << 20;

// ---- Resource affinity (the `affinity` filter) -------------------------------------------------

// A server-side Gemini resource and the pool key that created it ("files/abc" → key 3): a
// resource exists only under the key that made it, so every later call naming it must use that
// key. Also the client token that created it (token isolation) and when it goes away.
struct ResourceOwner {
  std::string name;            // "files/abc", "cachedContents/x", "models/m/operations/o", …
  std::int64_t key_id = -1;    // the pool key that created it
  std::int64_t token_id = -1;  // the client token that created it, -1 = none (open gateway)
  std::string kind;            // "files", "cachedContents", "batches", "interactions", …
  Millis created_at = 0;
  Millis expires_at = 0;  // after it the entry is gone (and pruned)
};

inline constexpr std::size_t kMaxResourceNameLength = 512;

// ---- Request and error logs ------------------------------------------------------------------

// One proxied request. `id` is assigned by the store (ignored on append).
struct RequestLogRow {
  std::int64_t id = 0;
  Millis time_ms = 0;  // when the request arrived
  std::string route;   // the route / chain name
  std::string method;
  std::string path;   // without the query string (the store strips one defensively)
  std::string model;  // "" when the route has none
  std::optional<std::int64_t> key_id;  // the pool key used last; never the key itself
  // Keys of earlier attempts that failed before key_id answered (failover), by id; so a key's
  // own failures are found by a filter on it even when another key answered. At most 32.
  std::vector<std::int64_t> failed_key_ids;
  std::optional<std::int64_t> token_id;  // the client token, when one authenticated the call
  int status = 0;                        // HTTP status sent to the client; 0 = none (aborted)
  std::int64_t latency_ms = 0;
  int attempts = 1;
  bool stream = false;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;  // Gemini's candidatesTokenCount
  std::int64_t thoughts_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t total_tokens = 0;
  std::string error;        // short, "" on success
  std::string request_id;   // the x-request-id the client got ("" in rows stored before v4)
  std::string instance_id;  // which gateway of a group logged it ("" in rows before v7)
};

// One upstream or gateway failure worth showing to the operator.
struct ErrorLogRow {
  std::int64_t id = 0;
  Millis time_ms = 0;
  std::optional<std::int64_t> key_id;
  std::string model;
  int status = 0;
  std::string kind;     // "quota", "key_invalid", "upstream_5xx", "timeout", "connect", ...
  std::string message;  // short and already redacted; the store redacts again
  std::string route;
  std::string instance_id;  // which gateway of a group logged it ("" in rows before v7)
};

// Which log rows a query or delete applies to. Unset fields match everything, so an empty
// filter means "all rows". Time range is [from_ms, to_ms).
struct LogFilter {
  std::optional<Millis> from_ms;
  std::optional<Millis> to_ms;
  std::optional<std::int64_t> key_id;
  std::optional<std::string> model;
  std::optional<int> status;               // exact HTTP status
  std::optional<int> status_class;         // 1..5: 4 matches 400..499
  std::optional<std::string> instance_id;  // rows logged by this gateway of the group
};

struct ErrorLogFilter : LogFilter {
  std::optional<std::string> kind;
};

inline constexpr int kMaxPerPage = 500;

// 1-based page number. Out-of-range values are clamped: page >= 1, 1 <= per_page <= kMaxPerPage.
struct PageRequest {
  int page = 1;
  int per_page = 50;
};

// One page of a newest-first listing plus the number of rows matching the filter.
template <class Row>
struct LogPage {
  std::vector<Row> items;
  std::int64_t total = 0;
  int page = 1;
  int per_page = 50;
};

// ---- Usage statistics ------------------------------------------------------------------------

// Counts over some set of requests. A failure is a status >= 400 or 0 (no response).
struct UsageTotals {
  std::int64_t requests = 0;
  std::int64_t failures = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
};

struct KeyUsage {
  std::int64_t key_id = 0;
  UsageTotals usage;
};

struct ModelUsage {
  std::string model;
  UsageTotals usage;
};

struct UsageBucket {
  Millis start_ms = 0;  // bucket covers [start_ms, start_ms + bucket_ms)
  UsageTotals usage;
};

// The dashboard window [now_ms - window_ms, now_ms). The store picks a round bucket width
// (1 s, 1 min, 1 h, 12 h, ...) giving at most max_buckets buckets across the window, aligned to
// multiples of the width since the epoch, so the series has max_buckets + 1 points at most.
// Windows longer than two hours use whole-hour buckets (see the README).
struct StatsQuery {
  Millis now_ms = 0;
  Millis window_ms = 3'600'000;
  int max_buckets = 60;
};

struct UsageStats {
  // The window asked for. Figures are read from rollups only, so the start is rounded down to
  // their resolution: 1 s (windows up to two hours; per key 1 min) or 1 h (longer windows).
  // The end is taken to be "now": rows logged after now_ms (which the gateway never has) would
  // be counted in the current hour or day.
  Millis from_ms = 0;
  Millis to_ms = 0;
  Millis bucket_ms = 0;
  UsageTotals totals;
  std::vector<KeyUsage> by_key;      // requests with a key only; most requests first
  std::vector<ModelUsage> by_model;  // requests naming a model only; most requests first
  std::vector<UsageBucket> series;   // dense, oldest first; counts only rows inside the
                                     // window (so the first bucket may be partial); sums to
                                     // `totals`
  // Requests refused before authentication (no valid client token) in the window, to the
  // minute. They are counted, not logged, and are not part of `totals`.
  std::int64_t refused = 0;
};

// `requests` refused before authentication during the minute starting at minute_ms.
struct RefusedCount {
  Millis minute_ms = 0;
  std::int64_t requests = 0;
};

}  // namespace gemgate::storage
