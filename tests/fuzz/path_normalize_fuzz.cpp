// Fuzz target path_normalize: request paths and queries → http::normalize_path, percent_decode
// and Request::query_param / remove_query_param (core/http/message.h). Routing, auth and the
// admin prefix checks all trust normalize_path's output, so its promises are checked here:
// absolute, no empty or dot segments, no encoded '/', '\' or NUL, and a fixed point.
//
// Input: one byte k, then the payload. The payload is tried as a path (as is, and with '/' in
// front) and as a query string; the parameter name looked up is the payload's first k % 16
// bytes (so the fuzzer can aim at a name that occurs in the query).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/http/message.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool icontains(std::string_view s, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    bool eq = true;
    for (size_t j = 0; j < needle.size() && eq; ++j) {
      char a = s[i + j], b = needle[j];
      if (a >= 'a' && a <= 'z') a = char(a - 32);
      eq = a == b;
    }
    if (eq) return true;
  }
  return false;
}

void check_path(std::string_view raw) {
  auto out = gemgate::http::normalize_path(raw);
  if (!out) return;
  const std::string& p = *out;
  FUZZ_CHECK(!p.empty() && p[0] == '/');
  FUZZ_CHECK(p.find("//") == std::string::npos);
  FUZZ_CHECK(p.find("/./") == std::string::npos && p.find("/../") == std::string::npos);
  FUZZ_CHECK(p != "/." && p != "/..");
  FUZZ_CHECK(!p.ends_with("/."));
  FUZZ_CHECK(!p.ends_with("/.."));
  FUZZ_CHECK(p.find('\\') == std::string::npos && p.find('\0') == std::string::npos);
  FUZZ_CHECK(!icontains(p, "%2F") && !icontains(p, "%5C") && !icontains(p, "%00"));
  FUZZ_CHECK(p.size() <= raw.size());  // decoding and merging never grow a path
  auto again = gemgate::http::normalize_path(p);
  FUZZ_CHECK(again && *again == p);
  // A decoded '.' must have been resolved like a literal one: "/%2e%2e/x" cannot climb.
  auto decoded = gemgate::http::percent_decode(p, false);
  if (decoded) {
    FUZZ_CHECK(decoded->find("/../") == std::string::npos);
    FUZZ_CHECK(decoded->find("/./") == std::string::npos);
  }
}

void check_decode(std::string_view in) {
  for (bool plus : {false, true}) {
    auto d = gemgate::http::percent_decode(in, plus);
    if (!d) continue;
    FUZZ_CHECK(d->size() <= in.size());
    if (in.find('%') == std::string_view::npos) FUZZ_CHECK(d->size() == in.size());
  }
}

void check_query(std::string_view query, std::string_view name) {
  gemgate::http::Request r;
  r.path = "/p";
  r.query = std::string(query);
  auto before = r.query_param(name);
  // Another parameter (the first one's name) must keep its value through the removal.
  auto other = gemgate::http::percent_decode(query.substr(0, query.find_first_of("&=")), true);
  bool check_other = other && *other != name && !other->empty();
  auto other_before = check_other ? r.query_param(*other) : std::nullopt;
  FUZZ_CHECK(r.target() == (r.query.empty() ? "/p" : "/p?" + r.query));
  bool removed = r.remove_query_param(name);
  FUZZ_CHECK(removed == before.has_value());
  FUZZ_CHECK(!r.query_param(name).has_value());
  FUZZ_CHECK(r.query.size() <= query.size());
  std::string kept = r.query;
  FUZZ_CHECK(!r.remove_query_param(name) && r.query == kept);
  if (check_other) FUZZ_CHECK(r.query_param(*other) == other_before);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_path(payload);
  check_path("/" + std::string(payload));
  check_decode(payload);
  std::string_view name = payload.substr(0, data[0] % 16);
  check_query(payload, name);
  return 0;
}
