// Chain semantics on a real Worker: hook order, on_done exactly once, Stop/resume on both paths,
// local replies from the request path, full responses, replacing a response on its way up, and
// the commit point (nothing reaches the client before the head passed filter 0).
#include <doctest/doctest.h>

#include "core/json.h"
#include "tests/unit/support/chain_harness.h"

using namespace gemgate;
using namespace gemgate::testing;

using Events = std::vector<std::string>;

TEST_CASE("request runs top to bottom, response bottom to top, on_done once each, then finished") {
  Harness h;
  auto chain =
      ChainBuilder(h.journal).add("A", {}).add("B", {}).add("T", answer(200, "body")).build();
  h.start(chain);
  CHECK(h.journal.events == Events{"req A", "req B", "req T", "head B", "head A",
                                   "data B body last", "data A body last", "done T", "done B",
                                   "done A"});
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
  CHECK(h.downstream.response.body == "body");
  CHECK(h.exchange->finished());
  CHECK(h.exchange->info().status == 200);
  CHECK(h.exchange->info().bytes_out == 4);
  CHECK(h.journal.each_done_once());
  h.turn();
  CHECK(h.journal.each_done_once());  // nothing runs again later
}

TEST_CASE("a buffered body passes every filter once with last=true before the head goes out") {
  Harness h;
  Script rewrite;
  rewrite.data = [&h](FilterCallbacks&, std::string& chunk, bool last) {
    CHECK(last);
    CHECK(h.downstream.calls.empty());  // the head has not gone out yet
    chunk = "[" + chunk + "]";
  };
  auto chain = ChainBuilder(h.journal)
                   .add("A", rewrite)
                   .add("B", rewrite)
                   .add("T", answer(200, "x"))
                   .build();
  h.start(chain);
  CHECK(h.journal.with_prefix("data") == Events{"data B x last", "data A [x] last"});
  CHECK(h.downstream.response.body == "[[x]]");
}

TEST_CASE("Stop with resume() inside the hook continues at once") {
  Harness h;
  Script sync_resume;
  sync_resume.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.resume();
    return Status::Stop;
  };
  auto chain = ChainBuilder(h.journal).add("A", sync_resume).add("T", answer(204, "")).build();
  h.start(chain);
  CHECK(h.downstream.calls == Events{"response 204", "finished"});
}

TEST_CASE("Stop parks the request path until resume() from a later callback") {
  Harness h;
  Script park;
  park.request = [](TerminalCallbacks&, ScriptFilter&) { return Status::Stop; };
  auto chain =
      ChainBuilder(h.journal).add("A", {}).add("P", park).add("T", answer(200, "ok")).build();
  Exchange& x = h.start(chain);
  h.turn();
  CHECK(h.journal.events == Events{"req A", "req P"});
  CHECK(h.downstream.calls.empty());
  h.worker.next_tick([&x] { x.resume(); });
  h.turn();
  CHECK(h.journal.with_prefix("req") == Events{"req A", "req P", "req T"});
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
  x.resume();  // a stray resume after the end changes nothing
  CHECK(h.downstream.calls.size() == 2);
  CHECK(h.journal.each_done_once());
}

TEST_CASE("Stop on the response path holds the head until resume(); the filters above go on") {
  Harness h;
  Script park;
  park.head = [](FilterCallbacks&, ScriptFilter&) { return Status::Stop; };
  auto chain =
      ChainBuilder(h.journal).add("A", {}).add("P", park).add("T", answer(200, "ok")).build();
  Exchange& x = h.start(chain);
  CHECK(h.journal.with_prefix("head") == Events{"head P"});
  CHECK(h.downstream.calls.empty());
  x.resume();
  CHECK(h.journal.with_prefix("head") == Events{"head P", "head A"});
  CHECK(h.downstream.calls == Events{"response 200", "finished"});
}

TEST_CASE("reply_local from the request path skips the filters below; those above see it") {
  Harness h;
  Script deny;
  deny.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.reply_local(403, "PERMISSION_DENIED", "no \"way\"");
    return Status::Stop;
  };
  Script look;
  look.head = [](FilterCallbacks& x, ScriptFilter&) {
    CHECK(x.response().status == 403);
    REQUIRE(x.response().local_error);
    CHECK(x.response().local_error->code == "PERMISSION_DENIED");
    return Status::Continue;
  };
  auto chain = ChainBuilder(h.journal)
                   .add("A", look)
                   .add("D", deny)
                   .add("B", {})
                   .add("T", answer(200, "never"))
                   .build();
  h.start(chain);
  CHECK(h.journal.with_prefix("req") == Events{"req A", "req D"});
  CHECK(h.journal.with_prefix("head") == Events{"head A"});
  // Every instance, also the ones that never ran a hook, hears on_done.
  CHECK(h.journal.with_prefix("done") == Events{"done T", "done B", "done D", "done A"});
  CHECK(h.downstream.calls == Events{"response 403", "finished"});
  CHECK(h.downstream.response.body ==
        R"({"error":{"code":403,"message":"no \"way\"","status":"PERMISSION_DENIED"}})");
  CHECK(*h.downstream.response.headers.get("content-type") == "application/json; charset=utf-8");
  CHECK(h.journal.each_done_once());
}

TEST_CASE("reply_local later, from an async callback of a parked filter") {
  Harness h;
  Script park;
  park.request = [](TerminalCallbacks&, ScriptFilter&) { return Status::Stop; };
  auto chain =
      ChainBuilder(h.journal).add("A", {}).add("P", park).add("T", answer(200, "")).build();
  Exchange& x = h.start(chain);
  h.worker.next_tick([&x] { x.reply_local(429, "RESOURCE_EXHAUSTED", "slow down"); });
  h.turn();
  CHECK(h.journal.with_prefix("req") == Events{"req A", "req P"});
  CHECK(h.journal.with_prefix("head") == Events{"head A"});
  CHECK(h.downstream.calls == Events{"response 429", "finished"});
}

TEST_CASE("respond() with a full response of the filter's own") {
  Harness h;
  Script own;
  own.request = [](TerminalCallbacks& x, ScriptFilter&) {
    http::Response r;
    r.status = 200;
    r.headers.set("content-type", "text/plain");
    r.body = "cached";
    x.respond(std::move(r));
    return Status::Stop;
  };
  auto chain = ChainBuilder(h.journal).add("A", {}).add("C", own).add("T", answer(500, "")).build();
  h.start(chain);
  CHECK(h.journal.with_prefix("data") == Events{"data A cached last"});
  CHECK(h.downstream.response.status == 200);
  CHECK(h.downstream.response.body == "cached");
  CHECK(*h.downstream.response.headers.get("content-type") == "text/plain");
}

TEST_CASE("a filter on the response path replaces the response before the commit point") {
  Harness h;
  Script replace;
  replace.head = [](FilterCallbacks& x, ScriptFilter&) {
    if (x.response().status == 500) x.reply_local(502, "UNAVAILABLE", "upstream broke");
    return Status::Continue;
  };
  Script seen;
  seen.head = [](FilterCallbacks& x, ScriptFilter&) {
    CHECK(x.response().status == 502);
    return Status::Continue;
  };
  auto chain =
      ChainBuilder(h.journal).add("A", seen).add("R", replace).add("T", answer(500, "x")).build();
  h.start(chain);
  CHECK(h.downstream.response.status == 502);
  CHECK(h.downstream.response.body.find("upstream broke") != std::string::npos);
  CHECK(h.journal.with_prefix("data").empty());  // a local error is rendered, not passed as data
}

TEST_CASE("reply_local in on_response_head followed by Stop does not hang the exchange") {
  // filter.h: Stop means "this filter took over: it replied (reply_local) or will resume()".
  Harness h;
  Script replace;
  replace.head = [](FilterCallbacks& x, ScriptFilter&) {
    x.reply_local(418, "TEAPOT", "replaced");
    return Status::Stop;
  };
  auto chain =
      ChainBuilder(h.journal).add("A", {}).add("R", replace).add("T", answer(200, "x")).build();
  h.start(chain);
  h.turn();
  CHECK(h.journal.with_prefix("head") == Events{"head R", "head A"});
  CHECK(h.downstream.calls == Events{"response 418", "finished"});
}

TEST_CASE("a terminal that produced no response yields a 500 local error") {
  Harness h;
  auto chain = ChainBuilder(h.journal).add("A", {}).add("T", {}).build();
  h.start(chain);
  CHECK(h.downstream.response.status == 500);
  CHECK(h.downstream.response.body.find("\"status\":\"INTERNAL\"") != std::string::npos);
}

TEST_CASE("local errors are rendered by the chain's own renderer, as JSON") {
  Harness h;
  Script deny;
  deny.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.reply_local(401, "UNAUTHENTICATED", "who are you");
    return Status::Stop;
  };
  auto chain =
      ChainBuilder(h.journal)
          .add("D", deny)
          .add("T", answer(200, ""))
          .renderer([](const http::LocalError& e) {
            return "{\"custom\":" + std::to_string(e.status) + "," + json_quote(e.message) + "}";
          })
          .build();
  h.start(chain);
  CHECK(h.downstream.response.status == 401);
  CHECK(h.downstream.response.body == R"({"custom":401,"who are you"})");
  CHECK(*h.downstream.response.headers.get("content-type") == "application/json; charset=utf-8");
}

TEST_CASE("the commit point: a parked head path keeps everything from the client") {
  Harness h;
  Script park;
  park.head = [](FilterCallbacks&, ScriptFilter&) { return Status::Stop; };
  Script stream;
  stream.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.response().status = 200;
    x.response().streaming = true;
    x.deliver_head();
    x.deliver_data("one", false);
    x.deliver_data("two", false);
    return Status::Stop;
  };
  auto chain = ChainBuilder(h.journal).add("P", park).add("T", stream).build();
  Exchange& x = h.start(chain);
  CHECK(h.downstream.calls.empty());
  CHECK_FALSE(x.committed());
  x.resume();
  CHECK(x.committed());
  CHECK(h.downstream.calls == Events{"head 200", "chunk one", "chunk two"});
  x.deliver_data("three", true);
  CHECK(h.downstream.calls ==
        Events{"head 200", "chunk one", "chunk two", "chunk three", "end clean", "finished"});
  CHECK(h.journal.with_prefix("data") == Events{"data P one", "data P two", "data P three last"});
}

TEST_CASE("respond() after the commit point ends the stream as failed") {
  Harness h;
  Script stream;
  stream.request = [](TerminalCallbacks& x, ScriptFilter&) {
    x.response().status = 200;
    x.response().streaming = true;
    x.deliver_head();
    return Status::Stop;
  };
  auto chain = ChainBuilder(h.journal).add("A", {}).add("T", stream).build();
  Exchange& x = h.start(chain);
  REQUIRE(x.committed());
  x.reply_local(500, "INTERNAL", "too late");
  CHECK(h.downstream.calls == Events{"head 200", "end cut", "finished"});
  CHECK(h.journal.each_done_once());
}

TEST_CASE("on_request_headers runs top to bottom before on_request; a reply there skips the rest") {
  Harness h;
  Script look;
  look.headers = [](FilterCallbacks&, ScriptFilter&) { return Status::Continue; };
  Script refuse;
  refuse.headers = [](FilterCallbacks& x, ScriptFilter&) {
    x.reply_local(401, "UNAUTHENTICATED", "no");
    return Status::Stop;
  };
  auto chain = ChainBuilder(h.journal)
                   .add("A", look)
                   .add("B", refuse)
                   .add("T", answer(200, "never"))
                   .build();
  h.start(chain);
  CHECK(h.journal.events == Events{"hdrs A", "hdrs B", "head A", "done T", "done B", "done A"});
  CHECK(h.downstream.calls == Events{"response 401", "finished"});
  CHECK(h.exchange->info().status == 401);
  CHECK(h.journal.each_done_once());
}

TEST_CASE("start_headers() alone: Continue waits for start(); Stop without a reply is a 500") {
  Harness h;
  Script pass;
  pass.headers = [](FilterCallbacks&, ScriptFilter&) { return Status::Continue; };
  auto chain = ChainBuilder(h.journal).add("A", pass).add("T", answer(200, "ok")).build();
  h.exchange =
      std::make_unique<Exchange>(h.worker, chain, std::make_shared<const Settings>(), h.downstream);
  h.exchange->request().method = "POST";
  CHECK(h.exchange->start_headers());
  CHECK(h.journal.events == Events{"hdrs A"});  // the body is still to come
  CHECK(h.downstream.calls.empty());
  h.exchange->request().body = "{}";
  h.exchange->start();
  CHECK(h.journal.with_prefix("req") == Events{"req A", "req T"});
  CHECK(h.downstream.calls == Events{"response 200", "finished"});

  Harness h2;
  Script bad;
  bad.headers = [](FilterCallbacks&, ScriptFilter&) { return Status::Stop; };
  auto chain2 = ChainBuilder(h2.journal).add("A", bad).add("T", answer(200, "ok")).build();
  h2.start(chain2);
  CHECK(h2.downstream.calls == Events{"response 500", "finished"});
  CHECK(h2.journal.with_prefix("req").empty());
}
