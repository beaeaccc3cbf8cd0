// ConfigNode: a parsed configuration tree (maps, sequences, scalars) where every node remembers
// the file, line and column it came from. conf/ builds it from YAML; filters read their typed
// config from it without depending on any YAML library, so embedders may build it from anything.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gemgate {

struct Mark {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  // The environment variable(s) a scalar's value was read from ("HEAD_TIMEOUT", or
  // "A, B"); "" when the value was written literally. Errors at this mark name them.
  std::string env{};
};

// One problem: where, and what. `message` already names the environment variable when the
// value came from one.
struct ConfigError {
  Mark at;
  std::string message;
};

// ConfigErrors: collects every problem found while reading config, each with its position, so
// one run reports them all as `file:line:column: message`.
class ConfigErrors {
 public:
  // Records `message` at `at`; when the value there came from the environment, the message
  // ends with "(the value came from environment variable X)".
  void add(const Mark& at, std::string message);
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  // Each error as `file:line:column: message`, in the order found.
  std::vector<std::string> lines() const;
  const std::vector<ConfigError>& errors() const { return errors_; }

 private:
  std::vector<ConfigError> errors_;
};

class ConfigNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  ConfigNode() = default;
  static ConfigNode scalar(std::string value, Mark mark);
  static ConfigNode sequence(Mark mark);
  static ConfigNode map(Mark mark);
  // An empty value (`key:` with nothing after it) that still knows where it was written.
  static ConfigNode null_at(Mark mark);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_map() const { return kind_ == Kind::kMap; }
  const Mark& mark() const { return mark_; }
  const std::string& text() const { return scalar_; }

  // Sequence items, or map entries in file order.
  const std::vector<ConfigNode>& items() const { return items_; }
  const std::vector<std::pair<std::string, ConfigNode>>& entries() const { return entries_; }
  // Returns the value under `key` of a map, or nullptr (also for non-maps).
  const ConfigNode* get(std::string_view key) const;

  void push(ConfigNode item) { items_.push_back(std::move(item)); }
  void put(std::string key, ConfigNode value) {
    entries_.emplace_back(std::move(key), std::move(value));
  }

 private:
  Kind kind_ = Kind::kNull;
  Mark mark_;
  std::string scalar_;
  std::vector<ConfigNode> items_;
  std::vector<std::pair<std::string, ConfigNode>> entries_;
};

// Typed readers. Each reads `key` from map `node` into *out when present, leaves *out untouched
// when absent, and reports a positioned error (and returns false) when the value is malformed.
namespace config {

// Returns the one of `candidates` nearest to `word` when it is a plausible misspelling (a few
// edits away, case ignored), else "". For "did you mean ...?" hints.
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);
// " (did you mean 'x'?)" for closest_match(word, candidates), or "" when nothing is near.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

// Reports every key of `node` not in `allowed` ("unknown key 'x'", with a did-you-mean hint
// when one of `allowed` is near), and a non-map node.
bool expect_keys(const ConfigNode& node, std::span<const std::string_view> allowed,
                 ConfigErrors& errors);
inline bool expect_keys(const ConfigNode& node, std::initializer_list<std::string_view> allowed,
                        ConfigErrors& errors) {
  return expect_keys(node, std::span<const std::string_view>(allowed.begin(), allowed.size()),
                     errors);
}
bool read_bool(const ConfigNode& node, std::string_view key, bool* out, ConfigErrors& errors);
bool read_int(const ConfigNode& node, std::string_view key, int64_t min, int64_t max, int64_t* out,
              ConfigErrors& errors);
bool read_string(const ConfigNode& node, std::string_view key, std::string* out,
                 ConfigErrors& errors);
// Durations: "250ms", "10s", "5m", "2h", "1d" or a bare number of seconds; stored in ms.
bool read_duration_ms(const ConfigNode& node, std::string_view key, int64_t* out_ms,
                      ConfigErrors& errors);
// Sizes: "512", "64KiB", "16MiB", "1GiB" (also KB/MB/GB as powers of 1024); stored in bytes.
bool read_size(const ConfigNode& node, std::string_view key, int64_t* out_bytes,
               ConfigErrors& errors);
// A sequence of strings.
bool read_string_list(const ConfigNode& node, std::string_view key, std::vector<std::string>* out,
                      ConfigErrors& errors);

// Parse the text forms above (config durations: "1.5s" is not one); return false when malformed.
bool parse_config_duration_ms(std::string_view text, int64_t* out_ms);
bool parse_size(std::string_view text, int64_t* out_bytes);

}  // namespace config
}  // namespace gemgate
