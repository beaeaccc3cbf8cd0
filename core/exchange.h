// Exchange: one request's life through its filter chain — the request, the response, typed
// per-filter slots, the settings snapshot it started with, StreamInfo — and the state machine
// that moves it along the chain. It is the one implementation of the filters' interfaces
// (FilterCallbacks, TerminalCallbacks: filter_callbacks.h); its own public methods are the
// connection's side. See filter.h for the contract. Loop thread only, except ExchangeHandle.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/arena.h"
#include "core/chain.h"
#include "core/filter.h"
#include "core/filter_callbacks.h"
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
  // The same for a chunk the exchange no longer needs: the downstream may keep its memory (the
  // connection writes it without a copy and recycles the buffer). By default, send_chunk.
  virtual void send_owned_chunk(std::string&& data) { send_chunk(data); }
  // The end of a stream: `clean` ends it properly, otherwise the connection is cut so the client
  // can tell the body is incomplete.
  virtual void end_stream(bool clean) = 0;
  // The exchange is over (on_done has run). The connection deletes it on a later loop turn.
  virtual void exchange_finished() = 0;
};

class Exchange final : public TerminalCallbacks {
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
  // Runs the request path. request() (with the whole body, or with body_stream on a streamed-body
  // route) and info() must be filled first.
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

  // ---- FilterCallbacks (documented there) ----
  http::Request& request() override { return request_; }
  const http::Request& request() const override { return request_; }
  http::Response& response() override { return response_; }
  const http::Response& response() const override { return response_; }
  StreamInfo& info() override { return info_; }
  const StreamInfo& info() const override { return info_; }
  const Settings& settings() const override { return *settings_; }
  Worker& worker() override { return worker_; }
  const ChainSpec& chain() const override { return *chain_; }
  void resume() override;
  using FilterCallbacks::reply_local;
  void reply_local(http::LocalError error) override;
  void respond(http::Response response) override;
  void mark_replay_point() override;
  bool replay() override;
  bool rerun_below() override;
  bool committed() const override { return committed_; }
  const http::LocalError* stream_failure() const override { return stream_failure_.get(); }
  void mark_stream_failure_handled() override { stream_failure_handled_ = true; }
  ExchangeRef ref() override;
  bool send_data(const Filter& self, std::string chunk) override;

  // ---- TerminalCallbacks (documented there) ----
  void deliver_head() override;
  void deliver_data(std::string chunk, bool last) override;
  void deliver_failure(http::LocalError error) override;
  void set_flow_control(std::function<void(bool blocked)> fn) override;
  TerminalRef terminal_ref() override;
  std::shared_ptr<const std::string> take_request_body() override;

 private:
  enum class Phase {
    kNew,           // nothing ran yet
    kHeaders,       // on_request_headers hooks are running
    kAwaitingBody,  // every head hook continued; the connection reads the body, then start()
    kRequest,       // the request path (on_request), or parked on it
    kResponseHead,  // the response path before the commit point (on_response_head)
    kStreaming,     // the head went out; chunks follow
    kDone,
  };
  // Which hook is on the stack. Steering calls made while one is are recorded, not applied.
  enum class Hook { kNone, kHeaders, kRequest, kResponseHead, kResponseData };

  // The deferred actions a steering call records (see steer()). Their order in Action is their
  // strength: when one hook asks for several, the strongest wins.
  struct Resume {};  // go on past the filter at cursor_
  struct Rerun {};   // a new sub-request below cursor_ (rerun_below)
  struct Replay {};  // restore the request, run again below the replay point
  struct Reply {     // reply from cursor_ (request side); out of line: Action is a member of
                     // every exchange and a reply is rare
    std::unique_ptr<http::Response> response;
  };
  struct Deliver {};  // the producer at cursor_ delivered the response head
  using Action = std::variant<std::monostate, Resume, Rerun, Replay, Reply, Deliver>;

  // The request as mark_replay_point() saw it, and the filter that marked it. The snapshot's
  // memory is recycled per thread (see release_replay_point()). Once the producer took a body
  // equal to the snapshot's (take_request_body), the body is in `shared_body` instead.
  struct ReplayPoint {
    size_t filter;
    std::unique_ptr<http::Request> request;
    std::shared_ptr<const std::string> shared_body;
  };

  // Stream data that arrived before the commit point. The early-chunk invariant: a held chunk
  // has passed on_response_data of exactly the filters [through, response_top_), the producer
  // sitting at response_top_ (through == response_top_: no filter saw it yet); only the filter
  // holding the head (parked in on_response_head) and those below it see chunks early. At the
  // commit point the held chunks go on through [0, through) in arrival order, before any later
  // chunk; a replay, a rerun or a whole (non-streamed) replacement drops them unsent.
  struct EarlyChunk {
    std::string data;
    bool last = false;
    size_t through = 0;
  };

  // The steering helper: records `action` (unless a stronger one is pending) and, when no hook
  // is on the stack, applies it at once through flush().
  void steer(Action action);
  // Applies the pending action outside any hook: only when the path is parked (at cursor_),
  // as if the parked hook had just returned Stop with that action; dropped otherwise.
  void flush();
  // Applies what the hook of filter cursor_, run in phase `ran_in`, left: its status and the
  // pending action (consumed). Returns true when the path goes on to the next filter; false
  // when it parked here or moved on (reply, delivered head, replay, rerun, end).
  bool settle(Phase ran_in, Status status);
  // Goes on past the filter at cursor_ on the current path (after a resume).
  void continue_path();

  // Runs one hook of filter `index` with `hook` marked on the stack.
  template <class Fn>
  auto run_hook(Hook hook, size_t index, Fn&& fn);

  void run_request_path(size_t from);
  void start_response_path(size_t producer);
  void run_response_head_path(size_t below);
  void rerun_below_filter(size_t index);
  void restart_below(size_t index);
  void commit();
  // Runs on_response_data for filters [down_to, top), bottom to top.
  void run_data_path(std::string& chunk, bool last, size_t top, size_t down_to);
  void send_stream_chunk(std::string& chunk, bool last, size_t through);
  void finish();
  // Drops the replay point (if any), keeping its snapshot's memory for a later mark.
  void release_replay_point();
  void retire_filters_from(size_t index);
  void make_filters_from(size_t index);

  SlotMap& exchange_slots() override { return slots_; }
  const SlotMap& exchange_slots() const override { return slots_; }
  SlotMap& run_slots() override { return run_slots_; }
  TerminalCallbacks& terminal_role() override { return *this; }

  Worker& worker_;
  std::shared_ptr<const ChainSpec> chain_;
  std::shared_ptr<const Settings> settings_;
  Downstream& downstream_;
  http::Request request_;
  http::Response response_;
  StreamInfo info_;

  // The memory of the filters and slots below, freed after them (declared before them). See
  // "Memory" in filter.h: the filters live in it, owned by filters_ and retired_ as before.
  Arena arena_;
  using FilterList = std::vector<std::unique_ptr<Filter>, ArenaAllocator<std::unique_ptr<Filter>>>;
  FilterList filters_{ArenaAllocator<std::unique_ptr<Filter>>(&arena_)};
  FilterList retired_{ArenaAllocator<std::unique_ptr<Filter>>(&arena_)};  // replaced by a replay
  SlotMap slots_{&arena_};
  SlotMap run_slots_{&arena_};

  // The chain's position: the phase, the filter whose hook runs or is parked, whether a hook
  // is on the stack, whether the path waits at cursor_ for resume(), and what a steering call
  // asked for while a hook was on the stack (empty whenever none is).
  Phase phase_ = Phase::kNew;
  size_t cursor_ = 0;
  Hook running_ = Hook::kNone;
  bool parked_ = false;
  Action pending_;
  size_t response_top_ = 0;  // filters [0, response_top_) take part in the response path
  bool committed_ = false;
  std::optional<ReplayPoint> replay_point_;
  std::vector<EarlyChunk> early_chunks_;

  // Out of line for the same reason as Reply: only a stream that fails after its commit has one.
  std::unique_ptr<http::LocalError> stream_failure_;
  bool stream_failure_handled_ = false;
  std::function<void(bool)> flow_control_;
  bool downstream_blocked_ = false;
  // What handles and deferred calls point through; made on first use (most requests need none).
  const std::shared_ptr<ExchangeAnchor>& anchor();
  std::shared_ptr<ExchangeAnchor> anchor_;
};

}  // namespace gemgate
