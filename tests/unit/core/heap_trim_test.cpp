// HeapTrim's policy (core/server/heap_trim.h): a trim is scheduled only after a burst, once the
// live connection count fell to a quarter of its peak and at least kMinFall below it; at most one
// delay is armed at a time; the trim happens only if the count is still down when it ends; and
// the peak restarts after a trim, so steady traffic never trims again (never per request).
#include "core/server/heap_trim.h"

#include <doctest/doctest.h>

using gemgate::server::HeapTrim;
using gemgate::server::TrimPolicy;

namespace {

// Feeds counts 1..peak (accepts) to `p`, returning how often it asked to arm.
int climb(TrimPolicy& p, size_t from, size_t peak) {
  int arms = 0;
  for (size_t n = from; n <= peak; ++n) arms += p.note(n);
  return arms;
}

}  // namespace

TEST_CASE("heap trim: no trim for churn below the burst size") {
  TrimPolicy p;
  CHECK(climb(p, 1, TrimPolicy::kMinFall) == 0);
  // Everything closes: until the count is kMinFall below the peak, nothing is due.
  int arms = 0;
  for (size_t n = TrimPolicy::kMinFall; n-- > 1;) arms += p.note(n);
  CHECK(arms == 0);
  CHECK(p.note(0) == true);  // exactly kMinFall below, at 0 <= peak / 4
}

TEST_CASE("heap trim: a burst that ends arms one delay, and the trim happens once") {
  TrimPolicy p;
  CHECK(climb(p, 1, 10000) == 0);
  int arms = 0;
  size_t armed_at = 0;
  for (size_t n = 10000; n-- > 0;) {
    if (p.note(n)) {
      ++arms;
      armed_at = n;
    }
  }
  CHECK(arms == 1);                                    // one delay for the whole fall
  CHECK(armed_at == 10000 / TrimPolicy::kFallFactor);  // at a quarter of the peak
  CHECK(p.fire(0) == true);                            // still down when the delay ends: trim
  CHECK(p.peak() == 0);                                // the peak restarts
  // Steady traffic afterwards (connections opening and closing): never again.
  int later = 0;
  for (int i = 0; i < 100000; ++i) later += p.note(i % 2 == 0 ? 1 : 0);
  CHECK(later == 0);
}

TEST_CASE("heap trim: a count that climbed back during the delay cancels the trim") {
  TrimPolicy p;
  climb(p, 1, 4000);
  CHECK(p.note(1000) == true);
  CHECK(p.note(900) == false);   // armed already: no second delay
  CHECK(p.fire(3500) == false);  // the clients came back: nothing trimmed
  CHECK(p.peak() == 4000);
  CHECK(p.note(500) == true);  // they left again: a new delay
  CHECK(p.fire(500) == true);
  CHECK(p.peak() == 500);
}

TEST_CASE("heap trim: trim_now runs outside any loop") {
  HeapTrim::trim_now();  // malloc_trim on glibc; must not crash or need a loop
  CHECK(true);
}
