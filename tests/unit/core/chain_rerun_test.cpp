// rerun_below(): a filter on the response path sends a new request through fresh filters below
// it (several upstream calls for one client request). Run slots start afresh for each run, plain
// slots survive, a replay point below it is re-marked by the new run, every instance hears
// on_done once, and it is refused outside on_response_head or after the commit point.
#include <algorithm>
#include <doctest/doctest.h>

#include "tests/unit/support/chain_harness.h"

using namespace gemgate;
using namespace gemgate::testing;

using Events = std::vector<std::string>;

namespace {

struct Parts {
  std::vector<std::string> answers;  // plain slot: collects every run's answer
};
struct RunCount {
  int attempts = 0;  // run slot: attempts within one run
};

// Sends "part1", then "part2" as a second run, then answers with both results joined.
Script splitter() {
  Script s;
  s.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.request().body = "part1";
    return Status::Continue;
  };
  s.head = [](FilterCallbacks& x, ScriptFilter&) {
    Parts& parts = x.slot<Parts>();
    parts.answers.push_back(x.response().body);
    if (parts.answers.size() == 1) {
      x.request().body = "part2";
      CHECK(x.rerun_below());
      return Status::Stop;
    }
    x.response().body = parts.answers[0] + "+" + parts.answers[1];
    return Status::Continue;
  };
  return s;
}

// A replay point that replays once per run when the answer is 503.
Script retrier() {
  Script s;
  s.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.mark_replay_point();
    return Status::Continue;
  };
  s.head = [](FilterCallbacks& x, ScriptFilter&) {
    int n = ++x.run_slot<RunCount>().attempts;
    if (x.response().status == 503 && n < 2 && x.replay()) return Status::Stop;
    return Status::Continue;
  };
  return s;
}

// Echoes the request body; answers 503 the first time it sees each body.
Script echo_terminal() {
  auto seen = std::make_shared<std::vector<std::string>>();
  Script s;
  s.request = [seen](TerminalCallbacks& x, ScriptFilter&) {
    const std::string& body = x.request().body;
    bool first = std::find(seen->begin(), seen->end(), body) == seen->end();
    seen->push_back(body);
    x.response().status = first ? 503 : 200;
    x.response().body = "re:" + body;
    return Status::Continue;
  };
  return s;
}

}  // namespace

TEST_CASE("rerun_below runs a second request through fresh filters; retries work per run") {
  Harness h;
  auto chain = ChainBuilder(h.journal)
                   .add("L", {})
                   .add("S", splitter())
                   .add("R", retrier())
                   .add("T", echo_terminal())
                   .build();
  Exchange& x = h.start(chain);
  h.turn(40);
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
  CHECK(h.downstream.response.body == "re:part1+re:part2");
  // Run 1: T(503) → replay → T(200). Run 2: fresh R, T(503) → replay → T(200).
  CHECK(h.journal.created("T") == 4);
  CHECK(h.journal.created("R") == 2);
  CHECK(h.journal.created("S") == 1);
  CHECK(h.journal.with_prefix("head L") == Events{"head L"});
  CHECK(x.find_slot<Parts>()->answers == std::vector<std::string>{"re:part1", "re:part2"});
  CHECK(h.journal.each_done_once());
}

TEST_CASE("rerun_below is refused outside a response-head hook and after the commit point") {
  Harness h;
  std::vector<bool> results;
  Script probe;
  probe.request = [&results](TerminalCallbacks& x, ScriptFilter&) {
    results.push_back(x.rerun_below());
    return Status::Continue;
  };
  probe.data = [&results](FilterCallbacks& x, std::string&, bool) {
    results.push_back(x.rerun_below());
  };
  auto chain = ChainBuilder(h.journal).add("P", probe).add("T", answer(200, "x")).build();
  Exchange& x = h.start(chain);
  CHECK(results == std::vector<bool>{false, false});
  CHECK_FALSE(x.rerun_below());
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
}

TEST_CASE("run slots start afresh for each run; plain slots survive") {
  Harness h;
  Script counter;
  counter.request = [](TerminalCallbacks& x, ScriptFilter&) {
    ++x.run_slot<RunCount>().attempts;
    ++x.slot<RunCount>().attempts;
    return Status::Continue;
  };
  std::vector<int> run_counts;
  Script rerun_once;
  rerun_once.head = [&run_counts](FilterCallbacks& x, ScriptFilter&) {
    run_counts.push_back(x.run_slot<RunCount>().attempts);
    if (x.slot<Parts>().answers.empty()) {
      x.slot<Parts>().answers.push_back("first");
      x.rerun_below();
    }
    return Status::Continue;
  };
  auto chain = ChainBuilder(h.journal)
                   .add("O", rerun_once)
                   .add("C", counter)
                   .add("T", answer(200, "ok"))
                   .build();
  Exchange& x = h.start(chain);
  h.turn();
  CHECK(run_counts == std::vector<int>{1, 1});
  CHECK(x.find_slot<RunCount>()->attempts == 2);
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
}
