// Published<T>: an immutable value shared by every worker thread and replaced as a whole.
// Readers take a std::shared_ptr<const T> that stays valid for as long as they hold it (a request
// keeps the snapshot it started with); writers publish a new one. No reader ever blocks a writer.
#pragma once

#include <atomic>
#include <memory>
#include <utility>

namespace gemgate {

template <class T>
class Published {
 public:
  Published() : value_(std::make_shared<const T>()) {}
  explicit Published(std::shared_ptr<const T> initial) : value_(std::move(initial)) {}

  // Returns the current snapshot. Thread-safe.
  std::shared_ptr<const T> load() const { return value_.load(std::memory_order_acquire); }
  // Replaces the snapshot; later load() calls see `next`. Thread-safe.
  void publish(std::shared_ptr<const T> next) {
    value_.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const T>> value_;
};

}  // namespace gemgate
