// Logging: one line per event to stderr, level-filtered, thread-safe. Every line passes through
// redact() at the sink, so a secret that slips into a message (an API key, a bearer token, a
// `key=` query parameter) is masked no matter which call site wrote it. What an upstream's keys
// look like is not known here: the composition root registers those shapes at start.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gemgate::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Sets the lowest level that is written. Thread-safe.
void set_level(Level level);
// Parses "debug|info|warn|error"; returns false (level untouched) for anything else.
bool parse_level(std::string_view text, Level* level);
// Returns true when a line at `level` would be written.
bool enabled(Level level);

// How lines are written: `text` (`<time> <LEVEL> <message> [name=value ...]`) or `json` (one
// object per line: "ts", "level", "msg", then the line's fields; see README "Observe").
enum class Format { kText = 0, kJson = 1 };
// Sets the format of every later line. Thread-safe.
void set_format(Format format);
Format format();
// Parses "text|json"; returns false (format untouched) for anything else.
bool parse_format(std::string_view text, Format* format);

// One named value of a structured line (the access line, a key event). Views only: the caller
// keeps the text alive for the call. Text values are redacted like the message.
struct Field {
  enum class Kind { kText, kNumber, kBool, kSecret };
  std::string_view name;
  Kind kind = Kind::kText;
  std::string_view text;
  int64_t number = 0;

  static Field str(std::string_view name, std::string_view value) {
    return {name, Kind::kText, value, 0};
  }
  static Field num(std::string_view name, int64_t value) {
    return {name, Kind::kNumber, {}, value};
  }
  static Field flag(std::string_view name, bool value) {
    return {name, Kind::kBool, {}, value ? 1 : 0};
  }
  // A secret shown only as its mask (text::mask: "AIza…x7Qc"): the writer masks it, so the
  // value itself never reaches the line.
  static Field masked(std::string_view name, std::string_view secret) {
    return {name, Kind::kSecret, secret, 0};
  }
};

// Formats Unix milliseconds as RFC 3339 in UTC with milliseconds ("2026-12-06T22:35:56.123Z").
std::string utc_time(int64_t unix_ms);
// Appends utc_time(unix_ms) to `out` (no string of its own). Thread-safe.
void append_utc_time(std::string& out, int64_t unix_ms);

// Writes one line `<time> <LEVEL> <message>` after redaction. Thread-safe.
void write(Level level, std::string_view message);

// Writes one line with fields after redaction: in text format `<message> name=value ...` (a
// value with spaces, quotes or control characters is written JSON-quoted), in json format the
// fields become members of the line's object. Names must be plain identifiers and must not be
// "ts", "level" or "msg". Thread-safe.
void write_fields(Level level, std::string_view message, std::span<const Field> fields);

// Writes one line `<time> <LEVEL> <line>` whose every part the caller has already passed
// through redact() / redact_append() (or built from values it produced itself: numbers, a peer
// address): the line is not scanned again. For a hot line assembled from redacted pieces (the
// access line), where a second pass over the whole would only re-read them. Thread-safe.
void write_redacted(Level level, std::string_view line);

// Writes a line that must reach the operator verbatim (e.g. a freshly generated admin token
// shown once). Bypasses redaction; use only for values the operator must see.
void write_unredacted(Level level, std::string_view message);

// Masks secrets inside free text: every registered secret wherever it occurs (as a substring,
// whatever surrounds it), and words that look like secrets — the values of HTTP's generic labels
// (`key=`, `token=`, `api_key=`, `apiKey=`, `auth_token=`, `session=`, `Bearer <token>`), words
// starting with a registered secret prefix, and the word after a registered secret label. Each
// is replaced by mask(). Thread-safe; one hash lookup per byte however many secrets are
// registered.
std::string redact(std::string_view text);

// Like redact(text), and also masks every occurrence of each value in `also` that is at least
// as long as a registrable secret (e.g. the credential one request presented, right or wrong).
std::string redact(std::string_view text, std::span<const std::string_view> also);

// redact(text, also) appended to `out` (no string of its own). Thread-safe.
void redact_append(std::string& out, std::string_view text, std::span<const std::string_view> also);

// Masks one known secret for display with gemgate's one masking rule (text::mask): first four
// and last four characters ("sk-a…x7Qc"), or "…" alone when shorter than 12.
std::string mask(std::string_view secret);

// Registers an exact secret (pool key, token, admin token, cron secret, database password) so any
// later line or stored log text containing it is masked. Values shorter than 6 characters are
// ignored (they would mask ordinary words). Cheap to call repeatedly with the same value.
void register_secret(std::string_view secret);
// Forgets a previously registered secret (e.g. a deleted key).
void forget_secret(std::string_view secret);

// Teaches redact() a shape of secret words: every word starting with `prefix` (ASCII
// case-insensitive; e.g. the fixed prefix of one provider's API keys) is masked whole. Meant for
// the composition root at start, before lines that could carry such a word; thread-safe, and
// registering a prefix again changes nothing. An empty prefix is ignored (it would mask every
// word).
void register_secret_prefix(std::string_view prefix);

// Teaches redact() a label whose next word is a secret: after any word starting with `label`
// (ASCII case-insensitive; e.g. the header one provider's keys travel in, "<label>: <value>"),
// the following word is masked. Same rules as register_secret_prefix.
void register_secret_label(std::string_view label);

// Rate limit for a line that an outsider can trigger at will (one per refused request): at most
// one line per key (a client address) per interval, the ones in between only counted and reported
// by the next line written for that key. Memory is bounded: beyond `max_keys` keys, new ones share
// a single catch-all entry.
class LineLimiter {
 public:
  LineLimiter(int64_t interval_ms, size_t max_keys)
      : interval_ms_(interval_ms), max_keys_(max_keys) {}

  // Returns -1 when the line for `key` must be suppressed now (it is counted), else how many were
  // suppressed for that key since its last line (0 or more); the caller then writes its line with
  // that count. Thread-safe.
  int64_t admit(const std::string& key, int64_t now_ms);

 private:
  struct Entry {
    int64_t last_ms = 0;
    int64_t suppressed = 0;
  };
  std::mutex mu_;
  int64_t interval_ms_;
  size_t max_keys_;
  std::unordered_map<std::string, Entry> entries_;
};

inline void debug(std::string_view m) {
  if (enabled(Level::kDebug)) write(Level::kDebug, m);
}
inline void info(std::string_view m) {
  write(Level::kInfo, m);
}
inline void warn(std::string_view m) {
  write(Level::kWarn, m);
}
inline void error(std::string_view m) {
  write(Level::kError, m);
}

}  // namespace gemgate::log
