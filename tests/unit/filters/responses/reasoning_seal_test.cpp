// The seal of reasoning items' encrypted_content: HMAC-SHA256 (RFC 4231 vectors), round trip,
// and refusal of anything altered, truncated or sealed under another key.
#include "filters/responses/reasoning_seal.h"

#include <doctest/doctest.h>

namespace gemgate::responses {

namespace {

std::string hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

}  // namespace

TEST_CASE("hmac_sha256 matches RFC 4231 test cases 1 and 6") {
  CHECK(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex(hmac_sha256(std::string(131, '\xaa'),
                        "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("a sealed payload opens under the same key, and only then") {
  ReasoningSeal seal = make_reasoning_seal(std::string(32, 'k'));
  std::string token = seal.seal(R"({"v":1,"sigs":{"call_1":"c2ln"}})");
  CHECK(token.starts_with("ggr1."));
  auto opened = seal.open(token);
  REQUIRE(opened);
  CHECK(*opened == R"({"v":1,"sigs":{"call_1":"c2ln"}})");

  ReasoningSeal other = make_reasoning_seal(std::string(32, 'x'));
  CHECK_FALSE(other.open(token));  // another gateway's (or a rotated) key

  std::string altered = token;
  altered[6] = altered[6] == '0' ? '1' : '0';  // one payload digit changed
  CHECK_FALSE(seal.open(altered));
  CHECK_FALSE(seal.open(token.substr(0, token.size() - 2)));  // truncated MAC
  CHECK_FALSE(seal.open("ggr1.zz.00"));                       // not hex
  CHECK_FALSE(seal.open("ggr1.7b7d"));                        // no MAC at all
  CHECK_FALSE(seal.open(""));
  CHECK_FALSE(seal.open("gAAAAABo-openai-encrypted-content"));  // OpenAI's own: not ours
}

}  // namespace gemgate::responses
