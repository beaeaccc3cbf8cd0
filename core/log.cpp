#include "core/log.h"

#include <algorithm>
#include <atomic>
#include <bitset>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/text.h"

namespace gemgate::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kText)};
std::mutex g_write_mu;

// Secrets shorter than this are not registered: they would mask ordinary words, and carry too
// little entropy to be worth hiding.
constexpr size_t kMinSecret = 6;

// The first kMinSecret bytes of `s` as one number: the index key of a secret, so finding every
// registered secret anywhere in a line costs one hash lookup per byte of the line, however many
// secrets there are.
uint64_t head_of(std::string_view s) {
  uint64_t h = 0;
  for (size_t i = 0; i < kMinSecret; ++i) h = (h << 8) | static_cast<unsigned char>(s[i]);
  return h;
}

// The first two bytes of `s` as one number (0..65535).
size_t pair_of(std::string_view s) {
  return (static_cast<size_t>(static_cast<unsigned char>(s[0])) << 8) |
         static_cast<unsigned char>(s[1]);
}

struct SecretSet {
  std::shared_mutex mu;
  // head_of(secret) → the secrets starting that way, longest first (the longest match wins).
  std::unordered_map<uint64_t, std::vector<std::string>> by_head;
  // One bit per pair_of() value that some registered secret starts with: most positions of a
  // line start no secret, and this bit test, not a hash lookup, is all they then cost. A set
  // bit is only a hint; by_head decides. Kept in step with by_head under `mu`.
  std::vector<uint64_t> pairs = std::vector<uint64_t>(65536 / 64, 0);
  bool may_start_secret(std::string_view rest) const {
    const size_t p = pair_of(rest);
    return (pairs[p / 64] >> (p % 64)) & 1;
  }
  void rebuild_pairs() {
    std::fill(pairs.begin(), pairs.end(), 0);
    for (const auto& [head, list] : by_head) {
      for (const std::string& s : list) {
        const size_t p = pair_of(s);
        pairs[p / 64] |= uint64_t{1} << (p % 64);
      }
    }
  }
  // Shapes registered by the composition root (a provider's key prefix, its key header): a
  // handful at most, so a scan per word costs nothing next to the per-byte hash lookup.
  std::vector<std::string> word_prefixes;
  std::vector<std::string> labels;
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

// A match of a known secret in the text being redacted: [begin, begin + size).
struct Match {
  size_t begin;
  size_t size;
};

// The longest known secret (registered, or one of `also`) starting at `at`, if any.
std::optional<Match> secret_at(const SecretSet& set, std::string_view text, size_t at,
                               std::span<const std::string_view> also) {
  size_t best = 0;
  std::string_view rest = text.substr(at);
  if (rest.size() >= kMinSecret && set.may_start_secret(rest)) {
    auto it = set.by_head.find(head_of(rest));
    if (it != set.by_head.end()) {
      for (const std::string& s : it->second) {
        if (rest.substr(0, s.size()) == s) {
          best = s.size();
          break;
        }
      }
    }
  }
  for (std::string_view s : also) {
    if (s.size() >= kMinSecret && s.size() > best && s[0] == rest[0] &&
        rest.substr(0, s.size()) == s) {
      best = s.size();
    }
  }
  if (best == 0) return std::nullopt;
  return Match{at, best};
}

// True when `word` starts with one of `prefixes`, ASCII case-insensitive.
bool starts_with_any_ci(std::string_view word, const std::vector<std::string>& prefixes) {
  for (const std::string& p : prefixes) {
    if (text::istarts_with(word, p)) return true;
  }
  return false;
}

// The heuristic pass over text without known secrets: masks words that look like secrets
// (words with a registered prefix, the values of key=/token=/... labels, the word after "Bearer"
// or a registered label). `mask_next` carries the label state across calls.
void redact_words(const SecretSet& set, std::string_view text, std::string& out, bool& mask_next) {
  size_t i = 0;
  while (i < text.size()) {
    if (!is_secret_char(text[i])) {  // a run of separators goes out in one append
      size_t j = i + 1;
      while (j < text.size() && !is_secret_char(text[j])) ++j;
      out.append(text, i, j - i);
      i = j;
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
        out.append(text::mask(word.substr(eq + 1)));
        i = j;
        mask_next = false;
        continue;
      }
    }
    if (mask_next || starts_with_any_ci(word, set.word_prefixes)) {
      out.append(text::mask(word));
    } else {
      out.append(word);
    }
    // "Bearer" is HTTP's own (RFC 6750); the other labels come from the composition root.
    mask_next = (word == "Bearer" || word == "bearer" || starts_with_any_ci(word, set.labels));
    i = j;
  }
}

// Appends the line's time stamp to `out`.
void append_time_stamp(std::string& out) {
  using namespace std::chrono;
  append_utc_time(out, duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// Lower-case level names for JSON ("info"), as log shippers expect.
const char* level_key(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "?";
}

// True when a text-format value must be quoted to stay one readable token.
bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

// Renders a line: `message` and `fields` are already redacted.
std::string render(Level level, std::string_view message, std::span<const Field> fields) {
  std::string out;
  out.reserve(64 + message.size() + fields.size() * 24);
  if (format() == Format::kJson) {
    out += "{\"ts\":\"";
    append_time_stamp(out);
    out += "\",\"level\":\"";
    out += level_key(level);
    out += "\",\"msg\":";
    out += json_quote_utf8(message);
    for (const Field& f : fields) {
      out += ",\"";
      out += f.name;
      out += "\":";
      switch (f.kind) {
        case Field::Kind::kText:
        case Field::Kind::kSecret:  // masked by write_fields before it gets here
          out += json_quote_utf8(f.text);
          break;
        case Field::Kind::kNumber:
          out += std::to_string(f.number);
          break;
        case Field::Kind::kBool:
          out += f.number ? "true" : "false";
          break;
      }
    }
    out += '}';
    return out;
  }
  char head[16];
  std::snprintf(head, sizeof head, " %-5s ", level_name(level));
  append_time_stamp(out);
  out += head;
  out += message;
  for (const Field& f : fields) {
    out += ' ';
    out += f.name;
    out += '=';
    switch (f.kind) {
      case Field::Kind::kText:
      case Field::Kind::kSecret:
        out += needs_quotes(f.text) ? json_quote_utf8(f.text) : std::string(f.text);
        break;
      case Field::Kind::kNumber:
        out += std::to_string(f.number);
        break;
      case Field::Kind::kBool:
        out += f.number ? "true" : "false";
        break;
    }
  }
  return out;
}

// One write per line: stderr is unbuffered, so the newline goes in the same buffer (a separate
// fputc was a second write system call per line). Nothing is held back: a line is out when
// this returns, whatever happens to the process next.
void emit_line(std::string line) {
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_write_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void emit(Level level, std::string_view message) {
  emit_line(render(level, message, {}));
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

std::string utc_time(int64_t unix_ms) {
  std::string out;
  append_utc_time(out, unix_ms);
  return out;
}

void append_utc_time(std::string& out, int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  int ms = static_cast<int>(unix_ms % 1000);
  // Lines come many to a second: the date and time up to the second are formatted once per
  // second and thread, the milliseconds appended (the same bytes as the full format below).
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  thread_local size_t cached_size = 0;
  if (ms >= 0 && t >= 0) {
    if (t != cached_second) {
      std::tm tm{};
      gmtime_r(&t, &tm);
      int n =
          std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
      if (n <= 0 || static_cast<size_t>(n) >= sizeof cached) n = 0;
      cached_size = static_cast<size_t>(n);
      cached_second = n > 0 ? t : -1;
    }
    if (cached_size > 0) {
      out.append(cached, cached_size);
      out += static_cast<char>('0' + ms / 100);
      out += static_cast<char>('0' + ms / 10 % 10);
      out += static_cast<char>('0' + ms % 10);
      out += 'Z';
      return;
    }
  }
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  out += stamp;
}

void set_format(Format format) {
  g_format.store(static_cast<int>(format));
}

Format format() {
  return static_cast<Format>(g_format.load(std::memory_order_relaxed));
}

bool parse_format(std::string_view text, Format* format) {
  if (text == "text")
    *format = Format::kText;
  else if (text == "json")
    *format = Format::kJson;
  else
    return false;
  return true;
}

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  emit(level, redact(message));
}

void write_fields(Level level, std::string_view message, std::span<const Field> fields) {
  if (!enabled(level)) return;
  std::vector<std::string> redacted;
  redacted.reserve(fields.size());
  std::vector<Field> safe(fields.begin(), fields.end());
  for (Field& f : safe) {
    if (f.kind == Field::Kind::kSecret) {
      redacted.push_back(text::mask(f.text));
    } else if (f.kind == Field::Kind::kText) {
      redacted.push_back(redact(f.text));
    } else {
      continue;
    }
    f.kind = Field::Kind::kText;
    f.text = redacted.back();  // reserve() above: no reallocation moves the text
  }
  emit_line(render(level, redact(message), safe));
}

void write_redacted(Level level, std::string_view line) {
  if (!enabled(level)) return;
  emit(level, line);
}

void write_unredacted(Level level, std::string_view message) {
  if (!enabled(level)) return;
  emit(level, message);
}

std::string redact(std::string_view text) {
  return redact(text, {});
}

std::string redact(std::string_view text, std::span<const std::string_view> also) {
  std::string out;
  redact_append(out, text, also);
  return out;
}

void redact_append(std::string& out, std::string_view text,
                   std::span<const std::string_view> also) {
  if (out.capacity() < out.size() + text.size()) {
    out.reserve(std::max(out.size() + text.size(), 2 * out.capacity()));
  }
  SecretSet& set = secrets();
  std::shared_lock<std::shared_mutex> lock(set.mu);
  // Known secrets are matched as substrings anywhere ("/admin/<token>", "x=<key>", a password
  // inside a URL), whatever characters surround them; the text between matches then goes
  // through the heuristics.
  bool mask_next = false;
  size_t plain = 0;  // start of the text not yet written
  size_t i = 0;
  // The first bytes of the `also` values long enough to count: a position starting with none
  // of them, and with no registered secret's first two bytes, starts no secret.
  std::bitset<256> also_first;
  for (std::string_view s : also) {
    if (s.size() >= kMinSecret) also_first.set(static_cast<unsigned char>(s[0]));
  }
  // Every secret is at least kMinSecret long: none starts in the last kMinSecret - 1 bytes.
  while (i + kMinSecret <= text.size()) {
    if (!set.may_start_secret(text.substr(i)) &&
        !also_first.test(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    std::optional<Match> m = secret_at(set, text, i, also);
    if (!m) {
      ++i;
      continue;
    }
    // A secret may start inside this one and run past its end: the masked span is the union
    // of every match overlapping it, so no part of a later secret is left readable.
    size_t end = m->begin + m->size;
    for (size_t j = m->begin + 1; j < end && j + kMinSecret <= text.size(); ++j) {
      if (!set.may_start_secret(text.substr(j)) &&
          !also_first.test(static_cast<unsigned char>(text[j]))) {
        continue;
      }
      if (std::optional<Match> inner = secret_at(set, text, j, also)) {
        end = std::max(end, inner->begin + inner->size);
      }
    }
    redact_words(set, text.substr(plain, i - plain), out, mask_next);
    out.append(text::mask(text.substr(m->begin, end - m->begin)));
    mask_next = false;
    i = plain = end;
  }
  redact_words(set, text.substr(plain), out, mask_next);
}

std::string mask(std::string_view secret) {
  return text::mask(secret);
}

void register_secret(std::string_view secret) {
  if (secret.size() < kMinSecret) return;  // too short to be a real secret
  SecretSet& set = secrets();
  std::unique_lock<std::shared_mutex> lock(set.mu);
  std::vector<std::string>& same_head = set.by_head[head_of(secret)];
  for (const std::string& s : same_head) {
    if (s == secret) return;
  }
  // Longest first, so the first match found at a position is the longest.
  auto at = std::find_if(same_head.begin(), same_head.end(),
                         [&](const std::string& s) { return s.size() < secret.size(); });
  same_head.emplace(at, secret);
  const size_t p = pair_of(secret);
  set.pairs[p / 64] |= uint64_t{1} << (p % 64);
}

void forget_secret(std::string_view secret) {
  if (secret.size() < kMinSecret) return;
  SecretSet& set = secrets();
  std::unique_lock<std::shared_mutex> lock(set.mu);
  auto it = set.by_head.find(head_of(secret));
  if (it == set.by_head.end()) return;
  std::erase(it->second, std::string(secret));
  if (it->second.empty()) set.by_head.erase(it);
  set.rebuild_pairs();  // another secret may share the pair: recount them all (rare)
}

namespace {

// Adds `shape` to one of the SecretSet's shape lists, once.
void add_shape(std::vector<std::string> SecretSet::*list, std::string_view shape) {
  if (shape.empty()) return;
  SecretSet& set = secrets();
  std::unique_lock<std::shared_mutex> lock(set.mu);
  std::vector<std::string>& shapes = set.*list;
  if (std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) shapes.emplace_back(shape);
}

}  // namespace

void register_secret_prefix(std::string_view prefix) {
  add_shape(&SecretSet::word_prefixes, prefix);
}

void register_secret_label(std::string_view label) {
  add_shape(&SecretSet::labels, label);
}

int64_t LineLimiter::admit(const std::string& key, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) {
      // Forget keys quiet for a whole interval (their counts were reported or are stale); if
      // every key is still busy, fold the newcomer into the catch-all entry "*".
      std::erase_if(entries_,
                    [&](const auto& e) { return now_ms - e.second.last_ms >= interval_ms_; });
    }
    std::string slot = entries_.size() >= max_keys_ ? std::string("*") : key;
    it = entries_.try_emplace(slot).first;
    if (it->second.last_ms == 0) {
      it->second.last_ms = now_ms;
      return 0;
    }
  }
  Entry& e = it->second;
  if (now_ms - e.last_ms < interval_ms_) {
    ++e.suppressed;
    return -1;
  }
  int64_t count = e.suppressed;
  e.last_ms = now_ms;
  e.suppressed = 0;
  return count;
}

}  // namespace gemgate::log
