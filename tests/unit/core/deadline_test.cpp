// Deadline (core/server/deadline.h): a lazy one-shot timeout. Moving it later, earlier or
// clearing it decides whether and when it fires, whatever the uv timer was armed for. Timings
// are judged only against a reference Timer on the same loop (no wall-clock assertion).
#include "core/server/deadline.h"

#include <doctest/doctest.h>

#include "tests/unit/support/loop.h"

using namespace gemgate;
using namespace gemgate::server;
using namespace gemgate::testing;

TEST_CASE("a Deadline fires once when it passes, and not at all after clear()") {
  TestWorker w(0);
  int fired = 0;
  {
    Deadline d(w.loop(), [&] { ++fired; });
    d.set(1);
    CHECK(d.pending());
    CHECK(run_until(w, [&] { return fired == 1; }));
    CHECK_FALSE(d.pending());
    pump(w, 3);
    CHECK(fired == 1);  // one-shot
    d.set(1);
    d.clear();
    bool reference = false;
    Timer t(w.loop());
    t.start(30, [&] { reference = true; });
    CHECK(run_until(w, [&] { return reference; }));
    CHECK(fired == 1);  // the armed timer fired without effect
  }
  pump(w, 3);
}

TEST_CASE("a Deadline moved later fires at the later time; moved earlier, at the earlier one") {
  TestWorker w(0);
  int fired = 0;
  {
    Deadline d(w.loop(), [&] { ++fired; });
    bool reference = false;
    Timer t(w.loop());
    // Armed for 5 ms, then moved to 200 ms: the early fire re-arms instead of firing.
    d.set(5);
    d.set(200);
    t.start(60, [&] { reference = true; });
    CHECK(run_until(w, [&] { return reference; }));
    CHECK(fired == 0);
    CHECK(d.pending());
    CHECK(run_until(w, [&] { return fired == 1; }));
    // Armed for a minute, then moved to 1 ms: it fires long before the reference.
    d.set(60'000);
    d.set(1);
    reference = false;
    t.start(500, [&] { reference = true; });
    CHECK(run_until(w, [&] { return fired == 2 || reference; }));
    CHECK(fired == 2);
    CHECK_FALSE(reference);
    t.stop();
  }
  pump(w, 3);
}
