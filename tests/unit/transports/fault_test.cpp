// Upstream faults (hardening plan T23, T24, T26): refused and hanging connects, silence before
// the head, silence mid-body, an overall deadline, a connection cut before or during the body,
// oversized heads and replies that are not HTTP. Each must end in exactly one done with the
// right FailureKind, promptly, with the upstream connection closed.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_support.h"

using namespace gemgate::transport;
using namespace gemgate::transport::testing;

namespace {

// A loopback port nobody listens on.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Failure run_to_failure(Fixture& fx, Recorder& r, int timeout_ms = 5000) {
  REQUIRE(fx.run_until([&] { return r.done(); }, timeout_ms));
  REQUIRE(r.failure);
  CHECK(r.dones == 1);
  CHECK(r.out_of_order == 0);
  return *r.failure;
}

}  // namespace

TEST_CASE("connection refused: kConnectFailed at once; the message keeps the query out") {
  Fixture fx;
  Recorder r;
  auto started = Clock::now();
  auto t = fx.get("http://127.0.0.1:" + std::to_string(closed_port()) + "/v1/x?key=AIzaSECRET", r);
  Failure f = run_to_failure(fx, r);
  long elapsed = ms_between(started, r.done_at);
  MESSAGE("refused after " << elapsed << " ms: " << f.message);
  CHECK(f.kind == FailureKind::kConnectFailed);
  CHECK_FALSE(f.response_started);
  CHECK(elapsed < 500);
  CHECK(f.message.find("127.0.0.1") != std::string::npos);
  CHECK(f.message.find("SECRET") == std::string::npos);
  CHECK(f.message.find("/v1/x") == std::string::npos);
  fx.finish();
}

TEST_CASE("connect that never completes: kTimeout at the connect deadline") {
  // A listener with a full accept queue that never accepts: further SYNs are dropped.
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(lfd, 0);
  socklen_t len = sizeof addr;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  ::usleep(50 * 1000);

  Fixture fx;
  Recorder r;
  Timeouts to;
  to.connect_ms = 300;
  auto started = Clock::now();
  auto t = fx.get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", r, to);
  Failure f = run_to_failure(fx, r);
  long elapsed = ms_between(started, r.done_at);
  MESSAGE("connect gave up after " << elapsed << " ms: " << f.message);
  CHECK(f.kind == FailureKind::kTimeout);
  CHECK(f.message.find("connect deadline") != std::string::npos);
  CHECK(elapsed >= 250);
  CHECK(elapsed < 800);
  t.reset();
  fx.finish();
  for (int fd : fillers) ::close(fd);
  ::close(lfd);
}

TEST_CASE("first-byte deadline: no head in time → kTimeout, upstream closed") {
  TestServer server;
  Fixture fx;
  Recorder r;
  Timeouts to;
  to.first_byte_ms = 300;
  auto started = Clock::now();
  auto t = fx.get(server.url("/hang_head?ms=5000"), r, to);
  Failure f = run_to_failure(fx, r);
  long elapsed = ms_between(started, r.done_at);
  CHECK(f.kind == FailureKind::kTimeout);
  CHECK(f.message.find("first-byte") != std::string::npos);
  CHECK_FALSE(f.response_started);
  CHECK(elapsed >= 290);
  CHECK(elapsed < 800);
  REQUIRE(server.wait_client_closes(1, 1000));
  CHECK(ms_between(r.done_at, server.last_client_close()) < 1000);
  CHECK(fx.transport().active_transfers() == 0);
  fx.finish();
}

TEST_CASE("idle deadline: silence after the first chunk → kTimeout, response started") {
  TestServer server;
  Fixture fx;
  Recorder r;
  Timeouts to;
  to.idle_ms = 300;
  auto t = fx.get(server.url("/stall?chunks=1"), r, to);
  Failure f = run_to_failure(fx, r);
  CHECK(f.kind == FailureKind::kTimeout);
  CHECK(f.message.find("idle") != std::string::npos);
  CHECK(f.response_started);
  CHECK(r.chunks == 1);
  REQUIRE(r.chunk_at.size() == 1);
  long gap = ms_between(r.chunk_at[0], r.done_at);
  CHECK(gap >= 290);
  CHECK(gap < 800);
  CHECK(server.wait_client_closes(1, 1000));
  fx.finish();
}

TEST_CASE("idle deadline is not tripped by a steady stream slower than nothing") {
  TestServer server;
  Fixture fx;
  Recorder r;
  Timeouts to;
  to.idle_ms = 200;
  auto t = fx.get(server.url("/stream?chunks=12&interval_ms=60"), r, to);  // 720 ms in all
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());
  fx.finish();
}

TEST_CASE("total deadline: a stream that runs too long → kTimeout") {
  TestServer server;
  Fixture fx;
  Recorder r;
  Timeouts to;
  to.total_ms = 400;
  auto started = Clock::now();
  auto t = fx.get(server.url("/stream?chunks=40&interval_ms=50"), r, to);
  Failure f = run_to_failure(fx, r);
  long elapsed = ms_between(started, r.done_at);
  CHECK(f.kind == FailureKind::kTimeout);
  CHECK(f.message.find("total") != std::string::npos);
  CHECK(f.response_started);
  CHECK(elapsed >= 390);
  CHECK(elapsed < 900);
  CHECK(r.chunks >= 3);
  CHECK(server.wait_client_closes(1, 1000));
  fx.finish();
}

TEST_CASE("end_total_deadline at the head: the same long stream completes") {
  TestServer server;
  Fixture fx;
  Recorder r;
  Timeouts to;
  to.total_ms = 200;
  std::unique_ptr<Transfer> t;
  r.on_head = [&] { t->end_total_deadline(); };  // from inside libcurl's header callback
  t = fx.get(server.url("/stream?chunks=12&interval_ms=50"), r, to);  // 600 ms in all
  REQUIRE(fx.run_until([&] { return r.done(); }));
  CHECK(r.ok());
  CHECK(r.chunks >= 12);
  fx.finish();
}

TEST_CASE("oversized response head → kProtocol, nothing delivered") {
  TestServer server;
  Fixture fx;
  Recorder many, one_line;
  auto a = fx.get(server.url("/huge_headers?count=100&size=1000"), many);  // ~100 KiB
  auto b = fx.get(server.url("/huge_headers?count=1&size=150000"), one_line);
  REQUIRE(fx.run_until([&] { return many.done() && one_line.done(); }));
  REQUIRE(many.failure);
  CHECK(many.failure->kind == FailureKind::kProtocol);
  CHECK(many.failure->message.find("exceeds 65536 bytes") != std::string::npos);
  CHECK(many.heads == 0);
  REQUIRE(one_line.failure);
  MESSAGE("one 150 KB line: " << one_line.failure->message);
  CHECK(one_line.failure->kind == FailureKind::kProtocol);
  CHECK(one_line.heads == 0);
  fx.finish();
}

TEST_CASE("connection cut: before the head → kReset; mid-body → kReset, response started") {
  TestServer server;
  Fixture fx;
  Recorder drop, cut;
  auto a = fx.get(server.url("/drop"), drop);
  auto b = fx.get(server.url("/close_mid"), cut);
  REQUIRE(fx.run_until([&] { return drop.done() && cut.done(); }));
  REQUIRE(drop.failure);
  CHECK(drop.failure->kind == FailureKind::kReset);
  CHECK_FALSE(drop.failure->response_started);
  REQUIRE(cut.failure);
  CHECK(cut.failure->kind == FailureKind::kReset);
  CHECK(cut.failure->response_started);
  CHECK(cut.status == 200);
  CHECK(cut.body == std::string(100, 'x'));
  CHECK(server.requests() == 2);  // libcurl did not quietly try again
  fx.finish();
}

TEST_CASE("a reply that is not HTTP → kProtocol") {
  TestServer server;
  Fixture fx;
  Recorder r;
  auto t = fx.get(server.url("/garbage"), r);
  Failure f = run_to_failure(fx, r);
  MESSAGE("garbage: " << f.message);
  CHECK(f.kind == FailureKind::kProtocol);
  fx.finish();
}
