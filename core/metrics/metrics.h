// Metrics: counters and histograms cheap enough for the hot path, and the Prometheus text
// exposition (version 0.0.4) they are scraped in.
//
// Cost on the hot path: a relaxed atomic add on a cache line of the calling thread's shard (one
// of kShards, picked once per thread), no lock, no allocation. The scrape sums the shards. Label
// values are interned in bounded LabelTables, so a client cannot grow a metric without bound:
// once a table is full, new values share its overflow slot (labelled "other").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gemgate::metrics {

// Shards per counter set: threads beyond this share shards (still correct, only contended).
inline constexpr size_t kShards = 16;

// This thread's shard, fixed at its first use. Thread-safe.
size_t shard_index();

// A fixed number of 64-bit cells, each summed over kShards per-thread copies. A thread's copies
// sit on cache lines of their own, so workers never write the same line. Gauges add signed
// amounts (two's complement) and read back with sum_signed.
class ShardedCells {
 public:
  explicit ShardedCells(size_t cells);
  size_t size() const { return cells_; }
  // Adds `n` to `cell` (cell < size()). Lock-free, allocation-free. Thread-safe.
  void add(size_t cell, uint64_t n = 1) {
    line(shard_index(), cell).fetch_add(n, std::memory_order_relaxed);
  }
  // The sum over all shards of `cell`. Thread-safe (a racing add may or may not be included).
  uint64_t sum(size_t cell) const;
  int64_t sum_signed(size_t cell) const { return static_cast<int64_t>(sum(cell)); }

 private:
  struct alignas(64) Line {
    std::atomic<uint64_t> v[8];
  };
  std::atomic<uint64_t>& line(size_t shard, size_t cell) const {
    return lines_[shard * stride_ + cell / 8].v[cell % 8];
  }
  size_t cells_;
  size_t stride_;  // lines per shard
  std::unique_ptr<Line[]> lines_;
};

// Interns up to `capacity` label values (one or two parts, e.g. route and chain) to small
// indexes; the value after that is the overflow slot shared by every later value. Lookups are
// lock-free and allocation-free; only a new value takes a short lock, once.
class LabelTable {
 public:
  explicit LabelTable(size_t capacity);
  // Index of (a, b): an existing entry, a new one while there is room, else overflow().
  size_t intern(std::string_view a, std::string_view b = {});
  size_t overflow() const { return capacity_; }
  // Entries in use (not counting the overflow slot). Thread-safe.
  size_t used() const { return used_.load(std::memory_order_acquire); }
  // The parts of entry `i` (i < used()).
  const std::string& first(size_t i) const { return slots_[i].a; }
  const std::string& second(size_t i) const { return slots_[i].b; }
  // Indexes in use plus the overflow slot: the size of arrays indexed by this table.
  size_t slots() const { return capacity_ + 1; }

 private:
  struct Slot {
    std::string a, b;
  };
  size_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  std::atomic<size_t> used_{0};
  std::mutex insert_mu_;
};

// A histogram per series (an index the caller defines), over fixed upper bounds in seconds.
class Histograms {
 public:
  Histograms(size_t series, std::vector<double> bounds);
  // Records `seconds` (negative values are ignored) in `series`. Lock-free. Thread-safe.
  void observe(size_t series, double seconds);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound of `series`, then the +Inf count (bounds().size() + 1 values).
  std::vector<uint64_t> cumulative(size_t series) const;
  // Sum of the observed values of `series`, in seconds (kept in microseconds).
  double sum_seconds(size_t series) const;

 private:
  std::vector<double> bounds_;
  size_t per_series_;  // bounds + 1 (+Inf) + 1 (sum)
  ShardedCells cells_;
};

// Label name and value of one sample.
using Label = std::pair<std::string_view, std::string_view>;

// Builds the Prometheus text exposition: families (# HELP, # TYPE), samples with escaped label
// values. Not thread-safe: one per scrape.
class Writer {
 public:
  // Starts a metric family. `type` is "counter", "gauge" or "histogram". A family must be
  // started once, and all its samples written before the next family.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample `name{labels} value`.
  void sample(std::string_view name, std::span<const Label> labels, double value);
  void sample(std::string_view name, std::span<const Label> labels, uint64_t value);
  void sample(std::string_view name, std::span<const Label> labels, int64_t value);
  // The samples of one histogram series: `<name>_bucket{...,le=".."}`, `_sum`, `_count`.
  void histogram(std::string_view name, std::span<const Label> labels,
                 const std::vector<double>& bounds, const std::vector<uint64_t>& cumulative,
                 double sum_seconds);
  std::string take() { return std::move(out_); }

 private:
  void labels(std::span<const Label> labels, std::string_view extra_name = {},
              std::string_view extra_value = {});
  std::string out_;
};

// Escapes a label value as the exposition format requires: backslash, double quote and line
// feed become \\, \" and \n.
std::string escape_label_value(std::string_view value);
// Escapes HELP text: backslash and line feed.
std::string escape_help(std::string_view text);

// The metrics of a process: collectors added at start (by the composition root), each writing
// its families at a scrape. Thread-safe: add() before serving, render() from any thread.
class Registry {
 public:
  using Collector = std::function<void(Writer&)>;
  void add(Collector collector);
  // The whole exposition text, every collector in the order added.
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::vector<Collector> collectors_;
};

}  // namespace gemgate::metrics
