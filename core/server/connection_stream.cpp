// Connection, part 3: a streamed request body. On a route with `stream_body: true` the request
// path runs as soon as the head passed its filters (the request carries an empty body and
// body_stream), and the body goes on to the exchange's reader as it arrives:
//
//   socket ──uv_read──▶ parser ──forward_body──▶ StreamedBody ──read()──▶ upstream transfer
//      ▲                                              │
//      └──── uv_read_start (on_body_drained) ◀── under the low watermark
//
// Above the high watermark the connection stops reading the socket, so a client faster than the
// upstream is held back by TCP instead of filling memory; the body timers rest meanwhile (the
// wait is the upstream's, whose own idle deadline applies). The body gap, the minimum body rate
// and the route's size limit apply as on any route; the whole-request deadline
// (request_timeout) does not, as an upload of gigabytes may rightly take longer.
#include "core/log.h"
#include "core/server/connection.h"
#include "core/server/server.h"

namespace gemgate::server {

bool Connection::reserve_stream_budget() {
  const size_t want = StreamedBody::kHighWatermark + Server::kReadBufferSize;
  ServerContext& ctx = server_.context();
  size_t total = ctx.buffered_body_bytes.fetch_add(want) + want;
  body_reserved_ = want;
  if (total <= limits_->max_buffered_body_bytes) return true;
  release_body_budget();
  log::warn("request bodies held across all connections would exceed max_buffered_body_bytes (" +
            std::to_string(limits_->max_buffered_body_bytes) +
            "): refusing a streamed upload with 503");
  return false;
}

void Connection::start_streamed_body() {
  set_phase(Phase::kStreamBody);
  timers_.clear(kRequestTimer);
  body_ = std::make_shared<StreamedBody>(server_.worker(), parser_.content_length());
  body_->set_on_drained([this] { on_body_drained(); });
  exchange_->request().body_stream = body_;
  if (blocked_) exchange_->set_downstream_blocked(true);
  // May answer at once (a filter replies): exchange_finished() then drops the body.
  exchange_->start();
}

void Connection::forward_body() {
  std::string_view bytes = parser_.body_bytes();
  if (bytes.empty()) return;
  exchange_->info().bytes_in = parser_.body_size();
  bool stop = body_->push(bytes);
  parser_.drop_body_bytes();
  if (!stop || body_paused_) return;
  // Backpressure: the reader is behind by the high watermark. Rest the body timers too: the
  // client is not the one who is slow now.
  body_paused_ = true;
  if (reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
  timers_.clear(kRateTimer);
  set_read_timer(ReadTimer::kNone);
}

void Connection::on_body_drained() {
  // Called from inside the reader's read(): only flags, timers and uv_read_start here.
  if (!body_paused_) return;
  body_paused_ = false;
  if (ending_ != Ending::kOpen || phase_ != Phase::kStreamBody) return;
  if (!reading_) start_reading();
  set_read_timer(ReadTimer::kBody);
  const ServerLimits& limits = *limits_;
  if (limits.min_body_rate > 0) {
    rate_mark_ = parser_.body_size();  // a fresh window: the pause was not the client's
    timers_.set(kRateTimer, limits.body_rate_window_ms);
  }
}

void Connection::finish_streamed_body() {
  set_phase(Phase::kRunning);
  keep_alive_ = keep_alive_ && parser_.keep_alive();
  body_->set_on_drained(nullptr);
  body_->finish();
  body_.reset();  // the request and its transfer keep it until they are done with it
  body_paused_ = false;
}

void Connection::drop_streamed_body() {
  if (!body_) return;
  body_->set_on_drained(nullptr);
  body_->fail();
  body_.reset();
  body_paused_ = false;
  keep_alive_ = false;  // the rest of the body is never read: no request can follow it
  timers_.clear(kRateTimer);
  if (read_timer_kind_ == ReadTimer::kBody) set_read_timer(ReadTimer::kNone);
}

}  // namespace gemgate::server
