// Deadlines (core/server/deadline.h): a connection's lazy one-shot timeouts on one uv timer.
// Moving one later, earlier or clearing it decides whether and when it fires, whatever the uv
// timer was armed for and whatever the others do. Timings are judged only against a reference
// Timer on the same loop (no wall-clock assertion).
#include "core/server/deadline.h"

#include <doctest/doctest.h>
#include <functional>
#include <vector>

#include "tests/unit/support/loop.h"

using namespace gemgate;
using namespace gemgate::server;
using namespace gemgate::testing;

namespace {

// Deadlines under test, counting what fired, with a hook run on each fire.
struct Probe {
  explicit Probe(uv_loop_t* loop) : d(loop, this, &Probe::fire) {}
  static void fire(void* self, size_t which) {
    auto* p = static_cast<Probe*>(self);
    p->fired.push_back(which);
    if (p->on_fire) p->on_fire(which);
  }
  // Closes the uv handle and turns the loop until its close callback ran.
  void close(Worker& w) {
    d.close([](void* self) { static_cast<Probe*>(self)->closed = true; });
    CHECK(run_until(w, [&] { return closed; }));
  }
  size_t count(size_t which) const {
    size_t n = 0;
    for (size_t f : fired) n += f == which;
    return n;
  }
  Deadlines d;
  std::vector<size_t> fired;
  std::function<void(size_t)> on_fire;
  bool closed = false;
};

// Turns the loop until a reference timer of `ms` fired.
void wait_reference(Worker& w, uint64_t ms) {
  bool reference = false;
  Timer t(w.loop());
  t.start(ms, [&] { reference = true; });
  CHECK(run_until(w, [&] { return reference; }));
}

}  // namespace

TEST_CASE("a deadline fires once when it passes, and not at all after clear()") {
  TestWorker w(0);
  Probe p(w.loop());
  p.d.set(0, 1);
  CHECK(p.d.pending(0));
  CHECK(run_until(w, [&] { return p.fired.size() == 1; }));
  CHECK_FALSE(p.d.pending(0));
  wait_reference(w, 20);
  CHECK(p.fired == std::vector<size_t>{0});  // one-shot
  p.d.set(0, 1);
  p.d.clear(0);
  CHECK_FALSE(p.d.pending(0));
  wait_reference(w, 30);
  CHECK(p.fired.size() == 1);  // the armed timer fired without effect
  p.close(w);
}

TEST_CASE("a deadline moved later fires at the later time; moved earlier, at the earlier one") {
  TestWorker w(0);
  Probe p(w.loop());
  // Armed for 5 ms, then moved to 200 ms: the early fire re-arms instead of firing.
  p.d.set(1, 5);
  p.d.set(1, 200);
  wait_reference(w, 60);
  CHECK(p.fired.empty());
  CHECK(p.d.pending(1));
  CHECK(run_until(w, [&] { return p.fired.size() == 1; }));
  // Armed for a minute, then moved to 1 ms: it fires long before the reference.
  p.d.set(1, 60'000);
  p.d.set(1, 1);
  bool reference = false;
  Timer t(w.loop());
  t.start(500, [&] { reference = true; });
  CHECK(run_until(w, [&] { return p.fired.size() == 2 || reference; }));
  CHECK(p.fired.size() == 2);
  CHECK_FALSE(reference);
  t.stop();
  p.close(w);
}

TEST_CASE("deadlines sharing the timer fire each at its own time, independently") {
  TestWorker w(0);
  Probe p(w.loop());
  // The far one is set first (the timer is armed for it), the near ones after (earlier: re-arm).
  p.d.set(3, 60'000);
  p.d.set(2, 150);
  p.d.set(0, 1);
  p.d.set(1, 1);
  p.d.clear(1);  // cleared: never fires though its time passes with the others
  CHECK(run_until(w, [&] { return p.fired.size() == 1; }));
  CHECK(p.fired == std::vector<size_t>{0});
  CHECK(p.d.pending(2));
  CHECK(p.d.pending(3));
  // The timer re-armed for the next one left (2), not for the far one (3).
  CHECK(run_until(w, [&] { return p.fired.size() == 2; }));
  CHECK(p.fired == std::vector<size_t>{0, 2});
  CHECK(p.d.pending(3));
  CHECK_FALSE(p.d.pending(1));
  wait_reference(w, 30);
  CHECK(p.fired.size() == 2);
  p.close(w);
}

TEST_CASE("a deadline set again from its own callback repeats; one closing stops the others") {
  TestWorker w(0);
  Probe p(w.loop());
  p.on_fire = [&](size_t which) {
    if (which == 3 && p.count(3) < 3) p.d.set(3, 1);  // a periodic check, as the write stall's
  };
  p.d.set(3, 1);
  CHECK(run_until(w, [&] { return p.count(3) == 3; }));
  CHECK_FALSE(p.d.pending(3));
  // Two pass together; the first one's callback closes: the second never fires, and a set()
  // after close() does nothing.
  p.on_fire = [&](size_t which) {
    if (which == 0) {
      p.d.close([](void* self) { static_cast<Probe*>(self)->closed = true; });
      p.d.set(2, 1);
    }
  };
  p.d.set(0, 5);
  p.d.set(1, 5);
  CHECK(run_until(w, [&] { return p.closed; }));
  CHECK(p.count(0) == 1);
  CHECK(p.count(1) == 0);
  CHECK(p.count(2) == 0);
  CHECK_FALSE(p.d.pending(1));
  CHECK_FALSE(p.d.pending(2));
}
