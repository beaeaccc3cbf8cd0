// Helpers shared by the fuzz harnesses: a fragment plan read from the front of the input (so
// the fuzzer controls how a byte stream is split across reads, where span-handling bugs live),
// and FUZZ_CHECK, which aborts with a message so that libFuzzer and the corpus replay both report
// a broken invariant as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace gemgate::fuzz {

// Aborts with file:line and the failed condition. Not compiled out: an invariant the harness
// cannot check is an invariant the corpus cannot guard.
[[noreturn]] inline void check_failed(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
  std::abort();
}

#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) ::gemgate::fuzz::check_failed(__FILE__, __LINE__, #cond); \
  } while (0)

// FragmentPlan: the input's first byte b0 says how many length bytes follow (b0 & 7); each length
// byte L gives a fragment of L+1 bytes, and the lengths repeat until the payload is used up.
// With no length bytes the payload is one fragment. Seeds therefore start with "\x00" (whole) or
// e.g. "\x01\x00" (one byte per read).
class FragmentPlan {
 public:
  FragmentPlan(const uint8_t* data, size_t size) {
    if (size == 0) return;
    size_t n = data[0] & 7;
    size_t pos = 1;
    for (size_t i = 0; i < n && pos < size; ++i, ++pos) lengths_.push_back(size_t(data[pos]) + 1);
    payload_ = std::string_view(reinterpret_cast<const char*>(data) + pos, size - pos);
  }

  // The bytes after the plan.
  std::string_view payload() const { return payload_; }

  // The payload cut into fragments (never empty ones), in order.
  std::vector<std::string_view> fragments() const {
    std::vector<std::string_view> out;
    if (lengths_.empty()) {
      if (!payload_.empty()) out.push_back(payload_);
      return out;
    }
    size_t pos = 0;
    for (size_t i = 0; pos < payload_.size(); ++i) {
      size_t len = lengths_[i % lengths_.size()];
      out.push_back(payload_.substr(pos, len));
      pos += out.back().size();
    }
    return out;
  }

 private:
  std::vector<size_t> lengths_;
  std::string_view payload_;
};

}  // namespace gemgate::fuzz
