// The sealed upload ticket: what opens, and everything that must not.
#include "filters/files/upload_ticket.h"

#include <doctest/doctest.h>

using gemgate::files::UploadSealer;
using gemgate::files::UploadTicket;

namespace {

const std::string kSecret(32, 's');
constexpr int64_t kNow = 1'800'000'000'000;

UploadTicket ticket() {
  return {7, 42, kNow + 60'000,
          "/upload/v1beta/files?upload_id=GOOGLE-SESSION&upload_protocol=resumable"};
}

}  // namespace

TEST_CASE("a sealed ticket opens to what was sealed, and hides it") {
  UploadSealer sealer(kSecret);
  std::string id = sealer.seal(ticket());
  for (char c : id) {
    bool url_safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    CHECK(url_safe);
  }
  CHECK(id.find("GOOGLE") == std::string::npos);
  CHECK(id.find("upload") == std::string::npos);
  auto t = sealer.open(id, kNow);
  REQUIRE(t);
  CHECK(t->key_id == 7);
  CHECK(t->token_id == 42);
  CHECK(t->expires_at_ms == kNow + 60'000);
  CHECK(t->google_target == ticket().google_target);
  CHECK(sealer.seal(ticket()) != id);  // a fresh nonce each time
}

TEST_CASE("an altered, truncated, extended or foreign id opens to nothing") {
  UploadSealer sealer(kSecret);
  std::string id = sealer.seal(ticket());
  for (size_t i = 0; i < id.size(); i += 7) {
    std::string bad = id;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    CHECK_FALSE(sealer.open(bad, kNow));
  }
  CHECK_FALSE(sealer.open(id.substr(0, id.size() - 1), kNow));
  CHECK_FALSE(sealer.open(id.substr(0, 30), kNow));
  CHECK_FALSE(sealer.open(id + "AA", kNow));
  CHECK_FALSE(sealer.open("", kNow));
  CHECK_FALSE(sealer.open("not base64!", kNow));
  CHECK_FALSE(sealer.open(std::string(5000, 'A'), kNow));
  CHECK_FALSE(UploadSealer(std::string(32, 't')).open(id, kNow));  // another gateway secret
  CHECK(UploadSealer(kSecret).open(id, kNow));                     // the same secret elsewhere
}

TEST_CASE("a ticket opens until its expiry, not at or after it") {
  UploadSealer sealer(kSecret);
  std::string id = sealer.seal(ticket());
  CHECK(sealer.open(id, kNow + 59'999));
  CHECK_FALSE(sealer.open(id, kNow + 60'000));
  CHECK_FALSE(sealer.open(id, kNow + 3'600'000));
}

TEST_CASE("an empty target and negative ids survive the round trip") {
  UploadSealer sealer("short");
  UploadTicket t{-1, -1, kNow + 1, ""};
  auto back = sealer.open(sealer.seal(t), kNow);
  REQUIRE(back);
  CHECK(back->key_id == -1);
  CHECK(back->token_id == -1);
  CHECK(back->google_target.empty());
}
