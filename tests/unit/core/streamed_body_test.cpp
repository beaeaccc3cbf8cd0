// StreamedBody (core/server/streamed_body.h): the connection's side of a streamed request body.
// What the reader depends on: bytes come out in order and whole, kWait is followed by exactly one
// wake-up on a later loop turn (never inside push), the end and a failure are final, the high and
// low watermarks tell the connection when to stop and restart reading, and a rewind is possible
// only while every byte read is still held.
#include "core/server/streamed_body.h"

#include <doctest/doctest.h>
#include <string>

#include "tests/unit/support/loop.h"

using namespace gemgate;
using namespace gemgate::server;
using namespace gemgate::testing;

namespace {

std::string read_all_now(StreamedBody& b, size_t step = 4096) {
  std::string out;
  char buf[65536];
  for (;;) {
    std::ptrdiff_t n = b.read(buf, std::min(step, sizeof buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

TEST_CASE("bytes come out in order; kWait, then one wake-up on a later turn; 0 at the end") {
  TestWorker w(0);
  auto body = std::make_shared<StreamedBody>(w, 11);
  int wakes = 0;
  body->set_wakeup([&] { ++wakes; });
  char buf[16];
  CHECK(body->read(buf, sizeof buf) == http::BodySource::kWait);
  body->push("hello ");
  CHECK(wakes == 0);  // never inside push()
  body->push("world");
  pump(w);
  CHECK(wakes == 1);  // one wake-up for both pushes
  CHECK(read_all_now(*body) == "hello world");
  CHECK(body->read(buf, sizeof buf) == http::BodySource::kWait);
  body->finish();
  pump(w);
  CHECK(wakes == 2);
  CHECK(body->read(buf, sizeof buf) == 0);
  CHECK(body->read(buf, sizeof buf) == 0);  // the end is final
  CHECK(body->length() == 11);
  CHECK(body->consumed() == 11);
}

TEST_CASE("no wake-up when the reader did not wait, nor after it went away") {
  TestWorker w(0);
  auto body = std::make_shared<StreamedBody>(w, -1);
  int wakes = 0;
  body->set_wakeup([&] { ++wakes; });
  body->push("abc");
  pump(w);
  CHECK(wakes == 0);
  char buf[8];
  CHECK(body->read(buf, sizeof buf) == 3);
  CHECK(body->read(buf, sizeof buf) == http::BodySource::kWait);
  body->set_wakeup(nullptr);
  body->push("d");
  pump(w);
  CHECK(wakes == 0);
  // The body may die before its wake-up tick runs: the tick finds nothing to do.
  CHECK(body->read(buf, sizeof buf) == 1);
  CHECK(body->read(buf, sizeof buf) == http::BodySource::kWait);
  body->set_wakeup([&] { ++wakes; });
  CHECK(body->read(buf, sizeof buf) == http::BodySource::kWait);
  body->push("e");
  body.reset();
  pump(w);
  CHECK(wakes == 0);
}

TEST_CASE("a failure is final and wakes a waiting reader") {
  TestWorker w(0);
  auto body = std::make_shared<StreamedBody>(w, 100);
  int wakes = 0;
  body->set_wakeup([&] { ++wakes; });
  body->push("partial");
  char buf[4];
  CHECK(body->read(buf, sizeof buf) == 4);
  body->fail();
  CHECK(body->read(buf, sizeof buf) == http::BodySource::kFailed);
  CHECK_FALSE(body->can_rewind());
  CHECK_FALSE(body->rewind());
  body->push("more");  // ignored
  body->finish();      // ignored
  CHECK(body->read(buf, sizeof buf) == http::BodySource::kFailed);
}

TEST_CASE(
    "watermarks: push asks to stop above the high one; draining under the low one says so once") {
  TestWorker w(0);
  auto body = std::make_shared<StreamedBody>(w, -1);
  int drained = 0;
  body->set_on_drained([&] { ++drained; });
  std::string piece(64 * 1024, 'x');
  bool stop = false;
  size_t pushed = 0;
  while (!stop) {
    stop = body->push(piece);
    pushed += piece.size();
  }
  CHECK(pushed >= StreamedBody::kHighWatermark);
  CHECK(pushed < StreamedBody::kHighWatermark + piece.size() + 1);
  std::string buf(64 * 1024, '\0');
  while (body->buffered() >= StreamedBody::kLowWatermark) {
    CHECK(drained == 0);
    REQUIRE(body->read(buf.data(), buf.size()) > 0);
  }
  CHECK(drained == 1);
  while (body->read(buf.data(), buf.size()) > 0) {
  }
  CHECK(drained == 1);  // once per stop
}

TEST_CASE("rewind: possible while every byte read is held (a small prefix), then never") {
  TestWorker w(0);
  auto body = std::make_shared<StreamedBody>(w, -1);
  std::string small(1000, 'a');
  body->push(small);
  CHECK(read_all_now(*body) == small);
  CHECK(body->can_rewind());
  CHECK(body->rewind());
  CHECK(body->consumed() == 0);
  CHECK(read_all_now(*body) == small);  // the same bytes again

  std::string big(StreamedBody::kReplayBytes, 'b');
  body->push(big);
  CHECK(read_all_now(*body) == big);
  CHECK_FALSE(body->can_rewind());
  CHECK_FALSE(body->rewind());
  body->push("tail");
  CHECK(read_all_now(*body) == "tail");  // reading goes on where it was
}

TEST_CASE("memory: a long body through a steady reader stays near the watermark") {
  TestWorker w(0);
  auto body = std::make_shared<StreamedBody>(w, -1);
  std::string piece(64 * 1024, 'z');
  std::string buf(16 * 1024, '\0');
  uint64_t out = 0;
  for (int i = 0; i < 2000; ++i) {  // 125 MiB in all
    body->push(piece);
    while (body->buffered() > StreamedBody::kLowWatermark) {
      out += static_cast<uint64_t>(body->read(buf.data(), buf.size()));
    }
    CHECK(body->buffered() <= StreamedBody::kHighWatermark);
  }
  body->finish();
  for (std::ptrdiff_t n; (n = body->read(buf.data(), buf.size())) > 0;) out += n;
  CHECK(out == 2000ull * piece.size());
}
