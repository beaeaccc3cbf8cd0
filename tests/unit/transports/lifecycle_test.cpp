// Ends of life: a Transfer destroyed from inside its own callbacks (while libcurl is on the
// stack), from another transfer's callbacks, mid-stream from outside, or after done; transfers
// started from inside callbacks; and the transport closed or destroyed with transfers alive.
// Every case must stop handler calls at once, close the upstream connection (the server sees it
// within a second) and leave the loop empty.
#include <doctest/doctest.h>

#include "test_support.h"

using namespace gemgate::transport;
using namespace gemgate::transport::testing;

TEST_CASE("destroyed inside on_upstream_head: no more calls, upstream closed") {
  TestServer server;
  Fixture fx;
  Recorder r;
  std::unique_ptr<Transfer> t;
  r.on_head = [&] { t.reset(); };
  t = fx.get(server.url("/stall?chunks=3"), r);
  REQUIRE(fx.run_until([&] { return r.heads == 1; }));
  CHECK(server.wait_client_closes(1, 1000));
  fx.run_for(100);
  CHECK(r.chunks == 0);
  CHECK(r.dones == 0);
  CHECK(fx.transport().active_transfers() == 0);
  CHECK(fx.transport().stats().cancelled == 1);
  fx.finish();
}

TEST_CASE("destroyed inside on_upstream_data: the chunk was the last call") {
  TestServer server;
  Fixture fx;
  Recorder r;
  std::unique_ptr<Transfer> t;
  r.on_data = [&](std::string_view) { t.reset(); };
  t = fx.get(server.url("/stall?chunks=50&size=1000"), r);
  REQUIRE(fx.run_until([&] { return r.chunks >= 1; }));
  Clock::time_point destroyed = Clock::now();
  REQUIRE(server.wait_client_closes(1, 1000));
  CHECK(ms_between(destroyed, server.last_client_close()) < 1000);
  fx.run_for(100);
  CHECK(r.chunks == 1);
  CHECK(r.dones == 0);
  CHECK(fx.transport().active_transfers() == 0);
  CHECK(fx.transport().open_sockets() == 0);
  fx.finish();
}

TEST_CASE("destroyed inside on_upstream_done, and destroyed long after done") {
  TestServer server;
  Fixture fx;
  Recorder a, b;
  std::unique_ptr<Transfer> ta, tb;
  a.on_done = [&] { ta.reset(); };
  ta = fx.get(server.url("/json"), a);
  tb = fx.get(server.url("/json"), b);
  REQUIRE(fx.run_until([&] { return a.done() && b.done(); }));
  CHECK(a.ok());
  CHECK(b.ok());
  CHECK(ta == nullptr);
  fx.run_for(50);
  tb->pause();  // inert after done
  tb->resume();
  tb.reset();
  CHECK(fx.transport().stats().cancelled == 0);
  fx.finish();
}

TEST_CASE("destroyed mid-stream from outside libcurl: server sees the close within 1 s") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto t = fx.get(server.url("/stall?chunks=2"), r);
  REQUIRE(fx.run_until([&] { return r.body.size() == 32; }));
  Clock::time_point destroyed = Clock::now();
  t.reset();
  REQUIRE(server.wait_client_closes(1, 1000));
  CHECK(ms_between(destroyed, server.last_client_close()) < 1000);
  CHECK(fx.transport().active_transfers() == 0);
  fx.finish();
}

TEST_CASE("destroyed right after start, before the loop ever ran") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto t = fx.get(server.url("/json"), r);
  t.reset();
  fx.run_for(200);
  CHECK(r.heads + r.chunks + r.dones == 0);
  CHECK(fx.transport().active_transfers() == 0);
  fx.finish();
}

TEST_CASE("destroyed while resume() is re-entering its data callback") {
  TestServer server;
  Fixture fx;
  Recorder r;
  std::unique_ptr<Transfer> t;
  // /json sends head and body in one write, so libcurl reads both at once and must hold the body.
  t = fx.get(server.url("/json"), r);
  t->pause();  // the head still comes
  REQUIRE(fx.run_until([&] { return r.heads == 1; }));
  fx.run_for(50);
  CHECK(r.chunks == 0);
  CHECK_FALSE(r.done());
  r.on_data = [&](std::string_view) { t.reset(); };
  Transfer* raw = t.get();
  raw->resume();  // hands over the held body before returning; the callback destroys `raw`
  CHECK(r.chunks == 1);
  CHECK(t == nullptr);
  fx.run_for(50);
  CHECK(r.dones == 0);
  CHECK(fx.transport().active_transfers() == 0);
  CHECK(fx.transport().stats().cancelled == 1);
  fx.finish();
}

TEST_CASE("a callback destroys another transfer, and starts a new one") {
  TestServer server;
  Fixture fx;
  Recorder a, b, c;
  std::unique_ptr<Transfer> ta, tb, tc;
  tb = fx.get(server.url("/stall?chunks=1"), b);
  REQUIRE(fx.run_until([&] { return b.chunks == 1; }));
  a.on_data = [&](std::string_view) {
    if (a.chunks == 1) {
      tb.reset();                           // inside libcurl: removal is deferred
      tc = fx.get(server.url("/echo"), c);  // inside libcurl: adding is deferred
    }
  };
  ta = fx.get(server.url("/stream?chunks=3&interval_ms=20"), a);
  REQUIRE(fx.run_until([&] { return a.done() && c.done(); }));
  CHECK(a.ok());
  CHECK(c.ok());
  CHECK(b.dones == 0);
  CHECK(server.wait_client_closes(1, 1000));  // b's connection
  CHECK(fx.transport().active_transfers() == 0);
  fx.finish();
}

TEST_CASE("close() with live transfers: each hears done once, upstreams closed, loop empty") {
  TestServer server;
  Fixture fx;
  Recorder r[3];
  std::unique_ptr<Transfer> t[3];
  for (int i = 0; i < 3; ++i) t[i] = fx.get(server.url("/stall?chunks=1"), r[i]);
  REQUIRE(fx.run_until([&] { return r[0].chunks && r[1].chunks && r[2].chunks; }));
  r[1].on_done = [&] { t[2].reset(); };  // a handler cancelling another one during close
  fx.transport().close();
  CHECK(r[0].dones == 1);
  CHECK(r[1].dones == 1);
  REQUIRE(r[0].failure);
  CHECK(r[0].failure->kind == FailureKind::kInternal);
  CHECK(r[0].failure->response_started);
  CHECK(r[0].out_of_order + r[1].out_of_order + r[2].out_of_order == 0);
  CHECK(fx.transport().active_transfers() == 0);
  CHECK(server.wait_client_closes(3, 1000));

  Recorder late;
  auto tl = fx.get(server.url("/json"), late);  // after close: fails, asynchronously
  CHECK_FALSE(late.done());
  REQUIRE(fx.run_until([&] { return late.done(); }));
  REQUIRE(late.failure);
  CHECK(late.failure->message == "transport closed");
  fx.finish();
}

TEST_CASE("close() from inside a data callback takes effect once libcurl returns") {
  TestServer server;
  Fixture fx;
  Recorder r;
  r.on_data = [&](std::string_view) { fx.transport().close(); };
  auto t = fx.get(server.url("/stall?chunks=3"), r);
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.chunks == 1);
  REQUIRE(r.failure);
  CHECK(r.failure->message == "transport closed");
  CHECK(server.wait_client_closes(1, 1000));
  fx.finish();
}

TEST_CASE("the transport destroyed while handles still exist; the handles stay inert") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto t = fx.get(server.url("/stall?chunks=1"), r);
  REQUIRE(fx.run_until([&] { return r.chunks == 1; }));
  fx.reset_transport();
  CHECK(r.dones == 1);
  t->pause();
  t->resume();
  t.reset();
  CHECK(server.wait_client_closes(1, 1000));
  fx.finish();
}
