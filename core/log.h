// Logging: one line per event to stderr, level-filtered, thread-safe. Every line passes through
// redact() at the sink, so a secret that slips into a message (a Gemini key, a bearer token, a
// `key=` query parameter) is masked no matter which call site wrote it.
#pragma once

#include <string>
#include <string_view>

namespace gemgate::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Sets the lowest level that is written. Thread-safe.
void set_level(Level level);
// Parses "debug|info|warn|error"; returns false (level untouched) for anything else.
bool parse_level(std::string_view text, Level* level);
// Returns true when a line at `level` would be written.
bool enabled(Level level);

// Writes one line `<time> <LEVEL> <message>` after redaction. Thread-safe.
void write(Level level, std::string_view message);

// Writes a line that must reach the operator verbatim (e.g. a freshly generated admin token
// shown once). Bypasses redaction; use only for values the operator must see.
void write_unredacted(Level level, std::string_view message);

// Masks secrets inside free text: Google API keys (AIza...), `key=` / `token=` query values,
// `Bearer <token>` and `x-goog-api-key: <value>`. Each becomes its first 4 characters + "…".
std::string redact(std::string_view text);

// Masks one known secret for display: first four and last four characters ("AIza…x7Qc"), or
// "…" alone when the value is too short to show any of it safely.
std::string mask(std::string_view secret);

// Registers an exact secret (pool key, token) so any later line containing it is masked too.
// Cheap to call repeatedly with the same value.
void register_secret(std::string_view secret);
// Forgets a previously registered secret (e.g. a deleted key).
void forget_secret(std::string_view secret);

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
