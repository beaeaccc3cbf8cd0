#include "core/metrics/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gemgate::metrics {

size_t shard_index() {
  static std::atomic<size_t> next{0};
  thread_local const size_t mine = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return mine;
}

ShardedCells::ShardedCells(size_t cells)
    : cells_(cells), stride_((cells + 7) / 8), lines_(new Line[kShards * ((cells + 7) / 8)]) {
  for (size_t i = 0; i < kShards * stride_; ++i) {
    for (auto& v : lines_[i].v) v.store(0, std::memory_order_relaxed);
  }
}

uint64_t ShardedCells::sum(size_t cell) const {
  uint64_t total = 0;
  for (size_t s = 0; s < kShards; ++s) total += line(s, cell).load(std::memory_order_relaxed);
  return total;
}

LabelTable::LabelTable(size_t capacity) : capacity_(capacity), slots_(new Slot[capacity]) {}

size_t LabelTable::intern(std::string_view a, std::string_view b) {
  size_t n = used_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i) {
    if (slots_[i].a == a && slots_[i].b == b) return i;
  }
  if (n >= capacity_) return capacity_;
  std::lock_guard<std::mutex> lock(insert_mu_);
  // Another thread may have added it (or filled the table) since the scan above.
  size_t now = used_.load(std::memory_order_relaxed);
  for (size_t i = n; i < now; ++i) {
    if (slots_[i].a == a && slots_[i].b == b) return i;
  }
  if (now >= capacity_) return capacity_;
  slots_[now].a.assign(a);
  slots_[now].b.assign(b);
  used_.store(now + 1, std::memory_order_release);  // publishes the slot written above
  return now;
}

Histograms::Histograms(size_t series, std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      per_series_(bounds_.size() + 2),
      cells_(series * (bounds_.size() + 2)) {}

void Histograms::observe(size_t series, double seconds) {
  if (!(seconds >= 0)) return;  // negative or NaN: nothing was measured
  size_t bucket = 0;
  while (bucket < bounds_.size() && seconds > bounds_[bucket]) ++bucket;
  size_t base = series * per_series_;
  cells_.add(base + bucket);
  cells_.add(base + bounds_.size() + 1, static_cast<uint64_t>(std::llround(seconds * 1e6)));
}

std::vector<uint64_t> Histograms::cumulative(size_t series) const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  uint64_t running = 0;
  size_t base = series * per_series_;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += cells_.sum(base + i);
    out[i] = running;
  }
  return out;
}

double Histograms::sum_seconds(size_t series) const {
  return static_cast<double>(cells_.sum(series * per_series_ + bounds_.size() + 1)) / 1e6;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out.push_back(c);
  }
  return out;
}

namespace {

// A sample value as the format writes floats: Go's ParseFloat reads it back exactly.
std::string format_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);  // whole numbers as such: "10", not "1e+01"
    return buf;
  }
  // The shortest form that reads back exactly ("0.005", not "0.0050000000000000001").
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace

void Writer::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Writer::labels(std::span<const Label> labels, std::string_view extra_name,
                    std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  auto one = [&](std::string_view n, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_ += n;
    out_ += "=\"";
    out_ += escape_label_value(v);
    out_ += '"';
  };
  for (const Label& l : labels) one(l.first, l.second);
  if (!extra_name.empty()) one(extra_name, extra_value);
  out_ += '}';
}

void Writer::sample(std::string_view name, std::span<const Label> l, double value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  out_ += format_double(value);
  out_ += '\n';
}

void Writer::sample(std::string_view name, std::span<const Label> l, uint64_t value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void Writer::sample(std::string_view name, std::span<const Label> l, int64_t value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void Writer::histogram(std::string_view name, std::span<const Label> l,
                       const std::vector<double>& bounds, const std::vector<uint64_t>& cumulative,
                       double sum_seconds) {
  std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i <= bounds.size(); ++i) {
    out_ += bucket;
    labels(l, "le", i < bounds.size() ? format_double(bounds[i]) : "+Inf");
    out_ += ' ';
    out_ += std::to_string(cumulative[i]);
    out_ += '\n';
  }
  sample(std::string(name) + "_sum", l, sum_seconds);
  sample(std::string(name) + "_count", l, cumulative.back());
}

void Registry::add(Collector collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
  std::vector<Collector> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
  }
  Writer w;
  for (const Collector& c : collectors) c(w);
  return w.take();
}

}  // namespace gemgate::metrics
