// Fuzz target http_request: client bytes → server::RequestParser (llhttp in strict mode plus our
// limits, Host rules and head scanning), with the default ServerLimits.
//
// Input: a FragmentPlan (fuzz_util.h) then the raw bytes a client sends on one connection. The
// bytes are fed the way Connection::process_input does: append each read, feed, and after every
// complete request take it and feed the rest again (pipelining), until an error or a request that
// ends the connection. The same bytes are also fed in one piece, and both runs must agree: the
// server sees arbitrary TCP splits, so a split-dependent result is a bug (or a smuggling gadget).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/message.h"
#include "core/server/request_parser.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gemgate::server::RequestParser;

// What one connection's bytes turned into.
struct Outcome {
  std::vector<std::string> requests;  // a flat rendering of each completed request
  int error_status = 0;               // 0: no error
};

std::string render(const gemgate::http::Request& r, bool keep_alive) {
  std::string s = r.method + ' ' + r.path + " ?" + r.query + " 1." +
                  std::to_string(r.version_minor) + (keep_alive ? " ka\n" : " close\n");
  for (const auto& [name, value] : r.headers.entries()) s += name + ": " + value + '\n';
  s += "body " + std::to_string(r.body.size()) + '\n';
  s += r.body;
  return s;
}

void check_request(const gemgate::http::Request& r, const gemgate::server::ServerLimits& limits) {
  FUZZ_CHECK(!r.method.empty());
  FUZZ_CHECK(!r.path.empty() && r.path[0] == '/');
  // The path was normalised once; routing relies on it being a fixed point.
  auto again = gemgate::http::normalize_path(r.path);
  FUZZ_CHECK(again && *again == r.path);
  FUZZ_CHECK(r.version_minor == 0 || r.version_minor == 1);
  FUZZ_CHECK(r.headers.size() <= limits.max_headers);
  FUZZ_CHECK(r.body.size() <= limits.max_body_bytes);
  FUZZ_CHECK(r.version_minor == 0 || r.headers.count("host") == 1);
}

Outcome run(const std::vector<std::string_view>& reads) {
  static const gemgate::server::ServerLimits limits;
  RequestParser parser(limits);
  Outcome out;
  std::string input;  // bytes read but not yet consumed (Connection::input_)
  for (std::string_view read : reads) {
    input.append(read);
    while (!input.empty()) {
      size_t used = 0;
      RequestParser::State state = parser.feed(input.data(), input.size(), &used);
      FUZZ_CHECK(used <= input.size());
      if (state == RequestParser::State::kError) {
        int s = parser.error_status();
        FUZZ_CHECK(s == 400 || s == 408 || s == 413 || s == 414 || s == 431 || s == 501 ||
                   s == 505);
        FUZZ_CHECK(!parser.error_message().empty());
        // Once failed, the parser must stay failed.
        size_t again = 1;
        FUZZ_CHECK(parser.feed("x", 1, &again) == RequestParser::State::kError && again == 0);
        out.error_status = s;
        return out;
      }
      if (state == RequestParser::State::kNeedMore) {
        FUZZ_CHECK(used == input.size());
        input.clear();
        break;
      }
      // kComplete: every request is made of bytes, so something was consumed since the last
      // take_request (it may have been in an earlier read).
      FUZZ_CHECK(parser.head_complete());
      bool keep_alive = parser.keep_alive();
      gemgate::http::Request r = parser.take_request();
      FUZZ_CHECK(!parser.in_request() && !parser.head_complete());
      check_request(r, limits);
      out.requests.push_back(render(r, keep_alive));
      input.erase(0, used);
      if (!keep_alive) return out;  // the server closes after answering
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gemgate::fuzz::FragmentPlan plan(data, size);
  Outcome split = run(plan.fragments());
  std::vector<std::string_view> whole;
  if (!plan.payload().empty()) whole.push_back(plan.payload());
  Outcome one = run(whole);
  FUZZ_CHECK(split.requests == one.requests);
  // Which error is reported first may depend on how much was buffered (e.g. a bare LF later in
  // the head is seen before an over-long target), but not whether there is one.
  FUZZ_CHECK((split.error_status == 0) == (one.error_status == 0));
  return 0;
}
