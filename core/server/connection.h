// Connection: one accepted client connection. Reads bytes into the RequestParser; as soon as a
// request head is parsed it creates the request's Exchange and lets the filters decide on the
// head (Exchange::start_headers), and only then reads the body, which is counted against the
// process-wide body budget; the complete request then runs (one at a time: pipelined requests
// wait their turn, so answers come back in order). Writes the response (Content-Length or
// chunked), and enforces the per-connection timeouts (head, body gap, body rate, whole request,
// keep-alive, write progress) and the write-backlog watermarks that pause the upstream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <uv.h>

#include "core/exchange.h"
#include "core/server/request_parser.h"
#include "core/server/response_writer.h"
#include "core/worker.h"

namespace gemgate::server {

class Server;

class Connection final : public Downstream {
 public:
  Connection(Server& server, uint64_t id);
  ~Connection() override;

  uv_tcp_t* handle() { return &tcp_; }
  // Starts reading after the server accepted the socket into handle().
  void start();
  // Server shutdown: close now if idle, otherwise after the running exchange ends.
  void drain();
  // Closes at once (pending writes are dropped). The object deletes itself later.
  void close_now();
  // Instead of start(), for a connection the server cannot take: answers `status` (JSON error,
  // Retry-After, Connection: close) without reading a request, then closes.
  void refuse(int status, const std::string& message);
  // True while idle between requests with nothing left to write: closing it loses nothing.
  bool sheddable() const { return idle() && writes_pending_ == 0 && requests_served_ > 0; }

  // Downstream
  void send_response(const http::Response& response) override;
  void send_stream_head(const http::Response& response) override;
  void send_chunk(std::string_view data) override;
  void end_stream(bool clean) override;
  void exchange_finished() override;

 private:
  enum class ReadTimer { kNone, kHead, kBody, kKeepAlive, kLinger };

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);

  void process_input();
  // A request head was parsed: routes it, creates its Exchange and runs the head filters.
  void begin_request(http::Request head);
  // The body is complete (`rest` holds it): the request path runs.
  void finish_request(http::Request rest);
  // Adds the body bytes buffered since the last call to the process-wide budget. Returns false
  // (after answering 503) when that takes the budget over its limit.
  bool account_body();
  void release_body_budget();
  void start_request_timers();
  void stop_request_timers();
  void on_body_rate_check();
  // Answers a request the connection refuses itself, then closes. A request whose head passed
  // the filters is abandoned first, so its filters hear on_done with this status.
  void reply_error(int status, const std::string& message, int retry_after_s = 0);
  // Queues `bytes` (nothing when empty) and watches the backlog: stall timer, watermarks.
  void write(WireBytes bytes);
  void close_gracefully();
  void arm_write_timer();
  void schedule_processing();
  void set_read_timer(ReadTimer which);
  void on_read_timeout();
  void after_exchange();
  bool idle() const;

  Server& server_;
  uint64_t id_;
  uv_tcp_t tcp_{};
  RequestParser parser_;
  ResponseWriter writer_;
  std::string input_;                   // bytes read but not parsed yet
  std::unique_ptr<Exchange> exchange_;  // the request being served
  Timer read_timer_;
  Timer write_timer_;
  Timer request_timer_;  // request_timeout: first byte of a request to the end of its body
  Timer rate_timer_;     // min_body_rate checks while a body arrives
  ReadTimer read_timer_kind_ = ReadTimer::kNone;
  std::string peer_;
  uint64_t requests_served_ = 0;
  size_t writes_pending_ = 0;
  size_t write_queue_mark_ = 0;  // write-queue size when the stall timer was armed
  uint64_t bytes_written_ = 0;   // bytes of finished writes
  uint64_t written_mark_ = 0;    // bytes_written_ when the stall timer was armed
  bool reading_ = false;
  bool closing_ = false;
  bool keep_alive_ = true;  // the current exchange allows another request afterwards
  bool close_after_write_ = false;
  bool lingering_ = false;
  bool blocked_ = false;  // write backlog above the high watermark
  bool draining_ = false;
  bool process_scheduled_ = false;
  bool receiving_body_ = false;   // exchange_ passed its head filters and waits for the body
  bool kick_parser_ = false;      // feed the parser once more even without new bytes
  bool discard_request_ = false;  // the current request was answered at its head: drop the rest
  size_t body_reserved_ = 0;      // bytes of the body budget this connection holds
  size_t rate_mark_ = 0;          // body bytes at the last rate check
  // Server's idle list (oldest first); managed by Server::set_idle.
  friend class Server;
  Connection* idle_prev_ = nullptr;
  Connection* idle_next_ = nullptr;
  // Lets callbacks queued with next_tick notice that this connection is gone.
  std::shared_ptr<Connection*> anchor_;
};

}  // namespace gemgate::server
