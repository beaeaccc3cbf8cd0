// Exchange: one request's life through its filter chain — the request, the response, typed
// per-filter slots, the settings snapshot it started with, StreamInfo, and the callbacks filters
// use to steer it (resume, reply_local, replay) and the terminal filter uses to deliver the
// response. See filter.h for the contract. Loop thread only, except ExchangeRef.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <utility>
#include <vector>

#include "core/chain.h"
#include "core/filter.h"
#include "core/http/message.h"
#include "core/settings.h"
#include "core/stream_info.h"

namespace gemgate {

class Worker;
class Exchange;

// How a response leaves gemgate: implemented by the downstream connection.
class Downstream {
 public:
  virtual ~Downstream() = default;
  // A complete response: head and whole body.
  virtual void send_response(const http::Response& response) = 0;
  // The head of a streamed response; chunks follow.
  virtual void send_stream_head(const http::Response& response) = 0;
  virtual void send_chunk(std::string_view data) = 0;
  // The end of a stream: `clean` ends it properly, otherwise the connection is cut so the client
  // can tell the body is incomplete.
  virtual void end_stream(bool clean) = 0;
  // The exchange is over (on_done has run). The connection deletes it on a later loop turn.
  virtual void exchange_finished() = 0;
};

// ExchangeRef: a copyable handle other threads use to run code on an exchange's loop, if the
// exchange still exists when the code gets there.
class ExchangeRef {
 public:
  // Runs fn(exchange) on the exchange's worker loop, or drops it if the exchange is gone or has
  // finished meanwhile (e.g. the client left). Thread-safe.
  void post(std::function<void(Exchange&)> fn) const;

 private:
  friend class Exchange;
  struct Anchor {
    Exchange* exchange;
  };
  Worker* worker_ = nullptr;
  std::shared_ptr<Anchor> anchor_;
};

class Exchange {
 public:
  Exchange(Worker& worker, std::shared_ptr<const ChainSpec> chain,
           std::shared_ptr<const Settings> settings, Downstream& downstream);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // ---- driven by the connection ----
  // Runs on_request_headers of every filter, top to bottom (see filter.h). request() holds the
  // head (no body yet) and info() is filled. Returns true when every filter continued: the
  // caller reads the body into request().body and then calls start(). Returns false when a
  // filter replied: the reply already went to the Downstream (the exchange is finished, or
  // finishes like any reply), and start() must not be called. Once per exchange; not re-entrant.
  bool start_headers();
  // Runs the request path. request() (with the whole body) and info() must be filled first.
  // Runs start_headers() first when the caller did not (embedders and tests that have the
  // whole request at once); does nothing when start_headers() returned false.
  void start();
  // The client went away: stops in-flight work and runs on_done; nothing more goes downstream.
  void cancel();
  // The connection refused the request after its head passed the filters, before the request
  // path ran (body too large, too slow, malformed, over the memory budget): it answers the
  // client itself. Records `status` and `error` in info() and runs on_done; nothing goes
  // downstream through the exchange. No effect once the exchange has finished.
  void abandon_request(int status, std::string error);
  // The connection's write queue crossed its high (true) or low (false) watermark.
  void set_downstream_blocked(bool blocked);
  bool finished() const { return phase_ == Phase::kDone; }

  // ---- for filters ----
  http::Request& request() { return request_; }
  const http::Request& request() const { return request_; }
  http::Response& response() { return response_; }
  const http::Response& response() const { return response_; }
  StreamInfo& info() { return info_; }
  const StreamInfo& info() const { return info_; }
  const Settings& settings() const { return *settings_; }
  Worker& worker() { return worker_; }
  const ChainSpec& chain() const { return *chain_; }

  // Typed per-exchange state that survives replays: slot<T>() creates a T on first use.
  template <class T>
  T& slot();
  template <class T>
  const T* find_slot() const;
  // Typed state of one run of the request path: it survives replays (a retry of the same
  // upstream call) but starts afresh when a filter above starts a new sub-request with
  // rerun_below() (e.g. the next batch of a multi-call request).
  template <class T>
  T& run_slot();

  // Continues the path parked at the filter that returned Stop. May be called from inside that
  // filter's hook (the path continues when the hook returns) or later from a callback.
  void resume();
  // Replies from the current filter: the rest of the request path is skipped and the response
  // path starts at the filter above it. On the response path (before the commit point) it
  // replaces the response and the path goes on upwards.
  void reply_local(http::LocalError error);
  void reply_local(int status, std::string code, std::string message);
  // Same as reply_local, with a complete response (status, headers, body) of the filter's own.
  void respond(http::Response response);
  // From on_request: remember the request as it is now, so replay() can restore it.
  void mark_replay_point();
  // From on_response_head of the filter that marked the replay point, before the commit point:
  // the filters below it are retired (on_done) and re-created, the request is restored and the
  // request path runs again below it on a later loop turn. Returns false when not possible.
  bool replay();
  // From on_response_head, before the commit point: the calling filter takes the response it
  // got and sends a new request (which it has put in request()) through the filters below it,
  // re-created fresh, on a later loop turn; its on_response_head sees the new answer. For
  // requests that need several upstream calls in sequence. Returns false when not possible.
  bool rerun_below();
  // True once the response head went to the client.
  bool committed() const { return committed_; }
  // When a streamed response failed after the commit point: why. Set during the last
  // on_response_data call.
  const http::LocalError* stream_failure() const {
    return stream_failure_ ? &*stream_failure_ : nullptr;
  }
  // A filter turned the stream failure into a proper end of its protocol (e.g. an SSE error
  // event): the stream then ends cleanly instead of being cut.
  void mark_stream_failure_handled() { stream_failure_handled_ = true; }
  // A handle for other threads.
  ExchangeRef ref();

  // ---- for the terminal filter ----
  // The response head (and, unless response().streaming, the whole body) is in response().
  void deliver_head();
  // A chunk of a streamed response; `last` ends it.
  void deliver_data(std::string chunk, bool last);
  // The upstream failed: before the commit point this becomes a local error reply; after it the
  // stream ends as failed.
  void deliver_failure(http::LocalError error);
  // Registers the callback told about downstream pressure (pause/resume the upstream).
  // Called at once with true when the connection is already blocked.
  void set_flow_control(std::function<void(bool blocked)> fn);

 private:
  enum class Phase { kHeaders, kRequest, kResponseHead, kStreaming, kDone };

  struct SlotBase {
    virtual ~SlotBase() = default;
  };
  template <class T>
  struct SlotOf : SlotBase {
    T value;
  };

  void run_request_path(size_t from);
  void start_response_path(size_t producer);
  void run_response_head_path(size_t below);
  void do_replay();
  void restart_below(size_t index);
  void commit();
  // Runs on_response_data for filters [down_to, top), bottom to top.
  void run_data_path(std::string& chunk, bool last, size_t top, size_t down_to);
  void send_stream_chunk(std::string& chunk, bool last, size_t through);
  void finish();
  void retire_filters_from(size_t index);
  void make_filters_from(size_t index);

  Worker& worker_;
  std::shared_ptr<const ChainSpec> chain_;
  std::shared_ptr<const Settings> settings_;
  Downstream& downstream_;
  http::Request request_;
  http::Response response_;
  StreamInfo info_;

  std::vector<std::unique_ptr<Filter>> filters_;
  std::vector<std::unique_ptr<Filter>> retired_;  // replaced by a replay; freed with the exchange
  std::vector<std::pair<std::type_index, std::unique_ptr<SlotBase>>> slots_;
  std::vector<std::pair<std::type_index, std::unique_ptr<SlotBase>>> run_slots_;

  Phase phase_ = Phase::kHeaders;
  bool headers_ran_ = false;      // start_headers() was called
  bool request_started_ = false;  // start() ran the request path
  size_t cursor_ = 0;             // filter whose hook runs or is parked
  size_t response_top_ = 0;       // filters [0, response_top_) take part in the response path
  bool parked_ = false;           // a filter returned Stop and waits for resume()
  bool in_hook_ = false;          // a filter hook is on the stack
  bool resume_requested_ = false;
  bool replay_requested_ = false;
  bool rerun_requested_ = false;
  bool head_delivered_ = false;
  bool committed_ = false;
  std::optional<http::Response> pending_reply_;
  std::optional<http::LocalError> stream_failure_;
  bool stream_failure_handled_ = false;
  std::optional<http::Request> replay_request_;
  // Stream data that arrived before the commit point, already passed down to filter `through`.
  struct EarlyChunk {
    std::string data;
    bool last = false;
    size_t through = 0;
  };
  std::vector<EarlyChunk> early_chunks_;
  size_t replay_point_ = SIZE_MAX;
  std::function<void(bool)> flow_control_;
  bool downstream_blocked_ = false;
  std::shared_ptr<ExchangeRef::Anchor> anchor_;
};

template <class T>
T& Exchange::slot() {
  for (auto& [type, ptr] : slots_) {
    if (type == std::type_index(typeid(T))) return static_cast<SlotOf<T>*>(ptr.get())->value;
  }
  auto owned = std::make_unique<SlotOf<T>>();
  T& ref = owned->value;
  slots_.emplace_back(std::type_index(typeid(T)), std::move(owned));
  return ref;
}

template <class T>
T& Exchange::run_slot() {
  for (auto& [type, ptr] : run_slots_) {
    if (type == std::type_index(typeid(T))) return static_cast<SlotOf<T>*>(ptr.get())->value;
  }
  auto owned = std::make_unique<SlotOf<T>>();
  T& ref = owned->value;
  run_slots_.emplace_back(std::type_index(typeid(T)), std::move(owned));
  return ref;
}

template <class T>
const T* Exchange::find_slot() const {
  for (const auto& [type, ptr] : slots_) {
    if (type == std::type_index(typeid(T))) return &static_cast<SlotOf<T>*>(ptr.get())->value;
  }
  return nullptr;
}

}  // namespace gemgate
