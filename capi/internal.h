// Shared by the C ABI's translation units: the thread-local error slot, buffers handed to the
// caller, and the guard that keeps C++ exceptions from crossing the boundary. Not installed.
#pragma once

#include <new>
#include <string>
#include <string_view>

#include "gemgate/gemgate.h"

namespace gemgate::capi {

// Records `message` as the calling thread's last error and returns `status`.
gemgate_status fail(gemgate_status status, std::string message);

// A malloc'ed, NUL-terminated copy of `text` for a `char **` out-parameter (freed by
// gemgate_free); throws std::bad_alloc.
char* copy_out(std::string_view text);

// Stores a copy of `text` in *out / *len (len may be NULL). Returns GEMGATE_OK or
// GEMGATE_NO_MEMORY.
gemgate_status give(std::string_view text, char** out, size_t* len);

// Runs `body` (returning gemgate_status), turning any exception into a status and a message.
template <class Body>
gemgate_status guarded(const char* where, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(GEMGATE_NO_MEMORY, std::string(where) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(GEMGATE_INTERNAL, std::string(where) + ": " + e.what());
  } catch (...) {
    return fail(GEMGATE_INTERNAL, std::string(where) + ": unknown exception");
  }
}

}  // namespace gemgate::capi
