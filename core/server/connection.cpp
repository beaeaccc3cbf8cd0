#include "core/server/connection.h"

#include <cassert>
#include <cstring>

#include "core/chain.h"
#include "core/log.h"
#include "core/request_id.h"
#include "core/server/server.h"

namespace gemgate::server {

namespace {

std::string peer_name(uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char ip[64] = {0};
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    uv_ip4_name(a, ip, sizeof ip);
    port = ntohs(a->sin_port);
    return std::string(ip) + ":" + std::to_string(port);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
  uv_ip6_name(a, ip, sizeof ip);
  port = ntohs(a->sin6_port);
  return "[" + std::string(ip) + "]:" + std::to_string(port);
}

// An error answer made by the connection itself, in the Google error shape.
http::Response json_error(int status, std::string code, const std::string& message) {
  http::Response r;
  r.status = status;
  r.body = render_json_error({status, std::move(code), message, ""});
  r.headers.set("content-type", "application/json; charset=utf-8");
  return r;
}

// The Google status name of an error the connection answers itself.
std::string error_code(int status) {
  return status == 413   ? "PAYLOAD_TOO_LARGE"
         : status == 408 ? "DEADLINE_EXCEEDED"
         : status == 431 ? "REQUEST_HEADER_FIELDS_TOO_LARGE"
         : status == 414 ? "URI_TOO_LONG"
         : status == 503 ? "UNAVAILABLE"
         : status >= 500 ? "UNIMPLEMENTED"
                         : "INVALID_ARGUMENT";
}

}  // namespace

Connection::Connection(Server& server, uint64_t id)
    : server_(server),
      id_(id),
      limits_(server.context().limits.load()),
      parser_(*limits_),
      timers_(server.worker().loop(), this, &Connection::on_deadline),
      anchor_(std::make_shared<Connection*>(this)) {
  uv_tcp_init(server_.worker().loop(), &tcp_);
  tcp_.data = this;
  // The head filters must decide before the body is read (see Exchange::start_headers).
  parser_.stop_at_heads(true);
}

Connection::~Connection() {
  *anchor_ = nullptr;
  drop_output();
  drop_streamed_body();
  release_body_budget();
  stop_counting_stream();
}

void Connection::stop_counting_stream() {
  if (!stream_counted_) return;
  stream_counted_ = false;
  server_.context().open_streams.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::start() {
  uv_tcp_nodelay(&tcp_, 1);
  peer_ = peer_name(&tcp_);
  start_reading();
  set_read_timer(ReadTimer::kHead);
  start_request_timers();
}

void Connection::refuse(int status, const std::string& message) {
  peer_ = peer_name(&tcp_);
  // Read (and discard) while the answer goes out and during the linger, so a request the client
  // already sent does not turn our close into a reset that destroys the answer.
  start_reading();
  reply_error(status, message, 1);
}

void Connection::drain() {
  if (idle() && output_idle()) close_now();
}

// ---- lifecycle ----

void Connection::set_phase(Phase next) {
  // The moves (anything else is a bug):
  //   kHead            -> kBody      a head was parsed and routed (run_head_filters)
  //   kBody            -> kSkipBody  a filter answered from the head; its reply is on the way
  //   kBody            -> kHead      a filter answered from the head; the exchange finished
  //   kBody            -> kStreamBody  a streamed-body route: the exchange runs while the body
  //                                    is read (start_streamed_body)
  //   kBody, kSkipBody -> kRunning   the request is read and its exchange exists (finish_request)
  //   kStreamBody      -> kRunning   the streamed body was read to its end (finish_request)
  //   kBody, kSkipBody -> kHead      the same without an exchange; or refused (reply_error)
  //   kStreamBody      -> kHead      refused (reply_error), or answered before the body's end
  //   kRunning         -> kHead      the exchange finished (exchange_finished)
  // Unchanged by close_now(): once the connection is closed its phase no longer matters.
  assert(next != phase_);
  assert(next != Phase::kBody || phase_ == Phase::kHead);
  assert(next != Phase::kSkipBody || phase_ == Phase::kBody);
  assert(next != Phase::kStreamBody || phase_ == Phase::kBody);
  assert(next != Phase::kRunning || reading_body());
  phase_ = next;
}

void Connection::close_after_writes() {
  if (ending_ == Ending::kOpen) ending_ = Ending::kAfterWrite;
}

void Connection::close_gracefully() {
  if (ending_ >= Ending::kLingering) return;
  // Half-close our side once the queued output is on the wire, then read and discard for a
  // moment so a client still sending (e.g. the body we refused with 413) sees our reply
  // instead of a reset.
  flush_output();  // the half-close follows the output
  if (ending_ == Ending::kClosed) return;
  ending_ = Ending::kLingering;
  input_.clear();
  direct_ = {};
  auto* req = new uv_shutdown_t;
  req->data = this;
  if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::on_shutdown) != 0) {
    delete req;
    close_now();
    return;
  }
  if (!reading_) start_reading();
  set_read_timer(ReadTimer::kLinger);
}

void Connection::close_now() {
  if (ending_ == Ending::kClosed) return;
  ending_ = Ending::kClosed;
  drop_output();
  server_.set_idle(this, false);
  stop_counting_stream();
  drop_streamed_body();
  if (exchange_) {
    exchange_->cancel();
    Exchange* abandoned = exchange_.release();
    server_.worker().next_tick([abandoned] { delete abandoned; });
  }
  timers_.close([](void* self) { on_handle_closed(static_cast<Connection*>(self)); });
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
           [](uv_handle_t* h) noexcept { on_handle_closed(static_cast<Connection*>(h->data)); });
}

void Connection::on_handle_closed(Connection* self) {
  if (--self->handles_open_ > 0) return;
  self->server_.forget(self);
  delete self;
}

bool Connection::accepts_input() const {
  // While a request's body arrives its exchange exists but waits: keep feeding the parser.
  // Otherwise a running exchange (or a write backlog) makes pipelined requests wait.
  if (ending_ != Ending::kOpen) return false;
  return reading_body() || (phase_ == Phase::kHead && !blocked_);
}

bool Connection::idle() const {
  return ending_ == Ending::kOpen && !exchange_ && !parser_.in_request() && input_.empty() &&
         direct_.empty();
}

// ---- reading ----

void Connection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
  auto* self = static_cast<Connection*>(handle->data);
  buf->base = self->server_.read_buffer();
  buf->len = Server::kReadBufferSize;
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread == 0) return;
  if (nread < 0) {
    // EOF or error: the client is gone (or done). A running exchange is abandoned.
    self->close_now();
    return;
  }
  if (self->ending_ != Ending::kOpen) return;  // closing: the rest is discarded
  if (self->input_.empty() && self->phase_ != Phase::kRunning) {
    // The usual case: nothing left over from an earlier read. The parser reads the shared read
    // buffer directly; only what it leaves (a pipelined request, a partial head) is copied.
    self->direct_ = std::string_view(buf->base, static_cast<size_t>(nread));
    self->process_input();
    if (self->ending_ == Ending::kOpen) self->input_.append(self->direct_);
    self->direct_ = {};
  } else {
    self->input_.append(buf->base, static_cast<size_t>(nread));
    if (self->phase_ != Phase::kRunning) self->process_input();
  }
  if (self->ending_ != Ending::kClosed && self->reading_ &&
      self->input_.size() > self->limits_->max_pipelined_bytes) {
    // A request is running (or its answer is still going out): stop reading ahead until it is
    // done, so one connection can never buffer more than this.
    uv_read_stop(stream);
    self->reading_ = false;
  }
}

void Connection::start_reading() {
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::on_alloc, &Connection::on_read);
}

void Connection::process_input() {
  process_scheduled_ = false;
  while (accepts_input() && (!unparsed().empty() || kick_parser_)) {
    Fed fed = feed_parser();
    if (fed == Fed::kRefused) return;
    if (fed == Fed::kNeedMore) break;
  }
  if (!exchange_ && ending_ != Ending::kClosed && !reading_ &&
      input_.size() <= limits_->max_pipelined_bytes) {
    start_reading();
  }
  if (idle()) set_read_timer(ReadTimer::kKeepAlive);
}

Connection::Fed Connection::feed_parser() {
  if (!parser_.in_request() && read_timer_kind_ != ReadTimer::kHead) {
    set_read_timer(ReadTimer::kHead);
    start_request_timers();
  }
  kick_parser_ = false;
  size_t used = 0;
  std::string_view in = unparsed();
  RequestParser::State state = parser_.feed(in.data(), in.size(), &used);
  if (!direct_.empty()) {
    direct_.remove_prefix(used);
  } else {
    input_.erase(0, used);
  }
  if (phase_ == Phase::kStreamBody) {
    forward_body();
  } else if (reading_body() && !account_body()) {
    return Fed::kRefused;
  }
  switch (state) {
    case RequestParser::State::kError:
      reply_error(parser_.error_status(), parser_.error_message());
      return Fed::kRefused;
    case RequestParser::State::kHead:
      kick_parser_ = true;  // a body-less request ends without further bytes
      begin_request(parser_.take_head());
      return Fed::kAgain;
    case RequestParser::State::kNeedMore:
      if (parser_.head_complete()) {
        if (parser_.wants_continue()) {
          parser_.clear_wants_continue();
          write(WireBytes(std::string(ResponseWriter::continue_line())));
        }
        if (!body_paused_) set_read_timer(ReadTimer::kBody);
      }
      return Fed::kNeedMore;
    case RequestParser::State::kComplete:
      finish_request(parser_.take_request());
      return Fed::kAgain;
  }
  return Fed::kNeedMore;
}

void Connection::begin_request(http::Request request) {
  set_read_timer(ReadTimer::kNone);
  ServerContext& ctx = server_.context();
  ++requests_served_;
  keep_alive_ = parser_.keep_alive() && requests_served_ < limits_->max_requests_per_connection &&
                !server_.draining();
  writer_.begin(request.method == "HEAD");
  rate_mark_ = 0;
  stream_route_ = false;
  if (parser_.body_expected()) {
    // The route's own limit and way of taking bodies decide before any filter runs.
    Server::BodyPolicy policy = server_.body_policy(request.path, limits_->max_body_bytes);
    stream_route_ = policy.stream;
    parser_.set_body_limit(policy.max_bytes);
  }
  if (parser_.content_length_exceeds_limit()) {
    reply_error(413,
                "request body is larger than " + std::to_string(parser_.body_limit()) + " bytes");
    return;
  }
  if (stream_route_ && parser_.body_expected() && !reserve_stream_budget()) {
    reply_error(503, "the gateway is holding too many request bodies; retry shortly", 1);
    return;
  }
  if (parser_.body_expected() && !stream_route_ &&
      ctx.buffered_body_bytes.load() >= limits_->max_buffered_body_bytes) {
    reply_error(503, "the gateway is holding too many request bodies; retry shortly", 1);
    return;
  }
  exchange_ = server_.open_exchange(request, peer_, *this);
  if (!exchange_) {
    // Answered here and now; the phase stays kHead, so finish_request drops the request.
    ctx.rejected[3].fetch_add(1, std::memory_order_relaxed);
    http::Response r = json_error(404, "NOT_FOUND", "no route for " + request.path);
    r.headers.set("x-request-id", adopt_request_id(request.headers.get("x-request-id")));
    send_response(r);
    after_exchange();
    return;
  }
  run_head_filters();
}

void Connection::run_head_filters() {
  set_phase(Phase::kBody);
  if (!exchange_->start_headers()) {
    // A filter answered from the head. The reply went out (or is going out) through this
    // connection; the rest of the request is dropped, and a body still to come is not read:
    // send_response made that answer "Connection: close".
    set_phase(exchange_ ? Phase::kSkipBody : Phase::kHead);
    return;
  }
  const ServerLimits& limits = *limits_;
  if (parser_.body_expected() && limits.min_body_rate > 0) {
    timers_.set(kRateTimer, limits.body_rate_window_ms);
  }
  if (stream_route_ && parser_.body_expected()) start_streamed_body();
}

void Connection::finish_request(http::Request rest) {
  stop_request_timers();
  set_read_timer(ReadTimer::kNone);
  if (phase_ == Phase::kStreamBody) {
    finish_streamed_body();
    return;
  }
  if (phase_ != Phase::kBody) {
    // Answered at its head: nothing of the request is needed any more.
    if (phase_ == Phase::kSkipBody) set_phase(exchange_ ? Phase::kRunning : Phase::kHead);
    release_body_budget();
    if (!exchange_ && ending_ == Ending::kOpen && keep_alive_) schedule_processing();
    return;
  }
  set_phase(Phase::kRunning);
  // The head allowed keep-alive; the end of the message may not (an Upgrade request).
  keep_alive_ = keep_alive_ && parser_.keep_alive();
  exchange_->info().bytes_in = rest.body.size();
  exchange_->request().body = std::move(rest.body);
  if (blocked_) exchange_->set_downstream_blocked(true);  // an earlier answer is still going out
  exchange_->start();
}

bool Connection::account_body() {
  size_t have = parser_.body_size();
  if (have <= body_reserved_) return true;
  ServerContext& ctx = server_.context();
  size_t grew = have - body_reserved_;
  body_reserved_ = have;
  size_t total = ctx.buffered_body_bytes.fetch_add(grew) + grew;
  if (total <= limits_->max_buffered_body_bytes) return true;
  log::warn("request bodies buffered across all connections exceed max_buffered_body_bytes (" +
            std::to_string(limits_->max_buffered_body_bytes) + "): refusing a request with 503");
  reply_error(503, "the gateway is holding too many request bodies; retry shortly", 1);
  return false;
}

void Connection::release_body_budget() {
  if (body_reserved_ == 0) return;
  server_.context().buffered_body_bytes.fetch_sub(body_reserved_);
  body_reserved_ = 0;
}

// ---- answering (Downstream) ----

void Connection::send_response(const http::Response& r) {
  if (ending_ == Ending::kClosed) return;
  // Answered before the whole request arrived (from its head, or while its body comes): the
  // rest of the body is never read, so the connection cannot carry another request.
  if (parser_.in_request() && parser_.body_expected()) keep_alive_ = false;
  WireBytes bytes = writer_.whole(r, keep_alive_);
  if (!keep_alive_) close_after_writes();
  write(std::move(bytes));
}

void Connection::send_stream_head(const http::Response& r) {
  if (ending_ == Ending::kClosed) return;
  if (parser_.in_request() && parser_.body_expected()) keep_alive_ = false;
  // HTTP/1.0 clients cannot read chunked framing: the body ends when the connection closes.
  bool chunked = exchange_ && exchange_->request().version_minor >= 1;
  if (!chunked) keep_alive_ = false;
  if (!stream_counted_) {
    stream_counted_ = true;
    server_.context().open_streams.fetch_add(1, std::memory_order_relaxed);
  }
  // A buffered body stops counting against max_buffered_body_bytes at the commit point, which
  // this is, not when the stream ends minutes later: the exchange has dropped its copies (the
  // replay point's goes at the commit) and the upstream transfer its own once libcurl sent it
  // all (MultiCore::release_sent_body). A streamed body still arriving keeps its reservation.
  if (!reading_body()) release_body_budget();
  // The head waits for the end of this loop turn, so the chunks that came with it share its
  // system call (connection_write.cpp); so do the chunks.
  write(WireBytes(writer_.stream_head(r, chunked, keep_alive_)), false);
}

void Connection::send_chunk(std::string_view data) {
  if (ending_ == Ending::kClosed) return;
  write(writer_.chunk(data), false);
}

void Connection::send_owned_chunk(std::string&& data) {
  if (ending_ == Ending::kClosed) return;
  write(writer_.owned_chunk(std::move(data)), false);
}

void Connection::end_stream(bool clean) {
  if (ending_ == Ending::kClosed) return;
  if (!clean) {
    // End the connection after what was sent, without the terminating chunk, so the client can
    // tell the body is incomplete. The exchange finishes normally first (it is the upstream that
    // failed, not the client): exchange_finished() then closes once the writes are out.
    keep_alive_ = false;
    close_after_writes();
    flush_output();
    return;
  }
  write(WireBytes(writer_.end_of_stream()));  // flushes what the stream gathered
  if (!keep_alive_) close_after_writes();
}

void Connection::exchange_finished() {
  // Called from inside the exchange: delete it on a later loop turn, after the stack unwinds.
  Exchange* done = exchange_.release();
  server_.worker().next_tick([done] { delete done; });
  stop_counting_stream();
  // Answered before the streamed body's end: the rest is not read (the answer said "close").
  if (phase_ == Phase::kStreamBody) {
    drop_streamed_body();
    set_phase(Phase::kHead);
  }
  // A body still arriving (kBody, kSkipBody) keeps its share of the budget until it is read.
  if (phase_ == Phase::kRunning) set_phase(Phase::kHead);
  if (!reading_body()) release_body_budget();
  after_exchange();
}

void Connection::after_exchange() {
  if (ending_ == Ending::kClosed) return;
  if (ending_ != Ending::kOpen || !keep_alive_ || server_.draining()) {
    close_after_writes();
    flush_output();
    if (ending_ != Ending::kClosed && writes_pending_ == 0) close_gracefully();
    return;
  }
  // A client that pipelines requests without reading the answers must not make us queue output
  // without bound: the next request waits until the backlog drained (on_write resumes it).
  if (blocked_) return;
  schedule_processing();
}

void Connection::schedule_processing() {
  // Serve the next pipelined request on a later turn, outside the current callback stack.
  if (process_scheduled_) return;
  process_scheduled_ = true;
  server_.worker().next_tick([anchor = anchor_] {
    Connection* self = *anchor;
    if (self && self->ending_ != Ending::kClosed) self->process_input();
  });
}

void Connection::reply_error(int status, const std::string& message, int retry_after_s) {
  stop_request_timers();
  if (phase_ == Phase::kStreamBody && exchange_ && exchange_->committed()) {
    // The upstream's answer is already going out (it answered before the body's end): a second
    // response cannot follow it. The connection is cut, so the client sees the answer broke off.
    log::debug("connection " + std::to_string(id_) + " " + peer_ + ": " + std::to_string(status) +
               " " + message + " while the answer was going out: closing");
    close_now();
    return;
  }
  if (exchange_ && reading_body()) {
    // Its head passed the filters, so they hear how it ended (the access line shows the status).
    exchange_->abandon_request(status, message);
    Exchange* abandoned = exchange_.release();
    server_.worker().next_tick([abandoned] { delete abandoned; });
  }
  drop_streamed_body();
  if (reading_body()) set_phase(Phase::kHead);  // any exchange of it was abandoned just above
  release_body_budget();
  keep_alive_ = false;
  writer_.set_head_only(false);
  http::Response r = json_error(status, error_code(status), message);
  if (status >= 100 && status < 600) {
    server_.context().rejected[status / 100 - 1].fetch_add(1, std::memory_order_relaxed);
  }
  if (retry_after_s > 0) r.headers.set("retry-after", std::to_string(retry_after_s));
  r.headers.set("x-request-id", new_request_id());  // the head may be unreadable: a fresh one
  log::debug("connection " + std::to_string(id_) + " " + peer_ + ": " + std::to_string(status) +
             " " + message);
  send_response(r);
  close_after_writes();
  if (ending_ != Ending::kClosed && writes_pending_ == 0) close_gracefully();
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) noexcept {
  auto* self = static_cast<Connection*>(req->data);
  delete req;
  if (status < 0 && status != UV_ECANCELED) self->close_now();
}

}  // namespace gemgate::server
