// Connection, part 4: the timeouts. The four deadlines share one timer (Deadlines, deadline.h):
// the read timer (head, body gap, keep-alive or linger, whichever the phase waits for), the whole
// request, the minimum body rate and the write progress check (connection_write.cpp). Each one
// answers 408 while a request is being read, or closes the connection when none is.
#include <string>

#include "core/server/connection.h"
#include "core/server/server.h"

namespace gemgate::server {

void Connection::on_deadline(void* self, size_t which) noexcept {
  auto* c = static_cast<Connection*>(self);
  switch (which) {
    case kReadTimer:
      c->on_read_timeout();
      return;
    case kRequestTimer:
      c->on_request_timeout();
      return;
    case kRateTimer:
      c->on_body_rate_check();
      return;
    case kWriteTimer:
      c->on_write_check();
      return;
  }
}

void Connection::start_request_timers() {
  timers_.set(kRequestTimer, limits_->request_timeout_ms);
}

void Connection::on_request_timeout() {
  if (!parser_.in_request()) return;  // between requests: the keep-alive timer rules
  reply_error(408,
              "request not received within " + std::to_string(limits_->request_timeout_ms) + " ms");
}

void Connection::stop_request_timers() {
  timers_.clear(kRequestTimer);
  timers_.clear(kRateTimer);
}

void Connection::on_body_rate_check() {
  const ServerLimits& limits = *limits_;
  size_t got = parser_.body_size() - rate_mark_;
  uint64_t need = static_cast<uint64_t>(limits.min_body_rate) * limits.body_rate_window_ms / 1000;
  if (got < need) {
    reply_error(408, "request body arrived slower than " + std::to_string(limits.min_body_rate) +
                         " bytes/s");
    return;
  }
  rate_mark_ = parser_.body_size();
  timers_.set(kRateTimer, limits.body_rate_window_ms);  // the next window
}

void Connection::set_read_timer(ReadTimer which) {
  read_timer_kind_ = which;
  // Only a connection waiting for its next request may be shed to make room
  // (Server::on_connection).
  server_.set_idle(this, which == ReadTimer::kKeepAlive);
  const ServerLimits& limits = *limits_;
  uint64_t ms = 0;
  switch (which) {
    case ReadTimer::kNone:
      timers_.clear(kReadTimer);
      return;
    case ReadTimer::kHead:
      ms = limits.head_timeout_ms;
      break;
    case ReadTimer::kBody:
      ms = limits.body_timeout_ms;
      break;
    case ReadTimer::kKeepAlive:
      ms = limits.keepalive_timeout_ms;
      break;
    case ReadTimer::kLinger:
      ms = limits.linger_ms;
      break;
  }
  timers_.set(kReadTimer, ms);
}

void Connection::on_read_timeout() {
  switch (read_timer_kind_) {
    case ReadTimer::kHead:
      if (parser_.in_request()) {
        reply_error(408, "request head not received in time");
      } else {
        close_now();  // connected but never sent anything
      }
      return;
    case ReadTimer::kBody:
      reply_error(408, "request body not received in time");
      return;
    case ReadTimer::kKeepAlive:
    case ReadTimer::kLinger:
    case ReadTimer::kNone:
      close_now();
      return;
  }
}

}  // namespace gemgate::server
