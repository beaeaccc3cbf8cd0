// Streamed request bodies (UpstreamRequest::body_stream): the transfer pulls the body from a
// source that hands it out in pieces and says "wait" in between; the upload pauses on kWait and
// goes on at the wake-up, the bytes arrive whole and in order with the announced length, a
// failing source fails the transfer, and a second transfer with the same source starts over
// while the source can rewind, else it fails instead of sending a body with a hole in it.
#include <cstring>
#include <deque>
#include <doctest/doctest.h>

#include "test_support.h"

using namespace gemgate;
using namespace gemgate::transport;
using namespace gemgate::transport::testing;

namespace {

// A source fed by the test: pieces queued with add(), the end with end(); wake-ups run from a
// loop timer (a later turn, as the contract says).
class TestSource final : public http::BodySource {
 public:
  TestSource(Fixture& fx, int64_t length) : fx_(fx), length_(length) {}
  void add(std::string piece) {
    data_ += piece;
    wake();
  }
  void end() {
    ended_ = true;
    wake();
  }
  void fail() {
    failed_ = true;
    wake();
  }
  int waits = 0;
  int wakes = 0;
  bool rewindable = true;

  int64_t length() const override { return length_; }
  std::ptrdiff_t read(char* dest, size_t size) override {
    if (failed_) return kFailed;
    size_t n = std::min(size, data_.size() - pos_);
    if (n == 0) {
      if (ended_) return 0;
      ++waits;
      waiting_ = true;
      return kWait;
    }
    std::memcpy(dest, data_.data() + pos_, n);
    pos_ += n;
    return static_cast<std::ptrdiff_t>(n);
  }
  void set_wakeup(std::function<void()> w) override { wakeup_ = std::move(w); }
  uint64_t consumed() const override { return pos_; }
  bool can_rewind() const override { return rewindable; }
  bool rewind() override {
    if (!rewindable) return false;
    pos_ = 0;
    return true;
  }

 private:
  void wake() {
    if (!waiting_) return;
    waiting_ = false;
    fx_.after(1, [this] {
      ++wakes;
      if (wakeup_) wakeup_();
    });
  }
  Fixture& fx_;
  int64_t length_;
  std::string data_;
  size_t pos_ = 0;
  bool ended_ = false, failed_ = false, waiting_ = false;
  std::function<void()> wakeup_;
};

UpstreamRequest echo_request(TestServer& server, std::shared_ptr<http::BodySource> source) {
  UpstreamRequest req;
  req.method = "POST";
  req.url = server.url("/echo");
  req.headers.add("content-type", "application/octet-stream");
  req.body_stream = std::move(source);
  return req;
}

}  // namespace

TEST_CASE("a body that arrives in pieces: the upload waits, resumes, and arrives whole") {
  TestServer server;
  Fixture fx;
  Recorder r;
  const size_t kPiece = 100 * 1024, kPieces = 20;
  auto source = std::make_shared<TestSource>(fx, static_cast<int64_t>(kPiece * kPieces));
  std::string expected;
  for (size_t i = 0; i < kPieces; ++i) expected += std::string(kPiece, static_cast<char>('a' + i));
  auto t = fx.start(echo_request(server, source), r);
  size_t given = 0;
  // One piece per 5 ms from the loop: the transfer runs dry between them.
  std::function<void()> feed = [&] {
    source->add(expected.substr(given * kPiece, kPiece));
    if (++given < kPieces) fx.after(5, feed);
  };
  fx.after(5, feed);
  REQUIRE(fx.run_until([&] { return r.done(); }, 30000));
  CHECK(r.ok());
  CHECK(r.status == 200);
  CHECK(r.body == expected);
  CHECK(source->waits > 0);  // it really waited for the source
  CHECK(source->wakes > 0);
  auto seen = server.seen();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].header("content-length") == std::to_string(expected.size()));
  CHECK_FALSE(seen[0].has("expect"));
  fx.finish();
}

TEST_CASE("a failing source fails the transfer (reset), nothing else is sent") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto source = std::make_shared<TestSource>(fx, 1 << 20);
  source->add(std::string(4096, 'x'));
  auto t = fx.start(echo_request(server, source), r);
  fx.after(20, [&] { source->fail(); });
  REQUIRE(fx.run_until([&] { return r.done(); }, 10000));
  REQUIRE(r.failure);
  CHECK(r.failure->kind == FailureKind::kReset);
  CHECK(server.requests() == 0);  // the server never saw a whole request
  fx.finish();
}

TEST_CASE("a second transfer with the same source starts over while it can rewind, else fails") {
  TestServer server;
  Fixture fx;
  auto source = std::make_shared<TestSource>(fx, 5);
  source->add("hello");
  source->end();
  Recorder first;
  auto t1 = fx.start(echo_request(server, source), first);
  REQUIRE(fx.run_until([&] { return first.done(); }));
  CHECK(first.body == "hello");
  Recorder second;
  auto t2 = fx.start(echo_request(server, source), second);
  REQUIRE(fx.run_until([&] { return second.done(); }));
  CHECK(second.ok());
  CHECK(second.body == "hello");

  source->rewindable = false;
  Recorder third;
  auto t3 = fx.start(echo_request(server, source), third);
  REQUIRE(fx.run_until([&] { return third.done(); }));
  REQUIRE(third.failure);
  CHECK(server.requests() == 2);
  fx.finish();
}

TEST_CASE("cancelling a transfer that waits for its source leaves nothing behind") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto source = std::make_shared<TestSource>(fx, 1000);
  source->add("abc");
  auto t = fx.start(echo_request(server, source), r);
  fx.run_for(50);
  CHECK(source->waits > 0);
  t.reset();
  source->add("more");  // the wake-up finds the transfer gone
  fx.run_for(20);
  CHECK(r.dones == 0);
  fx.finish();
}

TEST_CASE("an upstream that stops taking the body after a send pause: the idle deadline fires") {
  // The send pause (the source was empty) rests the idle deadline; the wake-up that lifts the
  // pause must arm it again, or a transfer whose upstream then never reads waits forever.
  TestServer server;
  Fixture fx;
  Recorder r;
  const size_t kPiece = 1024 * 1024, kPieces = 64;
  auto source = std::make_shared<TestSource>(fx, static_cast<int64_t>(kPiece * kPieces));
  UpstreamRequest req = echo_request(server, source);
  req.url = server.url("/sink");
  req.timeouts.idle_ms = 300;
  auto t = fx.start(std::move(req), r);
  size_t given = 0;
  std::function<void()> feed = [&] {
    source->add(std::string(kPiece, 'z'));
    if (++given < kPieces && !r.done()) fx.after(10, feed);
  };
  fx.after(50, feed);  // the transfer waits for its source first
  REQUIRE(fx.run_until([&] { return r.done(); }, 15000));
  CHECK(source->waits > 0);
  CHECK(source->wakes > 0);
  REQUIRE(r.failure);
  CHECK(r.failure->kind == FailureKind::kTimeout);
  CHECK(r.failure->message.find("took no request body bytes") != std::string::npos);
  // (The server cannot see the close: the FIN waits behind the body bytes it never reads.)
  CHECK(fx.transport().active_transfers() == 0);
  fx.run_for(50);  // the feeder's last timer runs out (it stops once the transfer is done)
  fx.finish();
}
