// Small RAII helpers over the C ABI for its tests: owned buffers and handles.
#pragma once

#include <memory>
#include <string>

#include "gemgate/gemgate.h"

namespace gemgate::capi::test {

// Takes a gemgate-owned buffer into a std::string and frees it.
inline std::string take(char* buf, size_t len) {
  std::string s(buf, len);
  gemgate_free(buf);
  return s;
}

struct ExchangeDeleter {
  void operator()(gemgate_exchange* x) const { gemgate_exchange_destroy(x); }
};
struct StreamDeleter {
  void operator()(gemgate_stream* s) const { gemgate_stream_destroy(s); }
};
struct PoolDeleter {
  void operator()(gemgate_pool* p) const { gemgate_pool_destroy(p); }
};
using Exchange = std::unique_ptr<gemgate_exchange, ExchangeDeleter>;
using Stream = std::unique_ptr<gemgate_stream, StreamDeleter>;
using Pool = std::unique_ptr<gemgate_pool, PoolDeleter>;

inline Exchange new_exchange(gemgate_front front) {
  gemgate_exchange* x = nullptr;
  if (gemgate_exchange_create(front, &x) != GEMGATE_OK) return nullptr;
  return Exchange(x);
}

}  // namespace gemgate::capi::test
