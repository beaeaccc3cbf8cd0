#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_set>

namespace gemgate::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_write_mu;

struct SecretSet {
  std::shared_mutex mu;
  std::unordered_set<std::string> values;
};
SecretSet& secrets() {
  static SecretSet s;
  return s;
}

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarn:
      return "WARN";
    case Level::kError:
      return "ERROR";
  }
  return "?";
}

// Characters that may appear inside a key or token. Anything else ends a word.
bool is_secret_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '=';
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string masked_word(std::string_view word) {
  if (word.size() <= 8) return "…";
  return std::string(word.substr(0, 4)) + "…";
}

void emit(Level level, std::string_view line) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  int ms = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  std::lock_guard<std::mutex> lock(g_write_mu);
  std::fprintf(stderr, "%s %-5s %.*s\n", stamp, level_name(level), static_cast<int>(line.size()),
               line.data());
  std::fflush(stderr);
}

}  // namespace

void set_level(Level level) {
  g_level.store(static_cast<int>(level));
}

bool parse_level(std::string_view text, Level* level) {
  if (text == "debug")
    *level = Level::kDebug;
  else if (text == "info")
    *level = Level::kInfo;
  else if (text == "warn" || text == "warning")
    *level = Level::kWarn;
  else if (text == "error")
    *level = Level::kError;
  else
    return false;
  return true;
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load();
}

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  emit(level, redact(message));
}

void write_unredacted(Level level, std::string_view message) {
  if (!enabled(level)) return;
  emit(level, message);
}

std::string redact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  SecretSet& set = secrets();
  std::shared_lock<std::shared_mutex> lock(set.mu);
  // mask_next: the previous word was a label whose value is secret ("Bearer", "key=", ...).
  bool mask_next = false;
  size_t i = 0;
  while (i < text.size()) {
    if (!is_secret_char(text[i])) {
      out.push_back(text[i]);
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && is_secret_char(text[j])) ++j;
    std::string_view word = text.substr(i, j - i);
    // A word like "key=VALUE" carries its label inline.
    size_t eq = word.find('=');
    if (eq != std::string_view::npos && eq + 1 < word.size()) {
      std::string_view label = word.substr(0, eq);
      if (label == "key" || label == "token" || label == "api_key" || label == "apiKey" ||
          label == "auth_token" || label == "session") {
        out.append(word.substr(0, eq + 1));
        out.append(masked_word(word.substr(eq + 1)));
        i = j;
        mask_next = false;
        continue;
      }
    }
    if (mask_next || starts_with_ci(word, "AIza") || set.values.count(std::string(word))) {
      out.append(masked_word(word));
    } else {
      out.append(word);
    }
    mask_next = (word == "Bearer" || word == "bearer" || starts_with_ci(word, "x-goog-api-key"));
    i = j;
  }
  return out;
}

std::string mask(std::string_view secret) {
  if (secret.size() < 12) return "…";
  return std::string(secret.substr(0, 4)) + "…" + std::string(secret.substr(secret.size() - 4));
}

void register_secret(std::string_view secret) {
  if (secret.size() < 6) return;  // too short to be a real secret; would mask ordinary words
  SecretSet& set = secrets();
  std::unique_lock<std::shared_mutex> lock(set.mu);
  set.values.emplace(secret);
}

void forget_secret(std::string_view secret) {
  SecretSet& set = secrets();
  std::unique_lock<std::shared_mutex> lock(set.mu);
  set.values.erase(std::string(secret));
}

}  // namespace gemgate::log
