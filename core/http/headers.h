// HeaderMap: an ordered list of HTTP header fields with case-insensitive names, as received or as
// to be sent. Small (tens of entries), so lookups are linear scans without allocation.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gemgate::http {

// Returns true when a and b are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

class HeaderMap {
 public:
  using Entry = std::pair<std::string, std::string>;
  // The typical number of fields of a request or response head: what parsers reserve, so a
  // head costs one allocation for its list instead of one per doubling.
  static constexpr size_t kTypicalFields = 16;

  HeaderMap() = default;
  // Takes `entries` as they are (names as given, order kept).
  explicit HeaderMap(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  // Returns the first value of `name`, or nullptr when absent.
  const std::string* get(std::string_view name) const;
  // Returns the first value of `name`, or `fallback` when absent.
  std::string_view get_or(std::string_view name, std::string_view fallback) const;
  // Returns how many fields are named `name`.
  size_t count(std::string_view name) const;
  bool has(std::string_view name) const { return get(name) != nullptr; }

  // Replaces every field named `name` with one field holding `value`.
  void set(std::string_view name, std::string value);
  // Appends a field, keeping any earlier ones with the same name.
  void add(std::string name, std::string value);
  // Removes every field named `name`; returns how many were removed.
  size_t remove(std::string_view name);

  const std::vector<Entry>& entries() const { return entries_; }
  // Hands the fields over (their strings move with them); the map is empty and owns no memory.
  std::vector<Entry> take_entries() { return std::exchange(entries_, {}); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  // Makes room for `n` fields without changing the contents.
  void reserve(size_t n) { entries_.reserve(n); }

 private:
  std::vector<Entry> entries_;
};

// Returns true for the hop-by-hop fields a proxy must never forward (RFC 9110 §7.6.1), plus the
// framing fields that each hop recomputes (content-length, transfer-encoding).
bool is_hop_by_hop(std::string_view name);

}  // namespace gemgate::http
