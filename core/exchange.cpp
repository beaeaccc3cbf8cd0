#include "core/exchange.h"

#include <chrono>

#include "core/log.h"
#include "core/worker.h"

namespace gemgate {

namespace {
// EarlyChunk::through for data no filter has seen yet.
constexpr size_t kNotPassed = SIZE_MAX;
}  // namespace

void ExchangeRef::post(std::function<void(Exchange&)> fn) const {
  if (!worker_) return;
  worker_->post([anchor = anchor_, fn = std::move(fn)] {
    if (anchor->exchange && !anchor->exchange->finished()) fn(*anchor->exchange);
  });
}

Exchange::Exchange(Worker& worker, std::shared_ptr<const ChainSpec> chain,
                   std::shared_ptr<const Settings> settings, Downstream& downstream)
    : worker_(worker),
      chain_(std::move(chain)),
      settings_(std::move(settings)),
      downstream_(downstream),
      anchor_(std::make_shared<ExchangeRef::Anchor>(ExchangeRef::Anchor{this})) {
  info_.start = StreamInfo::Clock::now();
  info_.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  info_.chain = chain_->name;
  make_filters_from(0);
}

Exchange::~Exchange() {
  anchor_->exchange = nullptr;
  if (phase_ != Phase::kDone) cancel();
}

ExchangeRef Exchange::ref() {
  ExchangeRef r;
  r.worker_ = &worker_;
  r.anchor_ = anchor_;
  return r;
}

void Exchange::make_filters_from(size_t index) {
  filters_.resize(index);
  for (size_t i = index; i < chain_->factories.size(); ++i) {
    filters_.push_back(chain_->factories[i]());
  }
}

void Exchange::retire_filters_from(size_t index) {
  for (size_t i = filters_.size(); i-- > index;) filters_[i]->on_done(*this);
  for (size_t i = index; i < filters_.size(); ++i) retired_.push_back(std::move(filters_[i]));
  filters_.resize(index);
}

bool Exchange::start_headers() {
  if (headers_ran_) return false;
  headers_ran_ = true;
  for (size_t i = 0; i < filters_.size(); ++i) {
    cursor_ = i;
    in_hook_ = true;
    Status status = filters_[i]->on_request_headers(*this);
    in_hook_ = false;
    if (phase_ != Phase::kHeaders) return false;
    if (!pending_reply_ && status == Status::Stop) {
      log::error("filter '" + chain_->filter_names[i] +
                 "' stopped at the request head without replying");
      http::Response r;
      r.status = 500;
      r.local_error = http::LocalError{500, "INTERNAL", "the gateway produced no response", ""};
      pending_reply_ = std::move(r);
    }
    if (pending_reply_) {
      response_ = std::move(*pending_reply_);
      pending_reply_.reset();
      start_response_path(i);
      return false;
    }
  }
  phase_ = Phase::kRequest;
  return true;
}

void Exchange::start() {
  if (!headers_ran_ && !start_headers()) return;
  if (phase_ != Phase::kRequest || request_started_) return;
  request_started_ = true;
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
    cursor_ = i;
    resume_requested_ = false;
    in_hook_ = true;
    Status status = filters_[i]->on_request(*this);
    in_hook_ = false;
    if (phase_ != Phase::kRequest) return;
    if (head_delivered_) {
      head_delivered_ = false;
      start_response_path(i);
      return;
    }
    if (pending_reply_) {
      response_ = std::move(*pending_reply_);
      pending_reply_.reset();
      start_response_path(i);
      return;
    }
    if (status == Status::Stop && !resume_requested_) {
      parked_ = true;
      return;
    }
  }
  // The terminal filter returned Continue: it produced the whole response synchronously.
  start_response_path(filters_.size() - 1);
}

void Exchange::resume() {
  if (phase_ == Phase::kDone) return;
  if (in_hook_) {
    resume_requested_ = true;
    return;
  }
  if (!parked_) return;
  parked_ = false;
  if (phase_ == Phase::kRequest) {
    run_request_path(cursor_ + 1);
  } else if (phase_ == Phase::kResponseHead) {
    run_response_head_path(cursor_);
  }
}

void Exchange::reply_local(int status, std::string code, std::string message) {
  http::LocalError e;
  e.status = status;
  e.code = std::move(code);
  e.message = std::move(message);
  reply_local(std::move(e));
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
  if (phase_ == Phase::kHeaders || phase_ == Phase::kRequest) {
    if (in_hook_) {
      pending_reply_ = std::move(response);
      return;
    }
    if (phase_ == Phase::kHeaders) return;  // only from inside on_request_headers
    parked_ = false;
    response_ = std::move(response);
    start_response_path(cursor_);
    return;
  }
  // On the response path: replace the response; the path goes on upwards from here.
  response_ = std::move(response);
  // A hook that replied has done its part: its Stop must not park the exchange.
  if (in_hook_) resume_requested_ = true;
  if (!in_hook_ && parked_) {
    parked_ = false;
    run_response_head_path(cursor_);
  }
}

void Exchange::deliver_head() {
  if (phase_ != Phase::kRequest) return;
  if (in_hook_) {
    head_delivered_ = true;  // delivered from inside on_request; handled when the hook returns
    return;
  }
  parked_ = false;
  start_response_path(cursor_);
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
    cursor_ = i;
    resume_requested_ = false;
    replay_requested_ = false;
    rerun_requested_ = false;
    in_hook_ = true;
    Status status = filters_[i]->on_response_head(*this);
    in_hook_ = false;
    if (phase_ != Phase::kResponseHead) return;
    if (replay_requested_) {
      replay_requested_ = false;
      do_replay();
      return;
    }
    if (rerun_requested_) {
      rerun_requested_ = false;
      run_slots_.clear();
      if (replay_point_ != SIZE_MAX && replay_point_ > i) {  // it lies below: re-created anyway
        replay_request_.reset();
        replay_point_ = SIZE_MAX;
      }
      restart_below(i);
      return;
    }
    if (status == Status::Stop && !resume_requested_) {
      parked_ = true;
      return;
    }
  }
  commit();
}

void Exchange::mark_replay_point() {
  replay_point_ = cursor_;
  replay_request_ = request_;
}

bool Exchange::replay() {
  if (committed_ || phase_ != Phase::kResponseHead || cursor_ != replay_point_ ||
      !replay_request_) {
    return false;
  }
  if (in_hook_) {
    replay_requested_ = true;
  } else if (parked_) {
    parked_ = false;
    do_replay();
  } else {
    return false;
  }
  return true;
}

bool Exchange::rerun_below() {
  if (committed_ || phase_ != Phase::kResponseHead || !in_hook_) return false;
  rerun_requested_ = true;
  return true;
}

void Exchange::do_replay() {
  request_ = *replay_request_;
  restart_below(replay_point_);
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
  worker_.next_tick([anchor = anchor_, point = index] {
    Exchange* x = anchor->exchange;
    if (!x || x->phase_ != Phase::kRequest || !x->parked_ || x->cursor_ != point) return;
    x->parked_ = false;
    x->run_request_path(point + 1);
  });
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
  info_.status = response_.status;
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
    send_stream_chunk(c.data, c.last, c.through == kNotPassed ? response_top_ : c.through);
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
    downstream_.send_chunk(chunk);
  }
  if (last) {
    downstream_.end_stream(true);
    finish();
  }
}

void Exchange::deliver_data(std::string chunk, bool last) {
  if (phase_ == Phase::kDone || !response_.streaming) return;
  if (phase_ == Phase::kStreaming) {
    send_stream_chunk(chunk, last, response_top_);
    return;
  }
  if (phase_ == Phase::kRequest) {
    // Head and data delivered from inside on_request: the response path has not started yet.
    early_chunks_.push_back(EarlyChunk{std::move(chunk), last, kNotPassed});
    return;
  }
  if (phase_ != Phase::kResponseHead) return;
  // Before the commit point. If the head is parked at a filter, that filter (and those below it)
  // see the chunk now; it may resume the head from inside on_response_data.
  size_t through = response_top_;
  if (parked_) {
    through = cursor_;
    resume_requested_ = false;
    in_hook_ = true;
    run_data_path(chunk, last, response_top_, through);
    in_hook_ = false;
    if (phase_ != Phase::kResponseHead) return;
  }
  early_chunks_.push_back(EarlyChunk{std::move(chunk), last, through});
  if (parked_ && resume_requested_) {
    resume_requested_ = false;
    parked_ = false;
    run_response_head_path(cursor_);
  }
}

void Exchange::deliver_failure(http::LocalError error) {
  if (phase_ == Phase::kDone) return;
  if (!committed_) {
    info_.error = error.message;
    reply_local(std::move(error));
    return;
  }
  info_.error = error.message;
  stream_failure_ = std::move(error);
  std::string chunk;
  run_data_path(chunk, true, response_top_, 0);
  if (!chunk.empty()) {
    info_.bytes_out += chunk.size();
    downstream_.send_chunk(chunk);
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
