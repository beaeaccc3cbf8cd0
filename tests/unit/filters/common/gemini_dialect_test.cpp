// The Gemini pieces conf hands to core (filters/common/gemini_dialect.h): Google's error body as
// the "google" dialect and the default one, and Gemini's key shapes for the log redactor.
#include "filters/common/gemini_dialect.h"

#include <doctest/doctest.h>

#include "core/log.h"
#include "core/registry.h"

using namespace gemgate;

TEST_CASE("google error shape") {
  CHECK(gemini::render_google_error({429, "RESOURCE_EXHAUSTED", "quota", ""}) ==
        R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})");
  CHECK(gemini::render_google_error({500, "", "x", ""}).find("\"status\":\"UNKNOWN\"") !=
        std::string::npos);
}

TEST_CASE("the google dialect is registered once and becomes the default") {
  Registry r;
  REQUIRE(gemini::register_google_error_format(r).ok());
  REQUIRE(r.find_error_format("google") != nullptr);
  CHECK(r.default_error_format() == "google");
  CHECK_FALSE(gemini::register_google_error_format(r).ok());
}

TEST_CASE("Gemini redaction masks AIza keys and the x-goog-api-key value") {
  gemini::register_gemini_redaction();
  gemini::register_gemini_redaction();  // idempotent
  CHECK(log::redact("k AIzaSyA1234567890abcdefghijklmnopqrstuv") == "k AIza…stuv");
  CHECK(log::redact("x-goog-api-key: zzzzzzzzzzzzzzzzzzzz") == "x-goog-api-key: zzzz…zzzz");
}
