// Input checks and clean-ups every Store backend applies before writing, so SQLite and (later)
// PostgreSQL accept and refuse exactly the same things.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/types.h"

namespace gemgate::storage {

inline constexpr std::size_t kMaxKeyLength = 256;
inline constexpr std::size_t kMaxLabelLength = 200;
inline constexpr std::size_t kMaxSettingNameLength = 128;
inline constexpr std::size_t kMaxDisplayAffix = 16;  // token prefix / suffix shown to admins
// Caps on free text stored with every row, so one bad upstream cannot bloat the database.
inline constexpr std::size_t kMaxShortText = 200;  // model, route, method, kind, reasons
inline constexpr std::size_t kMaxPathText = 1024;
inline constexpr std::size_t kMaxErrorText = 2000;  // last_error, log error, error message

// Returns `s` without leading and trailing ASCII whitespace.
std::string_view trim_ascii(std::string_view s);

// Validates a pool key after trimming it. Returns the trimmed key, or kInvalidArgument whose
// message is the reason (never the key): empty, too long, whitespace, non-printable/non-ASCII.
Result<std::string> normalize_key_secret(std::string_view raw);

// True when `s` is exactly 64 lowercase hexadecimal characters.
bool is_sha256_hex(std::string_view s);

// Setting names: 1..128 characters of [A-Za-z0-9_.-]. Returns kInvalidArgument otherwise.
Result<void> check_setting_name(std::string_view name);

// Cuts `s` to at most `max_bytes` without splitting a UTF-8 sequence.
std::string clip_utf8(std::string_view s, std::size_t max_bytes);

// Free text that may echo upstream data: passed through log::redact() (a second line of defence
// against a key in an error message) and clipped to `max_bytes`.
std::string safe_text(std::string_view s, std::size_t max_bytes);

// The path without any query string or fragment (a `?key=` must never be stored).
std::string strip_query(std::string_view path);

// Parses an admin status filter into `filter`: "429" sets status, "4xx"/"5XX" sets
// status_class, "" leaves both unset. kInvalidArgument for anything else.
Result<void> parse_status_filter(std::string_view text, LogFilter& filter);

// Bounds of a token policy (TokenPolicyRow).
inline constexpr std::size_t kMaxTokenModels = 100;
inline constexpr std::size_t kMaxModelPatternLength = 128;
inline constexpr std::size_t kMaxKeyGroupLength = 64;
inline constexpr std::int64_t kMaxTokenLimit = 1'000'000'000'000'000;  // 1e15

// What is wrong with a token policy: the field ("models", "rpm", ...) and why.
struct PolicyProblem {
  std::string field;
  std::string message;
};

// Returns the first problem of `policy`, or nullopt when it is valid: models are 1..128
// characters of [A-Za-z0-9._-] and '*' (at most 100 of them), limits and expires_at are
// 0..1e15, key_group is at most 64 characters of [A-Za-z0-9._-].
std::optional<PolicyProblem> token_policy_problem(const TokenPolicyRow& policy);

// A token's allowed models as stored by both stores: comma separated (a model name or pattern
// cannot hold a comma, see is_model_name), "" for no restriction; split_token_models reads it
// back, skipping empty items.
std::string join_token_models(const std::vector<std::string>& models);
std::vector<std::string> split_token_models(const std::string& text);

// True when `s` is a valid model name, or a pattern when `pattern` ('*' allowed).
bool is_model_name(std::string_view s, bool pattern);

// Clamps page >= 1 and 1 <= per_page <= kMaxPerPage.
PageRequest clamp_page(PageRequest page);

// A request log row as every store keeps it: texts clipped (error redacted), no query string in
// the path, status in 0..999, no negative counters, failed keys sorted, unique, at most
// kMaxFailedKeys.
inline constexpr std::size_t kMaxFailedKeys = 32;  // max_retries is at most 20
RequestLogRow clean_request_log_row(const RequestLogRow& in);
// True when clean_request_log_row(row) would return `row` unchanged, decided without copying:
// the common row (no error text, short fields, no query string) is stored as it comes. May say
// false for a row that is in fact clean (any error text counts as needing cleaning).
bool is_clean_request_log_row(const RequestLogRow& row);
// An error log row as every store keeps it: texts clipped, the message redacted.
ErrorLogRow clean_error_log_row(const ErrorLogRow& in);

}  // namespace gemgate::storage
