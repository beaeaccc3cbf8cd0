// Worker and Timer: post() never runs inline and works from other threads, next_tick() runs
// after the current callback (and chains), timers fire, stop and may die inside their callback.
#include "core/worker.h"

#include <atomic>
#include <doctest/doctest.h>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "tests/unit/support/loop.h"

using namespace gemgate;
using namespace gemgate::testing;

TEST_CASE("post() queues work for the loop; it never runs inline") {
  TestWorker w(0);
  int ran = 0;
  w.post([&ran] { ++ran; });
  CHECK(ran == 0);
  pump(w);
  CHECK(ran == 1);
  std::thread t([&w, &ran] {
    for (int i = 0; i < 100; ++i) w.post([&ran] { ++ran; });
  });
  t.join();
  CHECK(run_until(w, [&] { return ran == 101; }));
}

TEST_CASE("next_tick() runs after the current callback, in order, and may queue more") {
  TestWorker w(0);
  std::vector<int> order;
  w.next_tick([&] {
    order.push_back(1);
    w.next_tick([&] { order.push_back(3); });
  });
  w.next_tick([&] { order.push_back(2); });
  CHECK(order.empty());
  pump(w);
  CHECK(order == std::vector<int>{1, 2, 3});
}

namespace {
// Counts its runs; may queue itself (or another item) again from inside on_batch_end.
struct Flush : Worker::BatchEnd {
  int runs = 0;
  std::function<void()> then;
  void on_batch_end() override {
    ++runs;
    if (then) then();
  }
};
}  // namespace

TEST_CASE("at_batch_end() runs each item once per loop turn, in order, never inline") {
  TestWorker w(0);
  Flush a, b;
  std::vector<char> order;
  a.then = [&] { order.push_back('a'); };
  b.then = [&] { order.push_back('b'); };
  w.at_batch_end(a);
  w.at_batch_end(b);
  w.at_batch_end(a);  // already queued: still once
  CHECK(a.runs == 0);
  uv_run(w.loop(), UV_RUN_NOWAIT);
  CHECK(a.runs == 1);
  CHECK(b.runs == 1);
  CHECK(order == std::vector<char>{'a', 'b'});
  // Queued again from inside its own run: it runs again later (the check or prepare phase
  // that follows), not in a loop inside the same phase.
  a.then = [&] { w.at_batch_end(a); };
  w.at_batch_end(a);
  uv_run(w.loop(), UV_RUN_NOWAIT);
  CHECK(a.runs >= 2);
  CHECK(a.runs <= 3);  // prepare and check: at most twice in one turn
  a.then = nullptr;
  pump(w, 3);
  CHECK(b.runs == 1);
}

TEST_CASE("a cancelled at_batch_end() item does not run, also when cancelled by an earlier one") {
  TestWorker w(0);
  Flush a, b, c;
  w.at_batch_end(a);
  w.at_batch_end(b);
  w.cancel_batch_end(a);
  w.cancel_batch_end(c);  // never queued: nothing happens
  // b cancels c, which is queued behind it in the same batch.
  w.at_batch_end(c);
  b.then = [&] { w.cancel_batch_end(c); };
  pump(w, 3);
  CHECK(a.runs == 0);
  CHECK(b.runs == 1);
  CHECK(c.runs == 0);
  // Queued from a timer (outside the poll phase): it runs in the same turn.
  Timer t(w.loop());
  t.start(0, [&] { w.at_batch_end(a); });
  pump(w, 3);
  CHECK(a.runs == 1);
}

TEST_CASE("Timer fires once, repeats when asked, and stop() cancels it") {
  TestWorker w(0);
  int once = 0, repeated = 0, stopped = 0;
  {
    Timer a(w.loop()), b(w.loop()), c(w.loop());
    a.start(0, [&] { ++once; });
    b.start(
        0, [&] { ++repeated; }, 1);
    c.start(0, [&] { ++stopped; });
    CHECK(c.active());
    c.stop();
    CHECK_FALSE(c.active());
    CHECK(run_until(w, [&] { return repeated >= 3; }));
    CHECK(once == 1);
    CHECK(stopped == 0);
    CHECK_FALSE(a.active());
    CHECK(b.active());
  }
  pump(w, 3);  // the close callbacks free the handles (ASan reports a leak otherwise)
}

TEST_CASE("a Timer may be destroyed from inside its own callback") {
  TestWorker w(0);
  auto timer = std::make_unique<Timer>(w.loop());
  int fired = 0;
  timer->start(0, [&] {
    ++fired;
    timer.reset();
  });
  CHECK(run_until(w, [&] { return fired == 1; }));
  pump(w, 3);
  CHECK(timer == nullptr);
}

TEST_CASE("stop() runs its hook on the loop thread and run() returns") {
  TestWorker w(0);
  std::atomic<bool> hooked{false};
  std::thread::id loop_thread;
  w.start([&] { loop_thread = std::this_thread::get_id(); });
  std::thread::id hook_thread;
  w.stop([&] {
    hook_thread = std::this_thread::get_id();
    hooked = true;
  });
  w.join();
  CHECK(hooked);
  CHECK(hook_thread == loop_thread);
  CHECK(hook_thread != std::this_thread::get_id());
}
