// Counts the process's malloc/calloc/realloc calls, for the benchmarks' "mallocs per request"
// column: this header replaces them (and free) with forwarders to glibc's own __libc_* entry
// points. Include it in exactly one translation unit of a benchmark program, never in gemgate.
#pragma once

#include <atomic>
#include <cstddef>

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* ptr, size_t size);
void __libc_free(void* ptr);
}

namespace bench {
// Calls so far (all threads).
inline std::atomic<long> malloc_calls{0};
}  // namespace bench

extern "C" {
void* malloc(size_t size) {
  bench::malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  bench::malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, size);
}
void* realloc(void* ptr, size_t size) {
  bench::malloc_calls.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(ptr, size);
}
void free(void* ptr) {
  __libc_free(ptr);
}
}
