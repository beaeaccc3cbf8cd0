// Connection: one accepted client connection. Reads bytes into the RequestParser, runs each
// complete request as an Exchange (one at a time: pipelined requests wait their turn, so answers
// come back in order), writes the response (Content-Length or chunked), and enforces the
// per-connection timeouts and the write-backlog watermarks that pause the upstream.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <uv.h>

#include "core/exchange.h"
#include "core/server/request_parser.h"
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
  void dispatch(http::Request request);
  void reply_error(int status, const std::string& message);
  void write(std::string head, std::string body = {}, std::string tail = {});
  std::string serialize_head(const http::Response& response, const std::string* framing_name,
                             const std::string& framing_value);
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
  std::string input_;                   // bytes read but not parsed yet
  std::unique_ptr<Exchange> exchange_;  // the request being served
  Timer read_timer_;
  Timer write_timer_;
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
  bool head_request_ = false;  // HEAD: send heads only
  bool chunked_ = false;       // the current stream uses chunked framing
  bool blocked_ = false;       // write backlog above the high watermark
  bool draining_ = false;
  bool process_scheduled_ = false;
  // Lets callbacks queued with next_tick notice that this connection is gone.
  std::shared_ptr<Connection*> anchor_;
};

}  // namespace gemgate::server
