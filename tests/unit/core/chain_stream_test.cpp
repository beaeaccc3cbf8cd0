// Chain semantics for streamed answers, upstream failures, cancellation and ExchangeRef: chunks
// pass bottom to top in order, a failure after the commit point ends the stream (cut, or clean
// when a filter handled it), cancel() stops everything, and posts to a gone exchange are dropped.
#include <doctest/doctest.h>
#include <thread>

#include "tests/unit/support/chain_harness.h"

using namespace gemgate;
using namespace gemgate::testing;

using Events = std::vector<std::string>;

namespace {

// A terminal that parks and lets the test deliver by hand.
Script parked_terminal() {
  Script s;
  s.request = [](TerminalCallbacks&, ScriptFilter&) { return Status::Stop; };
  return s;
}

void start_stream(TerminalCallbacks& x, int status = 200) {
  x.response().status = status;
  x.response().streaming = true;
  x.deliver_head();
}

}  // namespace

TEST_CASE("streamed chunks pass every filter bottom to top, in order, and end clean") {
  Harness h;
  Script upper;
  upper.data = [](FilterCallbacks&, std::string& chunk, bool) { chunk += "!"; };
  auto chain =
      ChainBuilder(h.journal).add("A", upper).add("B", {}).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  start_stream(x);
  CHECK(h.downstream.calls == Events{"head 200"});
  x.deliver_data("a", false);
  x.deliver_data("b", false);
  x.deliver_data("", true);
  CHECK(h.journal.with_prefix("data") ==
        Events{"data B a", "data A a", "data B b", "data A b", "data B  last", "data A  last"});
  CHECK(h.downstream.calls ==
        Events{"head 200", "chunk a!", "chunk b!", "chunk !", "end clean", "finished"});
  CHECK(x.info().stream);
  CHECK(h.journal.each_done_once());
}

TEST_CASE("a filter may hold a chunk back (clear it) and emit it later") {
  Harness h;
  Script hold;
  auto held = std::make_shared<std::string>();
  hold.data = [held](FilterCallbacks&, std::string& chunk, bool last) {
    *held += chunk;
    chunk.clear();
    if (last) chunk = *held;
  };
  auto chain = ChainBuilder(h.journal).add("H", hold).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  start_stream(x);
  x.deliver_data("ab", false);
  x.deliver_data("cd", false);
  CHECK(h.downstream.calls == Events{"head 200"});  // empty chunks are not written
  x.deliver_data("e", true);
  CHECK(h.downstream.calls == Events{"head 200", "chunk abcde", "end clean", "finished"});
}

TEST_CASE("a stream failure after the commit point: last data call sees stream_failure, cut") {
  Harness h;
  std::string seen_failure;
  Script watch;
  watch.data = [&seen_failure](FilterCallbacks& x, std::string&, bool last) {
    if (last && x.stream_failure()) seen_failure = x.stream_failure()->message;
  };
  auto chain = ChainBuilder(h.journal).add("W", watch).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  start_stream(x);
  x.deliver_data("partial", false);
  x.deliver_failure({502, "UNAVAILABLE", "upstream reset", ""});
  CHECK(seen_failure == "upstream reset");
  CHECK(h.journal.with_prefix("data") == Events{"data W partial", "data W  last"});
  CHECK(h.downstream.calls == Events{"head 200", "chunk partial", "end cut", "finished"});
  CHECK(x.info().error == "upstream reset");
  CHECK(h.journal.each_done_once());
  x.deliver_data("late", true);  // after the end: ignored
  CHECK(h.downstream.calls.size() == 4);
}

TEST_CASE("a filter that handles the stream failure ends the stream cleanly with its own event") {
  Harness h;
  Script sse;
  sse.data = [](FilterCallbacks& x, std::string& chunk, bool last) {
    if (last && x.stream_failure()) {
      chunk = "event: error\n\n";
      x.mark_stream_failure_handled();
    }
  };
  auto chain = ChainBuilder(h.journal).add("S", sse).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  start_stream(x);
  x.deliver_failure({504, "DEADLINE_EXCEEDED", "idle", ""});
  CHECK(h.downstream.calls ==
        Events{"head 200", "chunk event: error\n\n", "end clean", "finished"});
}

TEST_CASE("an upstream failure before the commit point becomes a rendered local error") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("A", {}).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  x.deliver_failure({504, "DEADLINE_EXCEEDED", "upstream timed out", ""});
  CHECK(h.journal.with_prefix("head") == Events{"head A"});
  CHECK(h.downstream.calls == Events{"response 504", "finished"});
  CHECK(h.downstream.response.body ==
        R"({"error":{"code":504,"message":"upstream timed out","status":"DEADLINE_EXCEEDED"}})");
  CHECK(*h.downstream.response.headers.get("content-type") == "application/json; charset=utf-8");
  CHECK(x.info().error == "upstream timed out");
}

TEST_CASE("a terminal may deliver head and whole stream from inside on_request") {
  Harness h;
  Script sync_stream;
  sync_stream.request = [](TerminalCallbacks& x, ScriptFilter&) {
    start_stream(x);
    x.deliver_data("1", false);
    x.deliver_data("2", true);
    return Status::Stop;
  };
  auto chain = ChainBuilder(h.journal).add("A", {}).add("T", sync_stream).build();
  h.start(chain);
  CHECK(h.downstream.calls == Events{"head 200", "chunk 1", "chunk 2", "end clean", "finished"});
  CHECK(h.journal.each_done_once());
}

TEST_CASE("cancel() runs on_done once and nothing reaches the Downstream afterwards") {
  Harness h;
  auto chain =
      ChainBuilder(h.journal).add("A", {}).add("B", {}).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  x.cancel();
  CHECK(h.journal.with_prefix("done") == Events{"done T", "done B", "done A"});
  CHECK(x.finished());
  CHECK(x.info().client_aborted);
  CHECK(x.info().status == 499);
  // Late callbacks from the terminal change nothing.
  x.response().status = 200;
  x.deliver_head();
  x.deliver_data("x", true);
  x.deliver_failure({502, "UNAVAILABLE", "x", ""});
  x.reply_local(500, "INTERNAL", "x");
  x.resume();
  x.cancel();
  h.turn();
  CHECK(h.downstream.calls.empty());
  CHECK(h.journal.each_done_once());
}

TEST_CASE("cancel() in the middle of a stream: on_done once, no end_stream") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("A", {}).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  start_stream(x);
  x.deliver_data("a", false);
  x.cancel();
  x.deliver_data("b", true);
  CHECK(h.downstream.calls == Events{"head 200", "chunk a"});
  CHECK(x.info().client_aborted);
  CHECK(x.info().status == 200);  // the head had gone out
  CHECK(h.journal.each_done_once());
}

TEST_CASE("destroying an unfinished exchange cancels it (on_done still runs once)") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("A", {}).add("T", parked_terminal()).build();
  h.start(chain);
  h.exchange.reset();
  CHECK(h.journal.with_prefix("done") == Events{"done T", "done A"});
  CHECK(h.journal.each_done_once());
  CHECK(h.downstream.calls.empty());
}

TEST_CASE("ExchangeRef::post runs on the loop while the exchange lives, and is dropped after") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("A", {}).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  TerminalRef ref = x.terminal_ref();
  int ran = 0;
  ref.post([&ran](TerminalCallbacks& e) {
    ++ran;
    e.response().status = 201;
    e.deliver_head();
  });
  CHECK(ran == 0);  // never inline
  h.turn();
  CHECK(ran == 1);
  CHECK(h.downstream.calls == Events{"response 201", "finished"});

  h.exchange.reset();
  ref.post([&ran](TerminalCallbacks&) { ++ran; });
  h.turn();
  CHECK(ran == 1);

  ExchangeRef empty;
  empty.post([&ran](FilterCallbacks&) { ++ran; });  // a default handle posts nowhere
  h.turn();
  CHECK(ran == 1);
}

TEST_CASE("ExchangeRef::post from another thread reaches the loop") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  TerminalRef ref = x.terminal_ref();
  std::thread other([ref] {
    ref.post([](TerminalCallbacks& e) {
      e.response().status = 200;
      e.deliver_head();
    });
  });
  other.join();
  CHECK(run_until(h.worker, [&] { return h.downstream.finished == 1; }));
}

TEST_CASE("downstream pressure reaches the registered flow-control callback") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  std::vector<bool> seen;
  x.set_flow_control([&seen](bool blocked) { seen.push_back(blocked); });
  x.set_downstream_blocked(true);
  x.set_downstream_blocked(false);
  CHECK(seen == std::vector<bool>{true, false});
  x.cancel();
  x.set_downstream_blocked(true);  // dropped once the exchange ended
  CHECK(seen.size() == 2);
}

TEST_CASE("send_data: a filter's own chunk passes the filters above it, only while streaming") {
  Harness h;
  Script upper;
  upper.data = [](FilterCallbacks&, std::string& chunk, bool) { chunk = "[" + chunk + "]"; };
  auto keeper = std::make_shared<const Filter*>(nullptr);
  Script middle;
  middle.head = [keeper](FilterCallbacks&, ScriptFilter& self) {
    *keeper = &self;
    return Status::Continue;
  };
  auto chain =
      ChainBuilder(h.journal).add("A", upper).add("B", middle).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  start_stream(x);
  REQUIRE(*keeper != nullptr);
  CHECK(x.send_data(**keeper, "ping"));
  CHECK(h.downstream.calls == Events{"head 200", "chunk [ping]"});
  CHECK(x.info().bytes_out >= 6);
  x.deliver_data("", true);
  CHECK_FALSE(x.send_data(**keeper, "late"));  // the stream is over
  CHECK(h.downstream.calls ==
        Events{"head 200", "chunk [ping]", "chunk []", "end clean", "finished"});
}

TEST_CASE("send_data before the commit point or from a filter below the producer sends nothing") {
  Harness h;
  auto keeper = std::make_shared<const Filter*>(nullptr);
  Script hold;
  hold.head = [keeper](FilterCallbacks&, ScriptFilter& self) {
    *keeper = &self;
    return Status::Stop;  // holds the head: nothing committed
  };
  auto chain = ChainBuilder(h.journal).add("H", hold).add("T", parked_terminal()).build();
  Exchange& x = h.start(chain);
  start_stream(x);
  REQUIRE(*keeper != nullptr);
  CHECK_FALSE(x.send_data(**keeper, "ping"));
  CHECK(h.downstream.calls.empty());
  x.cancel();
}
