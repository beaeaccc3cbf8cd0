// Result<T>: the error-or-value type used on the data path, where exceptions never cross the
// event loop. An Error carries a machine-readable code, a human message and, following Pingora,
// whether retrying the operation elsewhere could succeed.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace gemgate {

enum class ErrorCode {
  kInvalidArgument,  // the caller's input is wrong (bad config, bad JSON, bad request)
  kNotFound,         // the thing asked for does not exist
  kAlreadyExists,    // a unique thing was added twice
  kUnavailable,      // a dependency is down or busy; may work later
  kTimeout,          // a deadline passed
  kConnectFailed,    // could not reach a peer
  kReset,            // a peer went away mid-exchange
  kTooLarge,         // a size limit was hit
  kInternal,         // a bug or an unexpected state
};

// Error: what went wrong, for whom, and whether trying again elsewhere may help.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  bool retriable = false;

  static Error invalid(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m), false}; }
  static Error not_found(std::string m) { return {ErrorCode::kNotFound, std::move(m), false}; }
  static Error internal(std::string m) { return {ErrorCode::kInternal, std::move(m), false}; }
  static Error unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m), true}; }
};

// Result<T>: holds either a T or an Error. Test with ok(), then read value() or error().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace gemgate
