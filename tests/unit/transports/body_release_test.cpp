// In-memory request bodies (UpstreamRequest::body) held no longer than libcurl needs them: once
// every byte was sent and the answer's head came, the transfer lets go of its share, so a stream
// does not hold its prompt while it trickles; while the body is still being sent (an upstream
// that answers first) it keeps it, and every byte still arrives.
#include <doctest/doctest.h>
#include <memory>
#include <string>

#include "test_support.h"

using namespace gemgate::transport;
using namespace gemgate::transport::testing;

namespace {

std::shared_ptr<const std::string> make_body(size_t size) {
  std::string b(size, 'p');
  for (size_t i = 0; i < size; i += 4093) b[i] = static_cast<char>('a' + i % 26);
  return std::make_shared<const std::string>(std::move(b));
}

}  // namespace

TEST_CASE("a sent body is let go of when the head arrives; the answer streams on") {
  // 1 KiB travels inside the request's head, 200 KiB through libcurl's upload buffer; a
  // long-lived transfer (a smaller upload buffer) and a short one.
  for (size_t size : {size_t{1024}, size_t{200 * 1024}}) {
    for (bool long_lived : {false, true}) {
      INFO("body " << size << (long_lived ? ", long-lived" : ""));
      TestServer server;
      Fixture fx;
      Recorder r;
      auto body = make_body(size);
      std::weak_ptr<const std::string> held = body;
      UpstreamRequest req;
      req.method = "POST";
      req.url = server.url("/stream?chunks=3&interval_ms=100&size=10");
      req.body = body;
      req.long_lived = long_lived;
      bool let_go_at_head = false;
      r.on_head = [&] { let_go_at_head = held.expired(); };
      const std::string sent = *body;
      body.reset();
      auto t = fx.start(std::move(req), r);
      REQUIRE(fx.run_until([&] { return r.done(); }));
      CHECK(r.ok());
      CHECK(let_go_at_head);
      CHECK(r.body == "aaaaaaaaaabbbbbbbbbbcccccccccc");
      auto seen = server.seen();
      REQUIRE(seen.size() == 1);
      CHECK(seen[0].body == sent);
      fx.finish();
    }
  }
}

TEST_CASE("an upstream that answers before it read the body: the body is kept and sent whole") {
  // 32 MiB is more than loopback's socket buffers take, so most of it is still to be sent when
  // the head arrives; had the transfer let go, libcurl would read freed (unmapped) memory.
  for (bool long_lived : {false, true}) {
    INFO((long_lived ? "long-lived" : "short"));
    TestServer server;
    Fixture fx;
    Recorder r;
    auto body = make_body(32 * 1024 * 1024);
    const std::string expected =
        std::to_string(body->size()) + " " + std::to_string(fnv1a(kFnvBasis, *body));
    std::weak_ptr<const std::string> held = body;
    UpstreamRequest req;
    req.method = "POST";
    req.url = server.url("/early");
    req.body = std::move(body);
    req.long_lived = long_lived;
    bool held_at_head = false;
    r.on_head = [&] { held_at_head = !held.expired(); };
    auto t = fx.start(std::move(req), r);
    REQUIRE(fx.run_until([&] { return r.done(); }, 15000));
    CHECK(r.ok());
    CHECK(r.status == 200);
    CHECK(held_at_head);
    CHECK(r.body == expected);
    t.reset();
    CHECK(held.expired());  // and let go of at the end
    fx.finish();
  }
}
