// Backpressure: pause() must stop delivery and stop reading the socket (so a slow client slows
// the upstream instead of filling our memory), resume() must continue exactly where it stopped,
// and no chunk may be lost or delivered twice, however pause/resume are interleaved with
// libcurl's callbacks.
#include <algorithm>
#include <doctest/doctest.h>

#include "test_support.h"

using namespace gemgate::transport;
using namespace gemgate::transport::testing;

TEST_CASE("pause: delivery stops, the server blocks in send(), resume finishes intact") {
  TestServer server;
  Fixture fx;
  Recorder r;
  const uint64_t kBytes = 16 << 20;
  std::unique_ptr<Transfer> t;
  r.on_data = [&](std::string_view) {
    if (r.chunks == 1) t->pause();  // from inside the write callback
  };
  t = fx.get(server.url("/big?seed=5&bytes=" + std::to_string(kBytes)), r);
  REQUIRE(fx.run_until([&] { return r.chunks >= 1; }, 30000));  // slow under valgrind
  const int chunks_at_pause = r.chunks;
  const uint64_t actions_before = fx.transport().stats().socket_actions;
  fx.run_for(400);
  const uint64_t sent1 = server.big_bytes_sent();
  fx.run_for(400);
  const uint64_t sent2 = server.big_bytes_sent();
  CHECK(r.chunks == chunks_at_pause);
  CHECK(sent1 == sent2);      // the server is stuck: nobody reads the socket
  CHECK(sent2 < (8u << 20));  // only kernel buffers hold the rest, not our memory
  CHECK(fx.transport().stats().socket_actions - actions_before < 50);  // no busy loop
  CHECK_FALSE(r.done());
  MESSAGE("server had sent " << sent2 << " bytes while the client was paused");

  t->resume();  // outside libcurl
  REQUIRE(fx.run_until([&] { return r.done(); }, 30000));
  CHECK(r.ok());
  CHECK(r.body.size() == kBytes);
  CHECK(fnv1a(kFnvBasis, r.body) == big_checksum(kBytes, 5, false));
  fx.finish();
}

namespace {

// Pauses from inside the data callback every few chunks and resumes from a loop timer, with an
// occasional pause+resume within the same callback. Returns the recorder after completion.
void toggle_and_check(const std::string& query, uint64_t bytes, uint32_t seed, bool compressible) {
  TestServer server;
  Fixture fx;
  Recorder r;
  std::unique_ptr<Transfer> t;
  int pauses = 0;
  r.on_data = [&](std::string_view) {
    if (r.chunks % 5 == 0) {
      t->pause();
      ++pauses;
      fx.after(1 + r.chunks % 3, [&] { t->resume(); });
    } else if (r.chunks % 7 == 0) {
      t->pause();
      t->resume();
    }
  };
  t = fx.get(server.url(query), r);
  REQUIRE(fx.run_until([&] { return r.done(); }, 60000));
  CHECK(r.ok());
  CHECK(r.out_of_order == 0);
  CHECK(r.body.size() == bytes);
  CHECK(fnv1a(kFnvBasis, r.body) == big_checksum(bytes, seed, compressible));
  CHECK(pauses > 10);
  fx.run_for(20);  // let the last scheduled resume() run against the finished transfer
  fx.finish();
}

}  // namespace

TEST_CASE("pause/resume toggled from the data callback: nothing lost, nothing repeated") {
  toggle_and_check("/big?seed=7&bytes=4194304", 4 << 20, 7, false);
}

TEST_CASE("the same with gzip, where libcurl hands out decoded bursts and must hold the rest") {
  toggle_and_check("/big?gzip=1&compressible=1&seed=9&bytes=8388608", 8 << 20, 9, true);
}

TEST_CASE("two transfers pausing themselves and resuming each other from their callbacks") {
  TestServer server;
  Fixture fx;
  Recorder a, b;
  std::unique_ptr<Transfer> ta, tb;
  const uint64_t kBytes = 3 << 20;
  // Each pauses itself only while the other is alive to resume it.
  a.on_data = [&](std::string_view) {
    if (a.chunks % 3 == 0 && !b.done()) {
      ta->pause();
      tb->resume();
    }
  };
  b.on_data = [&](std::string_view) {
    if (b.chunks % 3 == 0 && !a.done()) {
      tb->pause();
      ta->resume();
    }
  };
  a.on_done = [&] { tb->resume(); };
  b.on_done = [&] { ta->resume(); };
  ta = fx.get(server.url("/big?seed=11&bytes=" + std::to_string(kBytes)), a);
  tb = fx.get(server.url("/big?seed=12&bytes=" + std::to_string(kBytes)), b);
  REQUIRE(fx.run_until([&] { return a.done() && b.done(); }, 60000));
  if (a.failure) MESSAGE("a failed: " << a.failure->message << " after " << a.body.size());
  if (b.failure) MESSAGE("b failed: " << b.failure->message << " after " << b.body.size());
  CHECK(a.ok());
  CHECK(b.ok());
  CHECK(fnv1a(kFnvBasis, a.body) == big_checksum(kBytes, 11, false));
  CHECK(fnv1a(kFnvBasis, b.body) == big_checksum(kBytes, 12, false));
  fx.finish();
}

TEST_CASE("paused before the head: the head arrives, the body waits for resume") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto t = fx.get(server.url("/json"), r);
  t->pause();
  fx.run_for(300);
  CHECK(r.heads == 1);
  CHECK(r.status == 200);
  CHECK(r.chunks == 0);
  CHECK_FALSE(r.done());  // the body is held, so the transfer is not over
  t->resume();
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());
  CHECK(r.body == R"({"ok":true})");
  fx.finish();
}

TEST_CASE("the idle deadline does not run while the consumer has paused") {
  TestServer server;
  Fixture fx;
  Recorder r;
  std::unique_ptr<Transfer> t;
  Clock::time_point resumed_at{};
  r.on_data = [&](std::string_view) {
    if (r.chunks == 2) {
      t->pause();
      fx.after(600, [&] {
        resumed_at = Clock::now();
        t->resume();
      });
    }
  };
  Timeouts to;
  to.idle_ms = 150;
  t = fx.get(server.url("/stream?chunks=10&interval_ms=30&size=10"), r, to);
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());  // 600 ms without data, four times the idle deadline, and no timeout
  CHECK(r.body.size() == 100);
  REQUIRE(r.chunk_at.size() >= 3);
  CHECK(ms_between(r.chunk_at[1], r.chunk_at[2]) >= 550);
  CHECK(r.chunk_at[2] >= resumed_at);
  fx.finish();
}

// UpstreamRequest::long_lived: the transfer reads into a 2 KiB buffer, and the next transfer on
// the same pooled handle into 8 KiB again. Paused after its first chunk, each transfer lets the
// kernel's buffers fill, so after resume() libcurl reads whole buffers: the largest chunk shows
// the buffer's size (the body is chunked in pieces up to 32 KiB, so a read may end early).
TEST_CASE("a long-lived transfer reads into a 2 KiB buffer; the next on its handle 8 KiB") {
  TestServer server;
  Fixture fx;
  const uint64_t kBytes = 1 << 20;
  auto largest_chunk = [&](bool long_lived) -> size_t {
    Recorder r;
    std::unique_ptr<Transfer> t;
    r.on_data = [&](std::string_view) {
      if (r.chunks == 1) t->pause();
    };
    UpstreamRequest req;
    req.method = "GET";
    req.url = server.url("/big?seed=11&bytes=" + std::to_string(kBytes));
    req.long_lived = long_lived;
    t = fx.start(std::move(req), r);
    if (!fx.run_until([&] { return r.chunks >= 1; }, 30000)) return 0;
    fx.run_for(200);  // the server fills the socket buffers meanwhile
    t->resume();
    if (!fx.run_until([&] { return r.done(); }, 30000)) return 0;
    CHECK(r.ok());
    CHECK(r.body.size() == kBytes);
    CHECK(fnv1a(kFnvBasis, r.body) == big_checksum(kBytes, 11, false));
    return *std::max_element(r.chunk_sizes.begin(), r.chunk_sizes.end());
  };
  size_t small = largest_chunk(true);
  CHECK(small > 0);
  CHECK(small <= 2048);
  size_t normal = largest_chunk(false);
  CHECK(normal > 2048);
  CHECK(normal <= 8192);
  small = largest_chunk(true);
  CHECK(small > 0);
  CHECK(small <= 2048);
  CHECK(fx.transport().stats().pooled_handles == 1);  // one handle did all three
  fx.finish();
}
