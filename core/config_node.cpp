#include "core/config_node.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace gemgate {

void ConfigErrors::add(const Mark& at, std::string message) {
  if (!at.env.empty()) {
    bool several = at.env.find(',') != std::string::npos;
    message += std::string(" (the value came from environment variable") + (several ? "s " : " ") +
               at.env + ")";
  }
  errors_.push_back(ConfigError{at, std::move(message)});
}

std::vector<std::string> ConfigErrors::lines() const {
  std::vector<std::string> out;
  out.reserve(errors_.size());
  for (const ConfigError& e : errors_) {
    std::string line = e.at.file.empty() ? std::string("<config>") : e.at.file;
    line += ":" + std::to_string(e.at.line) + ":" + std::to_string(e.at.column) + ": " + e.message;
    out.push_back(std::move(line));
  }
  return out;
}

ConfigNode ConfigNode::scalar(std::string value, Mark mark) {
  ConfigNode n;
  n.kind_ = Kind::kScalar;
  n.scalar_ = std::move(value);
  n.mark_ = std::move(mark);
  return n;
}

ConfigNode ConfigNode::sequence(Mark mark) {
  ConfigNode n;
  n.kind_ = Kind::kSequence;
  n.mark_ = std::move(mark);
  return n;
}

ConfigNode ConfigNode::map(Mark mark) {
  ConfigNode n;
  n.kind_ = Kind::kMap;
  n.mark_ = std::move(mark);
  return n;
}

ConfigNode ConfigNode::null_at(Mark mark) {
  ConfigNode n;
  n.mark_ = std::move(mark);
  return n;
}

const ConfigNode* ConfigNode::get(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

namespace config {

namespace {

bool parse_int64(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

const ConfigNode* scalar_at(const ConfigNode& node, std::string_view key, ConfigErrors& errors,
                            bool* failed) {
  *failed = false;
  const ConfigNode* v = node.get(key);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_scalar()) {
    errors.add(v->mark(), "'" + std::string(key) + "' must be a single value");
    *failed = true;
    return nullptr;
  }
  return v;
}

}  // namespace

bool parse_config_duration_ms(std::string_view text, int64_t* out_ms) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return false;
  int64_t n = 0;
  if (!parse_int64(text.substr(0, i), &n)) return false;
  std::string_view unit = text.substr(i);
  int64_t mul = 0;
  if (unit.empty() || unit == "s")
    mul = 1000;
  else if (unit == "ms")
    mul = 1;
  else if (unit == "m" || unit == "min")
    mul = 60'000;
  else if (unit == "h")
    mul = 3'600'000;
  else if (unit == "d")
    mul = 86'400'000;
  else
    return false;
  if (n > INT64_MAX / mul) return false;
  *out_ms = n * mul;
  return true;
}

bool parse_size(std::string_view text, int64_t* out_bytes) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return false;
  int64_t n = 0;
  if (!parse_int64(text.substr(0, i), &n)) return false;
  std::string_view unit = text.substr(i);
  int64_t mul = 0;
  if (unit.empty() || unit == "B")
    mul = 1;
  else if (unit == "KiB" || unit == "KB" || unit == "K" || unit == "k")
    mul = 1024;
  else if (unit == "MiB" || unit == "MB" || unit == "M")
    mul = 1024 * 1024;
  else if (unit == "GiB" || unit == "GB" || unit == "G")
    mul = 1024LL * 1024 * 1024;
  else
    return false;
  if (n > INT64_MAX / mul) return false;
  *out_bytes = n * mul;
  return true;
}

namespace {

// Edit distance between a and b, case ignored: insertions, deletions, substitutions and swaps
// of two neighbours ("frist" is one edit from "first"), each counting one.
size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [&](size_t i, size_t j) {
    return std::tolower(static_cast<unsigned char>(a[i])) ==
           std::tolower(static_cast<unsigned char>(b[j]));
  };
  const size_t w = b.size() + 1;
  std::vector<size_t> d((a.size() + 1) * w);
  for (size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t v = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1,
                           d[(i - 1) * w + j - 1] + (same(i - 1, j - 1) ? 0 : 1)});
      if (i > 1 && j > 1 && same(i - 1, j - 2) && same(i - 2, j - 1)) {
        v = std::min(v, d[(i - 2) * w + j - 2] + 1);
      }
      d[i * w + j] = v;
    }
  }
  return d[a.size() * w + b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, std::span<const std::string_view> candidates) {
  // A third of the word's length, at least 1 and at most 3 edits: "head_timout" finds
  // "head_timeout", but "x" does not find every one-letter key.
  if (word.size() < 3) return "";
  size_t budget = std::clamp<size_t>(word.size() / 3, 1, 3);
  std::string_view best;
  size_t best_distance = budget + 1;
  for (std::string_view c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return std::string(best);
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  std::string near = closest_match(word, candidates);
  return near.empty() ? std::string() : " (did you mean '" + near + "'?)";
}

bool expect_keys(const ConfigNode& node, std::span<const std::string_view> allowed,
                 ConfigErrors& errors) {
  if (node.is_null()) return true;
  if (!node.is_map()) {
    errors.add(node.mark(), "expected a map of settings");
    return false;
  }
  bool ok = true;
  for (const auto& [k, v] : node.entries()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == k;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      std::string hint = did_you_mean(k, allowed);
      errors.add(v.mark(), "unknown key '" + k + "'" +
                               (!hint.empty()  ? hint
                                : list.empty() ? " (nothing is configurable here)"
                                               : " (expected one of: " + list + ")"));
      ok = false;
    }
  }
  return ok;
}

bool read_bool(const ConfigNode& node, std::string_view key, bool* out, ConfigErrors& errors) {
  bool failed;
  const ConfigNode* v = scalar_at(node, key, errors, &failed);
  if (!v) return !failed;
  const std::string& t = v->text();
  if (t == "true" || t == "yes" || t == "on")
    *out = true;
  else if (t == "false" || t == "no" || t == "off")
    *out = false;
  else {
    errors.add(v->mark(), "'" + std::string(key) + "' must be true or false, got '" + t + "'");
    return false;
  }
  return true;
}

bool read_int(const ConfigNode& node, std::string_view key, int64_t min, int64_t max, int64_t* out,
              ConfigErrors& errors) {
  bool failed;
  const ConfigNode* v = scalar_at(node, key, errors, &failed);
  if (!v) return !failed;
  int64_t n = 0;
  if (!parse_int64(v->text(), &n)) {
    errors.add(v->mark(),
               "'" + std::string(key) + "' must be a whole number, got '" + v->text() + "'");
    return false;
  }
  if (n < min || n > max) {
    errors.add(v->mark(), "'" + std::string(key) + "' must be between " + std::to_string(min) +
                              " and " + std::to_string(max) + ", got " + std::to_string(n));
    return false;
  }
  *out = n;
  return true;
}

bool read_string(const ConfigNode& node, std::string_view key, std::string* out,
                 ConfigErrors& errors) {
  bool failed;
  const ConfigNode* v = scalar_at(node, key, errors, &failed);
  if (!v) return !failed;
  *out = v->text();
  return true;
}

bool read_duration_ms(const ConfigNode& node, std::string_view key, int64_t* out_ms,
                      ConfigErrors& errors) {
  bool failed;
  const ConfigNode* v = scalar_at(node, key, errors, &failed);
  if (!v) return !failed;
  if (!parse_config_duration_ms(v->text(), out_ms)) {
    errors.add(v->mark(), "'" + std::string(key) +
                              "' must be a duration like 250ms, 10s, 5m, 2h; got '" + v->text() +
                              "'");
    return false;
  }
  return true;
}

bool read_size(const ConfigNode& node, std::string_view key, int64_t* out_bytes,
               ConfigErrors& errors) {
  bool failed;
  const ConfigNode* v = scalar_at(node, key, errors, &failed);
  if (!v) return !failed;
  if (!parse_size(v->text(), out_bytes)) {
    errors.add(v->mark(), "'" + std::string(key) + "' must be a size like 32KiB or 16MiB; got '" +
                              v->text() + "'");
    return false;
  }
  return true;
}

bool read_string_list(const ConfigNode& node, std::string_view key, std::vector<std::string>* out,
                      ConfigErrors& errors) {
  const ConfigNode* v = node.get(key);
  if (v == nullptr || v->is_null()) return true;
  if (!v->is_sequence()) {
    errors.add(v->mark(), "'" + std::string(key) + "' must be a list");
    return false;
  }
  out->clear();
  bool ok = true;
  for (const ConfigNode& item : v->items()) {
    if (!item.is_scalar()) {
      errors.add(item.mark(), "'" + std::string(key) + "' items must be single values");
      ok = false;
      continue;
    }
    out->push_back(item.text());
  }
  return ok;
}

}  // namespace config
}  // namespace gemgate
