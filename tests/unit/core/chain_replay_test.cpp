// Replays: from the filter that marked the replay point, before the commit point, the filters
// below it are retired (on_done) and re-created, the request is restored to the snapshot, typed
// slots survive, and the new attempt runs on a later loop turn. Refused everywhere else.
#include <doctest/doctest.h>

#include "tests/unit/support/chain_harness.h"

using namespace gemgate;
using namespace gemgate::testing;

using Events = std::vector<std::string>;

namespace {

struct Attempts {
  int count = 0;
  std::vector<std::string> bodies_seen;
};

// The replay point: marks on the way down, replays while the answer is 503 (at most `max`
// attempts), counting attempts in a slot.
Script replayer(int max, bool* last_replay_result = nullptr) {
  Script s;
  s.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.mark_replay_point();
    return Status::Continue;
  };
  s.head = [max, last_replay_result](FilterCallbacks& x, ScriptFilter&) {
    int n = ++x.slot<Attempts>().count;
    if (x.response().status == 503 && n < max) {
      bool ok = x.replay();
      if (last_replay_result) *last_replay_result = ok;
      if (ok) return Status::Stop;
    }
    return Status::Continue;
  };
  return s;
}

// Changes the request on the way down (so a replay must undo it).
Script mutator() {
  Script s;
  s.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.request().body += "+m";
    x.request().headers.add("x-attempt", "1");
    return Status::Continue;
  };
  return s;
}

// Answers 503 until the `good`-th call (counted across instances), then 200.
Script flaky_terminal(int good) {
  auto calls = std::make_shared<int>(0);
  Script s;
  s.request = [calls, good](TerminalCallbacks& x, ScriptFilter&) {
    ++*calls;
    x.slot<Attempts>().bodies_seen.push_back(
        x.request().body + "|" + std::to_string(x.request().headers.count("x-attempt")));
    x.response().status = *calls >= good ? 200 : 503;
    x.response().body = *calls >= good ? "ok" : "busy";
    return Status::Continue;
  };
  return s;
}

}  // namespace

TEST_CASE("replay re-creates the filters below, restores the request and keeps the slots") {
  Harness h;
  auto chain = ChainBuilder(h.journal)
                   .add("L", {})
                   .add("R", replayer(5))
                   .add("M", mutator())
                   .add("T", flaky_terminal(3))
                   .build();
  Exchange& x = h.start(chain, "/p", "orig");
  // The failed attempt's filters were retired at once; the next attempt waits for a loop turn.
  CHECK(h.journal.with_prefix("req") == Events{"req L", "req R", "req M", "req T"});
  CHECK(h.journal.with_prefix("done") == Events{"done T", "done M"});
  CHECK(h.downstream.calls.empty());
  h.turn();
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
  CHECK(h.downstream.response.body == "ok");
  CHECK(x.find_slot<Attempts>()->count == 3);
  // Each attempt saw the request as it was at the replay point, changed only by its own M.
  CHECK(x.find_slot<Attempts>()->bodies_seen ==
        std::vector<std::string>{"orig+m|1", "orig+m|1", "orig+m|1"});
  CHECK(x.request().body == "orig+m");
  // Three instances of M and T, one of L and R; every instance heard on_done exactly once.
  CHECK(h.journal.created("M") == 3);
  CHECK(h.journal.created("T") == 3);
  CHECK(h.journal.created("R") == 1);
  CHECK(h.journal.created("L") == 1);
  CHECK(h.journal.each_done_once());
  // L never saw the failed attempts' answers.
  CHECK(h.journal.with_prefix("head L") == Events{"head L"});
  CHECK(h.journal.with_prefix("data") ==
        Events{"data M ok last", "data R ok last", "data L ok last"});
}

TEST_CASE("replay snapshots are recycled: each exchange restores its own request, nothing else") {
  // One thread's exchanges in sequence: the first has more headers, a longer path and body than
  // the second, so a recycled snapshot that kept anything of it would show in the second.
  std::vector<std::string> seen;
  Script observer;
  observer.request = [&seen](TerminalCallbacks& x, ScriptFilter&) {
    std::string line = x.request().path + "|" + x.request().body;
    for (const auto& [name, value] : x.request().headers.entries())
      line += "|" + name + "=" + value;
    seen.push_back(line);
    return Status::Continue;
  };
  for (int round = 0; round < 3; ++round) {
    seen.clear();
    {
      Harness h;
      auto chain = ChainBuilder(h.journal)
                       .add("R", replayer(5))
                       .add("M", mutator())
                       .add("O", observer)
                       .add("T", flaky_terminal(2))
                       .build();
      h.start_with(chain, [](http::Request& r) {
        r.method = "POST";
        r.path = "/a/much/longer/path/than/the/next/one";
        r.body = std::string(5000, 'x');
        r.headers.set("x-first", "a value long enough to live on the heap");
        r.headers.set("x-second", "another value long enough to live on the heap");
      });
      h.turn();
      CHECK(h.downstream.calls == Events{"response 200", "finished"});
    }
    Harness h;
    auto chain = ChainBuilder(h.journal)
                     .add("R", replayer(5))
                     .add("M", mutator())
                     .add("O", observer)
                     .add("T", flaky_terminal(2))
                     .build();
    h.start(chain, "/b", "short");
    h.turn();
    CHECK(h.downstream.calls == Events{"response 200", "finished"});
    const std::string first = "/a/much/longer/path/than/the/next/one|" + std::string(5000, 'x') +
                              "+m|x-first=a value long enough to live on the heap|x-second=another "
                              "value long enough to live on the heap|x-attempt=1";
    CHECK(seen == std::vector<std::string>{first, first, "/b|short+m|host=gateway.test|x-attempt=1",
                                           "/b|short+m|host=gateway.test|x-attempt=1"});
  }
}

TEST_CASE("after the last allowed attempt the failure goes to the client as it is") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("R", replayer(2)).add("T", flaky_terminal(10)).build();
  Exchange& x = h.start(chain);
  h.turn();
  CHECK(h.downstream.calls == Events{"response 503", "finished"});
  CHECK(h.downstream.response.body == "busy");
  CHECK(x.find_slot<Attempts>()->count == 2);
  CHECK(h.journal.created("T") == 2);
  CHECK(h.journal.each_done_once());
}

TEST_CASE("replay from a parked replay point (async decision)") {
  Harness h;
  Script r;
  r.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.mark_replay_point();
    return Status::Continue;
  };
  r.head = [](FilterCallbacks& x, ScriptFilter&) {
    if (x.response().status != 503) return Status::Continue;
    x.worker().next_tick([&x] { CHECK(x.replay()); });
    return Status::Stop;
  };
  auto chain = ChainBuilder(h.journal).add("R", r).add("T", flaky_terminal(2)).build();
  h.start(chain);
  h.turn();
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
  CHECK(h.journal.created("T") == 2);
  CHECK(h.journal.each_done_once());
}

TEST_CASE("replay is refused outside the replay point's on_response_head, and after commit") {
  Harness h;
  std::vector<bool> results;
  Script upper;  // above the replay point
  upper.request = [&results](TerminalCallbacks& x, ScriptFilter&) {
    results.push_back(x.replay());  // request path: refused
    return Status::Continue;
  };
  upper.head = [&results](FilterCallbacks& x, ScriptFilter&) {
    results.push_back(x.replay());  // not the replay point: refused
    return Status::Continue;
  };
  upper.data = [&results](FilterCallbacks& x, std::string&, bool) {
    results.push_back(x.replay());
  };
  Script r;
  r.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.mark_replay_point();
    return Status::Continue;
  };
  auto chain =
      ChainBuilder(h.journal).add("U", upper).add("R", r).add("T", answer(503, "x")).build();
  Exchange& x = h.start(chain);
  CHECK(results == std::vector<bool>{false, false, false});
  CHECK(x.committed());
  CHECK_FALSE(x.replay());  // after the commit point
  CHECK(h.downstream.calls == Events{"response 503", "finished"});
  CHECK(h.journal.created("T") == 1);
}

TEST_CASE("replay without a marked replay point is refused") {
  Harness h;
  bool result = true;
  Script r;
  r.head = [&result](FilterCallbacks& x, ScriptFilter&) {
    result = x.replay();
    return Status::Continue;
  };
  auto chain = ChainBuilder(h.journal).add("R", r).add("T", answer(503, "x")).build();
  h.start(chain);
  CHECK_FALSE(result);
  CHECK(h.downstream.calls == Events{"response 503", "finished"});
}

TEST_CASE("replay after a streamed head: nothing of the failed attempt reaches the client") {
  // The failed attempt streamed a head and a chunk that were held at the commit point; the
  // replay must drop them, or the client would get the first attempt's bytes in front of the
  // second attempt's.
  Harness h;
  auto calls = std::make_shared<int>(0);
  Script t;
  t.request = [calls](TerminalCallbacks& x, ScriptFilter&) {
    int n = ++*calls;
    x.response().status = 200;
    x.response().streaming = true;
    x.deliver_head();
    x.deliver_data(n == 1 ? "first-attempt " : "second-attempt", n != 1);
    return Status::Stop;
  };
  Script r;
  r.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.mark_replay_point();
    return Status::Continue;
  };
  r.head = [](FilterCallbacks& x, ScriptFilter&) {
    if (x.slot<Attempts>().count++ == 0 && x.replay()) return Status::Stop;
    return Status::Continue;
  };
  auto chain = ChainBuilder(h.journal).add("R", r).add("T", t).build();
  h.start(chain);
  h.turn();
  CHECK(h.downstream.stream == "second-attempt");
  CHECK(h.downstream.calls == Events{"head 200", "chunk second-attempt", "end clean", "finished"});
  CHECK(h.journal.each_done_once());
}

TEST_CASE("a replay drops the flow-control callback of the retired attempt") {
  Harness h;
  auto blocked_calls = std::make_shared<int>(0);
  auto calls = std::make_shared<int>(0);
  Script t;
  t.request = [calls, blocked_calls](TerminalCallbacks& x, ScriptFilter&) {
    if (++*calls == 1) {
      x.set_flow_control([blocked_calls](bool) { ++*blocked_calls; });
      x.response().status = 503;
      return Status::Continue;
    }
    return Status::Stop;  // the second attempt waits
  };
  auto chain = ChainBuilder(h.journal).add("R", replayer(3)).add("T", t).build();
  Exchange& x = h.start(chain);
  h.turn();
  REQUIRE(*calls == 2);
  x.set_downstream_blocked(true);
  CHECK(*blocked_calls == 0);
}

TEST_CASE("cancel() while a replay waits for its loop turn: the next attempt never starts") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("R", replayer(3)).add("T", flaky_terminal(10)).build();
  Exchange& x = h.start(chain);
  CHECK(h.journal.created("T") == 2);  // re-created, not yet run
  x.cancel();
  h.turn();
  CHECK(h.journal.with_prefix("req T").size() == 1);
  CHECK(h.downstream.calls.empty());
  CHECK(h.journal.each_done_once());
}

TEST_CASE("typed slots: created on first use, found later, distinct per type") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("T", answer(200, "")).build();
  Exchange& x = h.start(chain);
  CHECK(x.find_slot<Attempts>() == nullptr);
  x.slot<Attempts>().count = 7;
  x.slot<int>() = 3;
  CHECK(x.find_slot<Attempts>()->count == 7);
  CHECK(*x.find_slot<int>() == 3);
  CHECK(&x.slot<Attempts>() == x.find_slot<Attempts>());
}

TEST_CASE("a producer's take_request_body shares the replay point's copy; a replay restores it") {
  // Each attempt takes the body, as the upstream filter does, and keeps what it got.
  auto taken = std::make_shared<std::vector<std::shared_ptr<const std::string>>>();
  auto calls = std::make_shared<int>(0);
  Script taker;
  taker.request = [taken, calls](TerminalCallbacks& x, ScriptFilter&) {
    taken->push_back(x.take_request_body());
    CHECK(x.request().body.empty());
    x.response().status = ++*calls >= 3 ? 200 : 503;
    return Status::Continue;
  };
  auto build = [&](Harness& h) {
    return ChainBuilder(h.journal).add("R", replayer(5)).add("T", taker).build();
  };
  SUBCASE("a long body: one copy, shared by every attempt, the same bytes each time") {
    const std::string body(64 * 1024, 'q');
    Harness h;
    h.start(build(h), "/p", body);
    h.turn();
    h.turn();
    REQUIRE(taken->size() == 3);
    for (const auto& b : *taken) {
      REQUIRE(b);
      CHECK(*b == body);
      CHECK(b == taken->front());  // not a copy per attempt
    }
    CHECK(h.downstream.calls == Events{"response 200", "finished"});
    // The commit dropped the replay point's share: only the attempts' own references remain.
    CHECK(taken->front().use_count() == 3);
  }
  SUBCASE("a body changed below the replay point is not the snapshot's: each gets its own") {
    const std::string body(64 * 1024, 'q');
    Harness h;
    auto chain =
        ChainBuilder(h.journal).add("R", replayer(5)).add("M", mutator()).add("T", taker).build();
    h.start(chain, "/p", body);
    h.turn();
    h.turn();
    REQUIRE(taken->size() == 3);
    for (const auto& b : *taken) CHECK(*b == body + "+m");
    CHECK(taken->at(0) != taken->at(1));
  }
  SUBCASE("a short body is moved out, not compared") {
    Harness h;
    h.start(build(h), "/p", "short");
    h.turn();
    h.turn();
    REQUIRE(taken->size() == 3);
    for (const auto& b : *taken) CHECK(*b == "short");
    CHECK(taken->at(0) != taken->at(1));
  }
  SUBCASE("no body: null") {
    Harness h;
    h.start(build(h), "/p", "");
    h.turn();
    h.turn();
    REQUIRE(taken->size() == 3);
    for (const auto& b : *taken) CHECK_FALSE(b);
  }
}
