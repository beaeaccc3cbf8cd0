#include "core/exchange.h"

#include <utility>

#include "core/clock.h"
#include "core/log.h"
#include "core/request_id.h"
#include "core/worker.h"

namespace gemgate {

namespace {

// Request snapshots of replay points that ended, per thread: a new mark copies into one, and a
// copy assignment keeps the memory of its strings and header list, so a replay point costs no
// malloc once the thread is warm. Bounded in count and in what each may keep; a snapshot keeps
// no body stream alive.
class SnapshotCache {
 public:
  ~SnapshotCache() { gone = true; }
  // True once this thread's cache was destroyed (an exchange outliving it frees its own).
  static thread_local bool gone;

  std::unique_ptr<http::Request> take() {
    if (spare_.empty()) return std::make_unique<http::Request>();
    std::unique_ptr<http::Request> r = std::move(spare_.back());
    spare_.pop_back();
    return r;
  }

  void give(std::unique_ptr<http::Request> r) {
    if (!r || spare_.size() >= kMaxSpare) return;
    r->body_stream.reset();
    if (r->body.capacity() > kMaxKeptBody) std::string().swap(r->body);
    spare_.push_back(std::move(r));
  }

 private:
  static constexpr size_t kMaxSpare = 64;
  static constexpr size_t kMaxKeptBody = 64 * 1024;
  std::vector<std::unique_ptr<http::Request>> spare_;
};

thread_local bool SnapshotCache::gone = false;

// This thread's cache, or null once it was destroyed (at thread exit).
SnapshotCache* snapshot_cache() {
  thread_local SnapshotCache cache;
  return SnapshotCache::gone ? nullptr : &cache;
}

}  // namespace

template <class Role>
void ExchangeHandle<Role>::post(std::function<void(Role&)> fn) const {
  if (!worker_) return;
  worker_->post([anchor = anchor_, fn = std::move(fn)] {
    if (anchor->exchange && !anchor->exchange->finished()) fn(*anchor->exchange);
  });
}
template class ExchangeHandle<FilterCallbacks>;
template class ExchangeHandle<TerminalCallbacks>;

Status TerminalFilter::on_request(FilterCallbacks& x) {
  return on_request(x.terminal_role());
}

void FilterCallbacks::reply_local(int status, std::string code, std::string message) {
  http::LocalError e;
  e.status = status;
  e.code = std::move(code);
  e.message = std::move(message);
  reply_local(std::move(e));
}

Exchange::Exchange(Worker& worker, std::shared_ptr<const ChainSpec> chain,
                   std::shared_ptr<const Settings> settings, Downstream& downstream)
    : worker_(worker),
      chain_(std::move(chain)),
      settings_(std::move(settings)),
      downstream_(downstream) {
  info_.start = StreamInfo::Clock::now();
  info_.start_unix_ms = now_unix_ms();
  info_.chain = chain_->name;
  make_filters_from(0);
}

Exchange::~Exchange() {
  if (anchor_) anchor_->exchange = nullptr;
  if (phase_ != Phase::kDone) cancel();
  release_replay_point();
}

const std::shared_ptr<ExchangeAnchor>& Exchange::anchor() {
  if (!anchor_) anchor_ = std::make_shared<ExchangeAnchor>(ExchangeAnchor{this});
  return anchor_;
}

ExchangeRef Exchange::ref() {
  ExchangeRef r;
  r.worker_ = &worker_;
  r.anchor_ = anchor();
  return r;
}

TerminalRef Exchange::terminal_ref() {
  TerminalRef r;
  r.worker_ = &worker_;
  r.anchor_ = anchor();
  return r;
}

void Exchange::make_filters_from(size_t index) {
  filters_.resize(index);
  filters_.reserve(chain_->factories.size());
  ArenaScope in_arena(&arena_);  // the filters the factories make live in this exchange's arena
  for (size_t i = index; i < chain_->factories.size(); ++i) {
    filters_.push_back(chain_->factories[i]());
  }
}

void Exchange::retire_filters_from(size_t index) {
  for (size_t i = filters_.size(); i-- > index;) filters_[i]->on_done(*this);
  for (size_t i = index; i < filters_.size(); ++i) retired_.push_back(std::move(filters_[i]));
  filters_.resize(index);
}

template <class Fn>
auto Exchange::run_hook(Hook hook, size_t index, Fn&& fn) {
  cursor_ = index;
  Hook outer = std::exchange(running_, hook);
  auto result = fn(*filters_[index]);
  running_ = outer;
  return result;
}

// ---- the deferred action: record, then apply once no hook is on the stack ----

void Exchange::steer(Action action) {
  if (action.index() > pending_.index()) pending_ = std::move(action);
  if (running_ == Hook::kNone) flush();
}

void Exchange::flush() {
  if (!parked_) {
    pending_ = std::monostate{};  // nothing waits for it (e.g. a resume that came late)
    return;
  }
  if (std::holds_alternative<std::monostate>(pending_)) return;
  parked_ = false;
  if (settle(phase_, Status::Stop)) continue_path();
}

bool Exchange::settle(Phase ran_in, Status status) {
  Action action = std::exchange(pending_, std::monostate{});
  if (phase_ != ran_in) return false;  // the exchange ended from inside the hook
  if (std::holds_alternative<Deliver>(action)) {
    start_response_path(cursor_);
    return false;
  }
  if (auto* reply = std::get_if<Reply>(&action)) {
    response_ = std::move(*reply->response);
    start_response_path(cursor_);
    return false;
  }
  if (std::holds_alternative<Replay>(action)) {
    request_ = *replay_point_->request;
    if (replay_point_->shared_body) request_.body = *replay_point_->shared_body;
    restart_below(replay_point_->filter);
    return false;
  }
  if (std::holds_alternative<Rerun>(action)) {
    rerun_below_filter(cursor_);
    return false;
  }
  if (status == Status::Stop && !std::holds_alternative<Resume>(action)) {
    parked_ = true;
    return false;
  }
  return true;
}

void Exchange::continue_path() {
  if (phase_ == Phase::kRequest) {
    run_request_path(cursor_ + 1);
  } else if (phase_ == Phase::kResponseHead) {
    run_response_head_path(cursor_);
  }
}

// ---- the paths ----

bool Exchange::start_headers() {
  if (phase_ != Phase::kNew) return false;
  phase_ = Phase::kHeaders;
  for (size_t i = 0; i < filters_.size(); ++i) {
    Status status =
        run_hook(Hook::kHeaders, i, [this](Filter& f) { return f.on_request_headers(*this); });
    if (phase_ == Phase::kHeaders && status == Status::Stop &&
        !std::holds_alternative<Reply>(pending_)) {
      log::error("filter '" + chain_->filter_names[i] +
                 "' stopped at the request head without replying");
      http::Response r;
      r.status = 500;
      r.local_error = http::LocalError{500, "INTERNAL", "the gateway produced no response", ""};
      pending_ = Reply{std::make_unique<http::Response>(std::move(r))};
    }
    // Here a Stop always carries a reply, so the head path never parks.
    if (!settle(Phase::kHeaders, status)) return false;
  }
  phase_ = Phase::kAwaitingBody;
  return true;
}

void Exchange::start() {
  if (phase_ == Phase::kNew && !start_headers()) return;
  if (phase_ != Phase::kAwaitingBody) return;
  run_request_path(0);
}

void Exchange::abandon_request(int status, std::string error) {
  if (phase_ == Phase::kDone) return;
  info_.status = status;
  info_.error = std::move(error);
  phase_ = Phase::kDone;
  info_.end = StreamInfo::Clock::now();
  flow_control_ = nullptr;
  for (size_t i = filters_.size(); i-- > 0;) filters_[i]->on_done(*this);
}

void Exchange::run_request_path(size_t from) {
  phase_ = Phase::kRequest;
  for (size_t i = from; i < filters_.size(); ++i) {
    Status status = run_hook(Hook::kRequest, i, [this](Filter& f) { return f.on_request(*this); });
    if (!settle(Phase::kRequest, status)) return;
  }
  // The terminal filter returned Continue: it produced the whole response synchronously.
  start_response_path(filters_.size() - 1);
}

void Exchange::start_response_path(size_t producer) {
  phase_ = Phase::kResponseHead;
  response_top_ = producer;
  if (response_.status == 0) {
    log::error("filter '" + chain_->filter_names[producer] + "' produced no response");
    response_ = http::Response{};
    response_.status = 500;
    response_.local_error =
        http::LocalError{500, "INTERNAL", "the gateway produced no response", ""};
  }
  run_response_head_path(producer);
}

void Exchange::run_response_head_path(size_t below) {
  for (size_t i = below; i-- > 0;) {
    Status status =
        run_hook(Hook::kResponseHead, i, [this](Filter& f) { return f.on_response_head(*this); });
    if (!settle(Phase::kResponseHead, status)) return;
  }
  commit();
}

void Exchange::rerun_below_filter(size_t index) {
  run_slots_.clear();
  // A replay point below `index` is re-created with the filters anyway.
  if (replay_point_ && replay_point_->filter > index) release_replay_point();
  restart_below(index);
}

void Exchange::restart_below(size_t index) {
  retire_filters_from(index + 1);
  response_ = http::Response{};
  stream_failure_.reset();
  early_chunks_.clear();  // stream data of a failed attempt must never reach the client
  flow_control_ = nullptr;
  make_filters_from(index + 1);
  // Park at `index` and run the filters below on a later turn, once the stack of the previous
  // attempt (often a transport callback) has unwound.
  phase_ = Phase::kRequest;
  cursor_ = index;
  parked_ = true;
  worker_.next_tick([anchor = anchor(), point = index] {
    Exchange* x = anchor->exchange;
    if (!x || x->phase_ != Phase::kRequest || !x->parked_ || x->cursor_ != point) return;
    x->parked_ = false;
    x->continue_path();
  });
}

// ---- steering calls (FilterCallbacks) ----

void Exchange::resume() {
  if (phase_ == Phase::kDone) return;
  steer(Resume{});
}

void Exchange::reply_local(http::LocalError error) {
  http::Response r;
  r.status = error.status;
  r.local_error = std::move(error);
  respond(std::move(r));
}

void Exchange::respond(http::Response response) {
  if (phase_ == Phase::kDone) return;
  if (committed_) {
    http::LocalError e;
    e.status = response.status;
    e.code = "INTERNAL";
    e.message = "a filter replied after the response had started";
    deliver_failure(std::move(e));
    return;
  }
  if (phase_ == Phase::kResponseHead) {
    // On the response path the reply replaces the response at once (the hook may go on
    // changing it); the path then goes on upwards from this filter, as after a resume.
    response_ = std::move(response);
    steer(Resume{});
    return;
  }
  steer(Reply{std::make_unique<http::Response>(std::move(response))});
}

void Exchange::mark_replay_point() {
  if (!replay_point_) {
    SnapshotCache* cache = snapshot_cache();
    replay_point_ =
        ReplayPoint{cursor_, cache ? cache->take() : std::make_unique<http::Request>(), nullptr};
  }
  replay_point_->filter = cursor_;
  *replay_point_->request = request_;
  replay_point_->shared_body.reset();
}

std::shared_ptr<const std::string> Exchange::take_request_body() {
  if (request_.body.empty()) return nullptr;
  // Only a body worth the comparison: a small one's copy is cheap, and the snapshot keeps its
  // capacity for the next request (SnapshotCache).
  constexpr size_t kShareFromBytes = 4 * 1024;
  if (replay_point_ && request_.body.size() >= kShareFromBytes) {
    ReplayPoint& point = *replay_point_;
    if (point.shared_body && *point.shared_body == request_.body) {
      std::string().swap(request_.body);  // sent again after a replay: the same bytes
      return point.shared_body;
    }
    if (!point.shared_body && point.request->body == request_.body) {
      point.shared_body = std::make_shared<const std::string>(std::move(request_.body));
      std::string().swap(point.request->body);
      request_.body.clear();
      return point.shared_body;
    }
  }
  auto body = std::make_shared<const std::string>(std::move(request_.body));
  request_.body.clear();
  return body;
}

void Exchange::release_replay_point() {
  if (!replay_point_) return;
  if (SnapshotCache* cache = snapshot_cache()) cache->give(std::move(replay_point_->request));
  replay_point_.reset();
}

bool Exchange::replay() {
  if (committed_ || phase_ != Phase::kResponseHead || !replay_point_ ||
      cursor_ != replay_point_->filter) {
    return false;
  }
  // From that filter's on_response_head, or later while it holds the head parked.
  bool allowed = running_ == Hook::kNone ? parked_ : running_ == Hook::kResponseHead;
  if (!allowed) return false;
  steer(Replay{});
  return true;
}

bool Exchange::rerun_below() {
  if (committed_ || phase_ != Phase::kResponseHead || running_ != Hook::kResponseHead) {
    return false;
  }
  steer(Rerun{});
  return true;
}

// ---- delivery (TerminalCallbacks) ----

void Exchange::deliver_head() {
  if (phase_ != Phase::kRequest) return;
  steer(Deliver{});
}

void Exchange::commit() {
  if (response_.local_error && response_.body.empty()) {
    response_.body = chain_->render_error(*response_.local_error);
    response_.headers.set("content-type", "application/json; charset=utf-8");
    response_.streaming = false;
  } else if (!response_.streaming) {
    run_data_path(response_.body, true, response_top_, 0);
  }
  committed_ = true;
  release_replay_point();  // no replay once the answer is leaving
  info_.status = response_.status;
  info_.first_byte = StreamInfo::Clock::now();
  // Every answer names its request, successes and streams included (the client can quote it;
  // the access line and the stored row carry the same id). An id a filter put on the answer
  // (an embedder's own scheme) wins and is the one logged.
  if (const std::string* set = response_.headers.get("x-request-id")) {
    info_.request_id = *set;
  } else {
    if (info_.request_id.empty())
      info_.request_id = adopt_request_id(request_.headers.get("x-request-id"));
    response_.headers.set("x-request-id", info_.request_id);
  }
  if (!response_.streaming) {
    early_chunks_.clear();  // a filter replaced the stream with a whole answer
    info_.bytes_out += response_.body.size();
    downstream_.send_response(response_);
    finish();
    return;
  }
  phase_ = Phase::kStreaming;
  info_.stream = true;
  downstream_.send_stream_head(response_);
  // Chunks that arrived before the commit point go out now, in order, through the filters they
  // have not passed yet.
  std::vector<EarlyChunk> early;
  early.swap(early_chunks_);
  for (EarlyChunk& c : early) {
    send_stream_chunk(c.data, c.last, c.through);
    if (phase_ == Phase::kDone) return;
  }
}

void Exchange::run_data_path(std::string& chunk, bool last, size_t top, size_t down_to) {
  for (size_t i = top; i-- > down_to;) filters_[i]->on_response_data(*this, chunk, last);
}

void Exchange::send_stream_chunk(std::string& chunk, bool last, size_t through) {
  run_data_path(chunk, last, through, 0);
  if (phase_ == Phase::kDone) return;  // a filter ended the stream from inside its hook
  if (!chunk.empty()) {
    info_.bytes_out += chunk.size();
    downstream_.send_owned_chunk(std::move(chunk));
  }
  if (last) {
    downstream_.end_stream(true);
    finish();
  }
}

bool Exchange::send_data(const Filter& self, std::string chunk) {
  if (phase_ != Phase::kStreaming || running_ != Hook::kNone) return false;
  size_t at = 0;
  while (at < response_top_ && filters_[at].get() != &self) ++at;
  if (at >= response_top_) return false;  // not above the producer: never on the response path
  run_data_path(chunk, false, at, 0);
  if (phase_ == Phase::kDone) return true;  // a filter above ended the stream
  if (!chunk.empty()) {
    info_.bytes_out += chunk.size();
    downstream_.send_owned_chunk(std::move(chunk));
  }
  return true;
}

void Exchange::deliver_data(std::string chunk, bool last) {
  if (phase_ == Phase::kDone || !response_.streaming) return;
  if (phase_ == Phase::kStreaming) {
    send_stream_chunk(chunk, last, response_top_);
    return;
  }
  if (phase_ == Phase::kRequest) {
    // Data delivered before the head went up (or with it, from inside on_request): no filter
    // has seen it, and the producer at cursor_ becomes response_top_.
    early_chunks_.push_back(EarlyChunk{std::move(chunk), last, cursor_});
    return;
  }
  if (phase_ != Phase::kResponseHead) return;
  // Before the commit point. If the head is parked at a filter, that filter (and those below it)
  // see the chunk now; it may resume the head (or reply) from inside on_response_data.
  size_t through = response_top_;
  if (parked_) {
    through = cursor_;
    Hook outer = std::exchange(running_, Hook::kResponseData);
    run_data_path(chunk, last, response_top_, through);
    running_ = outer;
    if (phase_ != Phase::kResponseHead) return;
  }
  early_chunks_.push_back(EarlyChunk{std::move(chunk), last, through});
  flush();  // what the data hooks asked for, applied as for the parked hook
}

void Exchange::deliver_failure(http::LocalError error) {
  if (phase_ == Phase::kDone) return;
  if (!committed_) {
    info_.error = error.message;
    reply_local(std::move(error));
    return;
  }
  info_.error = error.message;
  stream_failure_ = std::make_unique<http::LocalError>(std::move(error));
  std::string chunk;
  run_data_path(chunk, true, response_top_, 0);
  if (!chunk.empty()) {
    info_.bytes_out += chunk.size();
    downstream_.send_owned_chunk(std::move(chunk));
  }
  downstream_.end_stream(stream_failure_handled_);
  finish();
}

void Exchange::set_downstream_blocked(bool blocked) {
  downstream_blocked_ = blocked;
  if (flow_control_) flow_control_(blocked);
}

void Exchange::set_flow_control(std::function<void(bool blocked)> fn) {
  flow_control_ = std::move(fn);
  // The connection may already be backed up (an earlier pipelined answer still going out).
  if (flow_control_ && downstream_blocked_) flow_control_(true);
}

void Exchange::finish() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  info_.end = StreamInfo::Clock::now();
  flow_control_ = nullptr;
  for (size_t i = filters_.size(); i-- > 0;) filters_[i]->on_done(*this);
  downstream_.exchange_finished();
}

void Exchange::cancel() {
  if (phase_ == Phase::kDone) return;
  info_.client_aborted = true;
  if (!committed_) info_.status = 499;
  if (info_.error.empty()) info_.error = "client closed the connection";
  phase_ = Phase::kDone;
  info_.end = StreamInfo::Clock::now();
  flow_control_ = nullptr;
  for (size_t i = filters_.size(); i-- > 0;) filters_[i]->on_done(*this);
}

}  // namespace gemgate
