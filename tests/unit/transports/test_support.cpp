// Fixture and Recorder for the transport tests; see test_support.h.
#include "test_support.h"

#include <doctest/doctest.h>
#include <exception>
#include <string>

namespace gemgate::transport::testing {

void Recorder::on_upstream_head(int s, http::HeaderMap h) {
  if (heads > 0 || dones > 0) ++out_of_order;
  ++heads;
  head_at = Clock::now();
  status = s;
  headers = std::move(h);
  if (on_head) on_head();
}

void Recorder::on_upstream_data(std::string_view chunk) {
  if (heads == 0 || dones > 0) ++out_of_order;
  ++chunks;
  body.append(chunk);
  chunk_at.push_back(Clock::now());
  chunk_sizes.push_back(chunk.size());
  if (on_data) on_data(chunk);
}

void Recorder::on_upstream_done(const Failure* f) {
  if (dones > 0) ++out_of_order;
  ++dones;
  done_at = Clock::now();
  if (f) failure = *f;
  if (on_done) on_done();
}

Fixture::Fixture(CurlMultiTransport::Options options) {
  uv_loop_init(&loop_);
  auto created = CurlMultiTransport::create(&loop_, options);
  REQUIRE(created.ok());
  transport_ = std::move(created.value());
}

namespace {

// libuv's MAKE_VALGRIND_HAPPY (test/task.h), failing instead of hanging: lets pending closes
// complete, fails the test listing every handle still open (then closes them, so the loop can
// end), runs the loop dry and checks that it closes. Returns whether nothing was left open.
bool close_loop_checked(uv_loop_t* loop) {
  for (int i = 0; i < 5; ++i) uv_run(loop, UV_RUN_NOWAIT);  // close callbacks of the owners
  std::string open;
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        if (uv_is_closing(h)) return;
        auto* list = static_cast<std::string*>(arg);
        *list += std::string(list->empty() ? "" : ", ") + uv_handle_type_name(h->type);
        uv_close(h, nullptr);
      },
      &open);
  if (!open.empty()) FAIL_CHECK("handles left open on the loop: " << open);
  uv_run(loop, UV_RUN_DEFAULT);
  int closed = uv_loop_close(loop);
  CHECK(closed == 0);
  return open.empty() && closed == 0;
}

}  // namespace

Fixture::~Fixture() {
  if (finished_) return;
  transport_.reset();
  // A test that stopped early on a failed REQUIRE already failed; do not pile on while unwinding.
  if (std::uncaught_exceptions() > 0) {
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    return;
  }
  close_loop_checked(&loop_);
}

std::unique_ptr<Transfer> Fixture::get(const std::string& url, Recorder& r, Timeouts t) {
  UpstreamRequest req;
  req.method = "GET";
  req.url = url;
  req.timeouts = t;
  return start(std::move(req), r);
}

std::unique_ptr<Transfer> Fixture::start(UpstreamRequest req, Recorder& r) {
  return transport_->start(std::move(req), r);
}

bool Fixture::run_until(const std::function<bool()>& pred, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  uv_timer_t tick;  // wakes the loop so the predicate is checked even when nothing happens
  uv_timer_init(&loop_, &tick);
  uv_timer_start(
      &tick, [](uv_timer_t*) {}, 2, 2);
  bool ok = pred();
  while (!ok && Clock::now() < deadline) {
    uv_run(&loop_, UV_RUN_ONCE);
    ok = pred();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(&loop_, UV_RUN_NOWAIT);  // lets the close complete before `tick` leaves scope
  return ok;
}

void Fixture::run_for(int ms) {
  auto until = Clock::now() + std::chrono::milliseconds(ms);
  run_until([&] { return Clock::now() >= until; }, ms + 1000);
}

void Fixture::after(int ms, std::function<void()> fn) {
  struct Shot {
    uv_timer_t timer;
    std::function<void()> fn;
  };
  auto* shot = new Shot{{}, std::move(fn)};
  uv_timer_init(&loop_, &shot->timer);
  shot->timer.data = shot;
  uv_timer_start(
      &shot->timer,
      [](uv_timer_t* t) {
        auto* s = static_cast<Shot*>(t->data);
        auto fn = std::move(s->fn);
        uv_close(reinterpret_cast<uv_handle_t*>(t),
                 [](uv_handle_t* h) { delete static_cast<Shot*>(h->data); });
        fn();
      },
      static_cast<uint64_t>(ms), 0);
}

void Fixture::finish() {
  REQUIRE(!finished_);
  finished_ = true;
  transport_.reset();
  close_loop_checked(&loop_);
}

}  // namespace gemgate::transport::testing
