// Shared pieces of the transport tests: a loop + transport fixture that checks, libuv style,
// that a test left nothing open; and a handler that records every event with its time and lets
// a test react from inside the callbacks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <uv.h>
#include <vector>

#include "test_server.h"
#include "transports/curl_multi_transport.h"

namespace gemgate::transport::testing {

class Recorder : public UpstreamHandler {
 public:
  int status = 0;
  http::HeaderMap headers;
  std::string body;
  int heads = 0, chunks = 0, dones = 0;
  int out_of_order = 0;  // events after done, data before head, a second head or done
  std::optional<Failure> failure;
  Clock::time_point head_at{}, done_at{};
  std::vector<Clock::time_point> chunk_at;
  std::vector<size_t> chunk_sizes;

  // Optional reactions, called after the event was recorded.
  std::function<void()> on_head;
  std::function<void(std::string_view)> on_data;
  std::function<void()> on_done;

  bool done() const { return dones > 0; }
  bool ok() const { return dones == 1 && !failure; }

  void on_upstream_head(int s, http::HeaderMap h) override;
  void on_upstream_data(std::string_view chunk) override;
  void on_upstream_done(const Failure* f) override;
};

class Fixture {
 public:
  explicit Fixture(CurlMultiTransport::Options options = {});
  ~Fixture();

  uv_loop_t* loop() { return &loop_; }
  CurlMultiTransport& transport() { return *transport_; }
  // Drops the transport early (e.g. to test destruction with transfers alive).
  void reset_transport() { transport_.reset(); }

  // Starts a request with default timeouts unless given.
  std::unique_ptr<Transfer> get(const std::string& url, Recorder& r, Timeouts t = {});
  std::unique_ptr<Transfer> start(UpstreamRequest req, Recorder& r);

  // Runs the loop until `pred` holds or `timeout_ms` passed; returns pred().
  bool run_until(const std::function<bool()>& pred, int timeout_ms = 5000);
  void run_for(int ms);
  // Calls `fn` from a loop timer after `ms` (outside any libcurl callback).
  void after(int ms, std::function<void()> fn);

  // Destroys the transport, runs the loop dry and fails the test, listing the handle types, when
  // anything was left open (then uv_loop_close must succeed). Every test calls it last; the
  // destructor does the same check for a test that did not.
  void finish();

 private:
  uv_loop_t loop_;
  std::unique_ptr<CurlMultiTransport> transport_;
  bool finished_ = false;
};

// Milliseconds between two instants.
inline long ms_between(Clock::time_point a, Clock::time_point b) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
}

}  // namespace gemgate::transport::testing
