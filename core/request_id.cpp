#include "core/request_id.h"

#include <cstdint>

#include "core/crypto.h"

namespace gemgate {

bool valid_request_id(std::string_view id) {
  if (id.size() < 8 || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  // 6 random bytes (~47 bits) per thread keep ids of different threads and restarts apart; the
  // counter keeps one thread's apart. The id shows the counter's low 32 bits, so when they wrap
  // (after 2^32 ids on one thread) the thread draws a new prefix instead of repeating an id.
  thread_local std::string prefix = crypto::random_token("req-", 6).substr(0, 12);
  thread_local uint64_t counter = 0;
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t n = ++counter & 0xffffffffu;
  if (n == 0) {
    prefix = crypto::random_token("req-", 6).substr(0, 12);
    n = counter = 1;
  }
  std::string id = prefix;
  char digits[8];
  for (int i = 7; i >= 0; --i) {
    digits[i] = kHex[n & 0xf];
    n >>= 4;
  }
  id.append(digits, sizeof digits);
  return id;
}

std::string adopt_request_id(const std::string* given) {
  if (given && valid_request_id(*given)) return *given;
  return new_request_id();
}

}  // namespace gemgate
