// Status names, the thread-local last error, buffers and version functions of the C ABI.
#include <cstdlib>
#include <cstring>

#include "capi/internal.h"

#ifndef GEMGATE_VERSION_STRING
#define GEMGATE_VERSION_STRING "0.0.0"
#endif

namespace gemgate::capi {

namespace {
thread_local std::string last_error;
}

gemgate_status fail(gemgate_status status, std::string message) {
  try {
    last_error = std::move(message);
  } catch (...) {
    // Keep the previous message rather than fail the failure.
  }
  return status;
}

char* copy_out(std::string_view text) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) throw std::bad_alloc();
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  return p;
}

gemgate_status give(std::string_view text, char** out, size_t* len) {
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) return fail(GEMGATE_NO_MEMORY, "out of memory");
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  *out = p;
  if (len != nullptr) *len = text.size();
  return GEMGATE_OK;
}

}  // namespace gemgate::capi

extern "C" {

int gemgate_abi_version(void) {
  return GEMGATE_ABI_VERSION;
}

const char* gemgate_version(void) {
  return GEMGATE_VERSION_STRING;
}

const char* gemgate_status_name(gemgate_status status) {
  switch (status) {
    case GEMGATE_OK:
      return "ok";
    case GEMGATE_INVALID_ARGUMENT:
      return "invalid_argument";
    case GEMGATE_REJECTED:
      return "rejected";
    case GEMGATE_NO_KEY:
      return "no_key";
    case GEMGATE_NOT_FOUND:
      return "not_found";
    case GEMGATE_STATE:
      return "state";
    case GEMGATE_NO_MEMORY:
      return "no_memory";
    case GEMGATE_INTERNAL:
      return "internal";
  }
  return "unknown";
}

const char* gemgate_last_error(void) {
  return gemgate::capi::last_error.c_str();
}

void gemgate_free(void* buffer) {
  std::free(buffer);
}

}  // extern "C"
