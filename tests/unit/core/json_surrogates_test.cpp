// core/json_surrogates.h: lone UTF-16 surrogate escapes found and mended, everything else
// untouched.
#include "core/json_surrogates.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>

#include "core/json.h"

using gemgate::json_text::has_lone_surrogate;
using gemgate::json_text::mend_lone_surrogates;

namespace {

std::string mended(std::string text, size_t* count = nullptr) {
  size_t n = mend_lone_surrogates(text.data(), text.size());
  if (count) *count = n;
  return text;
}

}  // namespace

TEST_CASE("lone surrogate escapes become U+FFFD; pairs and other escapes stay") {
  size_t n = 0;
  CHECK(mended(R"("x\udc00y")", &n) == R"("x\ufffdy")");
  CHECK(n == 1);
  CHECK(mended(R"("\uD800x")", &n) == R"("\ufffdx")");
  CHECK(n == 1);
  CHECK(mended(R"("\ud83d\ude00")", &n) == R"("\ud83d\ude00")");  // a pair: untouched
  CHECK(n == 0);
  // A high surrogate followed by another high one: the first is lone, the second pairs.
  CHECK(mended(R"("\ud800\ud83d\ude00")", &n) == R"("\ufffd\ud83d\ude00")");
  CHECK(n == 1);
  // Two lows in a row, a high at the very end, a high before a non-surrogate escape.
  CHECK(mended(R"("\udc00\udfff")", &n) == R"("\ufffd\ufffd")");
  CHECK(n == 2);
  CHECK(mended(R"("a\udbff")", &n) == R"("a\ufffd")");
  CHECK(mended(R"("\ud800\u0041")", &n) == R"("\ufffd\u0041")");
  // An escaped backslash followed by text that looks like an escape is text.
  CHECK(mended(R"("\\udc00")", &n) == R"("\\udc00")");
  CHECK(n == 0);
  CHECK(mended(R"("\\\udc00")", &n) == R"("\\\ufffd")");
  CHECK(n == 1);
}

TEST_CASE("has_lone_surrogate agrees with mending and survives truncated escapes") {
  CHECK_FALSE(has_lone_surrogate(""));
  CHECK_FALSE(has_lone_surrogate(R"({"a":"plain \n text \u00e9"})"));
  CHECK_FALSE(has_lone_surrogate(R"("\ud83d\ude00")"));
  CHECK(has_lone_surrogate(R"("\udc00")"));
  CHECK(has_lone_surrogate(R"("\ud83d")"));
  // Cut short anywhere: no read past the end, no false alarm on an incomplete escape.
  std::string whole = R"("\ud83d\ude00")";
  for (size_t len = 0; len <= whole.size(); ++len) {
    std::string cut = whole.substr(0, len);
    bool lone = has_lone_surrogate(cut);
    CHECK(lone == (mended(cut) != cut));
  }
  CHECK_FALSE(has_lone_surrogate("\\"));
  CHECK_FALSE(has_lone_surrogate("\\u12"));
  CHECK_FALSE(has_lone_surrogate("\\uzzzz"));
}

TEST_CASE("json::parse gives U+FFFD for a lone surrogate instead of bytes that are not UTF-8") {
  rapidjson::Document doc;
  REQUIRE(gemgate::json::parse(doc, R"({"t":"x\udc00y","u":"\ud800"})"));
  CHECK(std::string(doc["t"].GetString()) == "x\xEF\xBF\xBDy");
  CHECK(std::string(doc["u"].GetString()) == "\xEF\xBF\xBD");
}
