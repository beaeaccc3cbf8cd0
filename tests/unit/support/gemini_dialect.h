// Test support: the Gemini pieces conf/ hands to core at start (the "google" error dialect as the
// default, what a Gemini key looks like to the log redactor), for unit tests that exercise them
// without going through conf. Link gemgate_filters_common.
#pragma once

#include <doctest/doctest.h>

#include "core/registry.h"
#include "filters/common/gemini_dialect.h"

namespace gemgate::test {

// A registry with the "google" dialect registered and made the default, as
// conf::register_everything leaves it.
inline Registry gemini_registry() {
  Registry r;
  REQUIRE(gemini::register_google_error_format(r).ok());
  return r;
}

// Teaches the process-wide log redactor Gemini's key shapes, as Gateway::start does.
// Idempotent.
inline void use_gemini_redaction() {
  gemini::register_gemini_redaction();
}

}  // namespace gemgate::test
