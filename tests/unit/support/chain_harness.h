// Test support for chains: a Downstream that records what would reach the client, filters whose
// hooks are lambdas and which write every call into a shared journal, and a harness that owns a
// Worker (never started) and runs one Exchange at a time on it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/chain.h"
#include "core/exchange.h"
#include "core/settings.h"
#include "core/worker.h"
#include "tests/unit/support/loop.h"
#include "tests/unit/support/printers.h"

namespace gemgate::testing {

// Records every Downstream call, in order, as text ("response 200", "head 200", "chunk <data>",
// "end clean", "end cut", "finished"), plus the last full response and the stream's bytes.
class FakeDownstream final : public Downstream {
 public:
  void send_response(const http::Response& r) override {
    calls.push_back("response " + std::to_string(r.status));
    response = r;
  }
  void send_stream_head(const http::Response& r) override {
    calls.push_back("head " + std::to_string(r.status));
    response = r;
  }
  void send_chunk(std::string_view data) override {
    calls.push_back("chunk " + std::string(data));
    stream += data;
  }
  void end_stream(bool clean) override { calls.push_back(clean ? "end clean" : "end cut"); }
  void exchange_finished() override {
    calls.push_back("finished");
    ++finished;
  }

  std::vector<std::string> calls;
  http::Response response;  // the last response or stream head
  std::string stream;       // every chunk, concatenated
  int finished = 0;
};

// What the script filters write: one line per hook call ("req A", "head A", "data A <chunk>
// last", "done A"), and per instance how often on_done ran.
struct Journal {
  std::vector<std::string> events;
  std::vector<std::string> instance_names;  // index = instance number
  std::vector<int> done_calls;              // index = instance number

  int new_instance(const std::string& name) {
    instance_names.push_back(name);
    done_calls.push_back(0);
    return static_cast<int>(instance_names.size()) - 1;
  }
  // Number of instances created for filter `name`.
  int created(const std::string& name) const {
    int n = 0;
    for (const auto& s : instance_names) n += s == name ? 1 : 0;
    return n;
  }
  // True when every instance ever created heard on_done exactly once.
  bool each_done_once() const {
    for (int c : done_calls) {
      if (c != 1) return false;
    }
    return true;
  }
  // Events that start with `prefix`, in order.
  std::vector<std::string> with_prefix(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.starts_with(prefix)) out.push_back(e);
    }
    return out;
  }
};

class ScriptFilter;

// The behaviour of one filter; an empty hook behaves like the Filter default.
struct Script {
  // on_request_headers; journaled ("hdrs A") only when set, so older journals stay as they were.
  std::function<Status(FilterCallbacks&, ScriptFilter&)> headers;
  // The request hook gets the terminal interface: any script may play the producer.
  std::function<Status(TerminalCallbacks&, ScriptFilter&)> request;
  std::function<Status(FilterCallbacks&, ScriptFilter&)> head;
  std::function<void(FilterCallbacks&, std::string&, bool)> data;
  std::function<void(const FilterCallbacks&)> done;
};

// A TerminalFilter so that a script at any position may deliver a response, as tests of the
// chain's state machine need.
class ScriptFilter final : public TerminalFilter {
 public:
  ScriptFilter(std::string name, Journal& journal, std::shared_ptr<const Script> script)
      : name_(std::move(name)), journal_(journal), script_(std::move(script)) {
    instance_ = journal_.new_instance(name_);
  }

  Status on_request_headers(FilterCallbacks& x) override {
    if (!script_->headers) return Status::Continue;
    journal_.events.push_back("hdrs " + name_);
    return script_->headers(x, *this);
  }
  Status on_request(TerminalCallbacks& x) override {
    journal_.events.push_back("req " + name_);
    return script_->request ? script_->request(x, *this) : Status::Continue;
  }
  Status on_response_head(FilterCallbacks& x) override {
    journal_.events.push_back("head " + name_);
    return script_->head ? script_->head(x, *this) : Status::Continue;
  }
  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    journal_.events.push_back("data " + name_ + " " + chunk + (last ? " last" : ""));
    if (script_->data) script_->data(x, chunk, last);
  }
  void on_done(const FilterCallbacks& x) override {
    journal_.events.push_back("done " + name_);
    ++journal_.done_calls[static_cast<size_t>(instance_)];
    if (script_->done) script_->done(x);
  }

  int instance() const { return instance_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  Journal& journal_;
  std::shared_ptr<const Script> script_;
  int instance_;
};

// A terminal script that answers `status` with `body` synchronously (returns Continue).
inline Script answer(int status, std::string body) {
  Script s;
  s.request = [status, body](TerminalCallbacks& x, ScriptFilter&) {
    x.response().status = status;
    x.response().body = body;
    return Status::Continue;
  };
  return s;
}

// Builds ChainSpecs from (name, script) pairs; the last one is the terminal.
class ChainBuilder {
 public:
  explicit ChainBuilder(Journal& journal) : journal_(journal) {}
  ChainBuilder& add(std::string name, Script script) {
    auto shared = std::make_shared<const Script>(std::move(script));
    Journal* j = &journal_;
    spec_->filter_names.push_back(name);
    spec_->factories.push_back(
        [name, j, shared] { return std::make_unique<ScriptFilter>(name, *j, shared); });
    return *this;
  }
  ChainBuilder& renderer(ErrorRenderer r) {
    spec_->render_error = std::move(r);
    return *this;
  }
  std::shared_ptr<const ChainSpec> build() {
    spec_->name = "test";
    if (!spec_->render_error) spec_->render_error = &render_json_error;
    return spec_;
  }

 private:
  Journal& journal_;
  std::shared_ptr<ChainSpec> spec_ = std::make_shared<ChainSpec>();
};

// Owns a Worker (not started) and the current Exchange with its FakeDownstream. Destroys the
// exchange before the worker so nothing outlives the loop; the worker then fails the test if
// anything was left open on its loop (TestWorker).
class Harness {
 public:
  Harness() : worker(0) {}
  ~Harness() {
    exchange.reset();
    pump(worker, 5);
  }

  // Creates an exchange for `chain` with `settings` (an empty snapshot by default), fills a
  // POST request to `path` with `body`, and starts it.
  Exchange& start(std::shared_ptr<const ChainSpec> chain, std::string path = "/v1beta/models",
                  std::string body = "{}", std::shared_ptr<const Settings> settings = nullptr) {
    if (!settings) settings = std::make_shared<const Settings>();
    exchange =
        std::make_unique<Exchange>(worker, std::move(chain), std::move(settings), downstream);
    http::Request& r = exchange->request();
    r.method = "POST";
    r.path = std::move(path);
    r.body = std::move(body);
    r.headers.set("host", "gateway.test");
    exchange->start();
    return *exchange;
  }
  // Same, with the request prepared by `fill` before start().
  Exchange& start_with(std::shared_ptr<const ChainSpec> chain,
                       const std::function<void(http::Request&)>& fill,
                       std::shared_ptr<const Settings> settings = nullptr) {
    if (!settings) settings = std::make_shared<const Settings>();
    exchange =
        std::make_unique<Exchange>(worker, std::move(chain), std::move(settings), downstream);
    fill(exchange->request());
    exchange->start();
    return *exchange;
  }

  void turn(int turns = 20) { pump(worker, turns); }

  TestWorker worker;
  Journal journal;  // outlives the exchange: its filters write here until on_done
  FakeDownstream downstream;
  std::unique_ptr<Exchange> exchange;
};

}  // namespace gemgate::testing
