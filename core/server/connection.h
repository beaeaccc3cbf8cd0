// Connection: one accepted client connection, on its worker's loop thread only. It carries
// bytes and keeps time; it does not route (Server::open_exchange) or format (ResponseWriter).
// It reads into the RequestParser; as soon as a request head is parsed it asks the server for
// the request's Exchange and lets the filters decide on the head (Exchange::start_headers), and
// only then reads the body, which is counted against the process-wide body budget; the complete
// request then runs (one at a time: pipelined requests wait their turn, so answers come back in
// order). It writes what the ResponseWriter makes of the answer, and enforces the per-connection
// timeouts (head, body gap, body rate, whole request, keep-alive, write progress) and the
// write-backlog watermarks that pause the upstream. Where it is in its life is two enums, Phase
// (the request in hand) and Ending (how far towards its close), changed in one place.
// On a route that streams bodies (`stream_body: true`) the request path runs as soon as the head
// passed, and the body flows to it through a StreamedBody while it arrives, with backpressure
// (connection_stream.cpp). Writing is in connection_write.cpp, the timeouts in
// connection_timeouts.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <uv.h>

#include "core/exchange.h"
#include "core/server/deadline.h"
#include "core/server/request_parser.h"
#include "core/server/response_writer.h"
#include "core/server/streamed_body.h"
#include "core/worker.h"

namespace gemgate::server {

class Server;

class Connection final : public Downstream, private Worker::BatchEnd {
 public:
  // The most parts one write hands the socket (libuv's inline buffer count: more would make
  // uv_write allocate).
  static constexpr size_t kOutputParts = 4;

  Connection(Server& server, uint64_t id);
  ~Connection() override;

  // The socket, for Server to uv_accept into before start() or refuse().
  uv_tcp_t* handle() { return &tcp_; }
  // Starts reading after the server accepted the socket into handle().
  void start();
  // Server shutdown (Server::draining() is already true): closes now if idle with nothing left
  // to write. Otherwise every answer from now on says "connection: close" and the connection
  // closes after it; the server's grace timer cuts whatever is left.
  void drain();
  // Closes at once: pending writes are dropped and a running exchange is cancelled (its filters
  // hear on_done). Later calls do nothing. The object deletes itself in the close callback,
  // after Server::forget().
  void close_now();
  // Instead of start(), for a connection the server cannot take: answers `status` (JSON error,
  // Retry-After, Connection: close) without reading a request, then closes.
  void refuse(int status, const std::string& message);
  // True while idle between requests with nothing left to write: closing it loses nothing.
  bool sheddable() const { return idle() && output_idle() && requests_served_ > 0; }

  // Downstream (contract in core/exchange.h): called by exchange_, and send_response also by the
  // connection for its own answers; after close_now() they do nothing. exchange_finished() is
  // called from inside the exchange, which is deleted on a later loop turn, and then closes the
  // connection or serves the next pipelined request.
  void send_response(const http::Response& response) override;
  void send_stream_head(const http::Response& response) override;
  void send_chunk(std::string_view data) override;
  void send_owned_chunk(std::string&& data) override;
  void end_stream(bool clean) override;
  void exchange_finished() override;

 private:
  // Where the connection is with the request in hand. Moves only through set_phase(), whose
  // comment lists the transitions.
  enum class Phase {
    kHead,        // no exchange: waiting for a request head or reading one (or, after a head the
                  // filters answered at once, letting the parser reach that request's end)
    kBody,        // the head passed the filters; its exchange waits while the body is read and
                  // counted against the body budget (a write backlog does not hold it back)
    kSkipBody,    // a filter answered from the head and its reply is still on the way up the
                  // chain (the exchange may finish meanwhile): the rest of the request is read
                  // as in kBody, then dropped
    kStreamBody,  // a streamed-body route: the exchange runs while the body is read and
                  // passed on through body_ (not counted against the body budget)
    kRunning,     // the request is read (or answered): its exchange runs; pipelined bytes wait
  };
  // How the connection ends; only moves forward (kOpen < ... < kClosed), through
  // close_after_writes(), close_gracefully() and close_now().
  enum class Ending {
    kOpen,        // takes requests
    kAfterWrite,  // takes no more: closes gracefully once the exchange ended and output is out
    kLingering,   // uv_shutdown asked (after the queued output); input is discarded for linger_ms
    kClosed,      // uv_close was called; the object deletes itself in its close callback
  };
  enum class ReadTimer { kNone, kHead, kBody, kKeepAlive, kLinger };
  // What one parser step left (feed_parser).
  enum class Fed {
    kAgain,     // feed again: a head or a whole request was handled
    kNeedMore,  // everything buffered was used; wait for bytes
    kRefused,   // the input was answered with an error (reply_error): stop
  };

  // libuv trampolines (the handle's or request's data is the Connection). noexcept: an
  // exception must never unwind through libuv's C frames; it ends the process at the edge.
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_shutdown(uv_shutdown_t* req, int status) noexcept;
  static void on_deadline(void* self, size_t which) noexcept;
  // A uv handle's close callback: forgets and deletes the connection after the last one.
  static void on_handle_closed(Connection* self);

  // ---- lifecycle: the only writers of phase_ and ending_ ----
  void set_phase(Phase next);
  // Takes no more requests: closes once the exchange ended and its output is out (Ending).
  void close_after_writes();
  // Half-closes once the queued output is out, then lingers (see Ending::kLingering).
  void close_gracefully();
  bool reading_body() const {
    return phase_ == Phase::kBody || phase_ == Phase::kSkipBody || phase_ == Phase::kStreamBody;
  }
  // True when process_input() may feed the parser now.
  bool accepts_input() const;
  bool idle() const;

  // ---- reading ----
  void start_reading();
  // Feeds what input_ holds while accepts_input(); then resumes reading if it was paused.
  void process_input();
  Fed feed_parser();
  // A request head was parsed: opens its Exchange (Server::open_exchange) and runs the head
  // filters; answers 404 when no route matches, 503 when the body budget is spent.
  void begin_request(http::Request head);
  // Runs the head filters of the new exchange_ and enters kBody, kSkipBody or kHead.
  void run_head_filters();
  // The request is complete (`rest` holds its body): the request path runs, unless it was
  // answered at its head (then it is dropped).
  void finish_request(http::Request rest);
  // Adds the body bytes buffered since the last call to the process-wide budget. Returns false
  // (after answering 503) when that takes the budget over its limit.
  bool account_body();
  void release_body_budget();
  // Takes this connection's streamed answer out of ServerContext::open_streams, if counted.
  void stop_counting_stream();
  void start_request_timers();
  void stop_request_timers();
  void on_request_timeout();
  void on_body_rate_check();
  void set_read_timer(ReadTimer which);
  void on_read_timeout();

  // ---- a streamed request body (connection_stream.cpp) ----
  // The head of a streamed-body request passed the filters: hands the exchange a StreamedBody
  // and runs its request path now; the body follows as it is read.
  void start_streamed_body();
  // Passes the body bytes the parser holds on to body_; stops reading the socket above the
  // high watermark (the transfer's wake-up makes it read again: on_body_drained).
  void forward_body();
  // The reader took body_ under its low watermark: read the client again.
  void on_body_drained();
  // The whole body was read: body_ ends cleanly and the exchange runs on as kRunning.
  void finish_streamed_body();
  // The body will not be read to its end (refused, answered early, client gone): the reader
  // hears a failure; the connection can carry no further request.
  void drop_streamed_body();
  // A streamed body holds up to its high watermark plus one socket read: that much of the body
  // budget (max_buffered_body_bytes) is reserved for it, so many uploads at once stay bounded
  // too. False (nothing reserved) when the budget has no room.
  bool reserve_stream_budget();

  // ---- answering ----
  // Answers a request the connection refuses itself, then closes. A request whose head passed
  // the filters is abandoned first, so its filters hear on_done with this status.
  void reply_error(int status, const std::string& message, int retry_after_s = 0);
  // The exchange ended (or none ran): close, or serve the next pipelined request.
  void after_exchange();
  // Runs process_input() on a later loop turn (once, however often asked).
  void schedule_processing();
  // Adds `bytes` (nothing when empty) to the output and sends it: at once when `now`, else at
  // the end of this loop turn (a streamed answer, see connection_write.cpp).
  void write(WireBytes bytes, bool now = true);
  // Adds one part to the output being gathered (copied behind the last one when small and it
  // has room, or when all kOutputParts are taken).
  void gather(std::string&& part);
  // Sends the gathered output: directly when the kernel takes it, else queued with uv_write
  // under the stall timer and the watermarks. May close the connection (socket error).
  void flush_output();
  // Forgets the gathered output (the connection closes).
  void drop_output();
  // Worker::BatchEnd: the end of the loop turn in which a streamed answer's bytes were written.
  void on_batch_end() override;
  // True when nothing is gathered and no write is in flight.
  bool output_idle() const { return writes_pending_ == 0 && out_count_ == 0; }
  // Starts the stall timer (while writes are queued): it closes the connection when none of its
  // output reached the client for write_timeout.
  void arm_write_timer();
  // The stall timer's check, every write_check_step() while writes are queued.
  void on_write_check();
  // A quarter of write_timeout (at least 1 ms).
  uint64_t write_check_step() const;
  // Bytes of output the client's TCP acknowledged: what was handed to the kernel less what the
  // kernel still holds (SIOCOUTQ, Linux); elsewhere what the kernel took.
  uint64_t bytes_delivered();

  Server& server_;
  uint64_t id_;
  uv_tcp_t tcp_{};
  // The limits in force when this connection was accepted: a reload applies new limits to new
  // connections; this one keeps its own for its whole life (the parser holds a reference).
  std::shared_ptr<const ServerLimits> limits_;
  RequestParser parser_;
  ResponseWriter writer_;
  std::string input_;  // bytes read but not parsed yet (our copy)
  // Inside on_read only, while input_ is empty: the unparsed rest of the shared read buffer
  // (Server::read_buffer); what is left of it when on_read returns is copied into input_.
  std::string_view direct_;
  // The bytes to parse next: direct_ when set, else input_.
  std::string_view unparsed() const { return direct_.empty() ? std::string_view(input_) : direct_; }
  std::unique_ptr<Exchange> exchange_;  // the request being served
  // The connection's timeouts, on one lazy uv timer (deadline.h): every request sets and clears
  // them. Indexes into timers_:
  static constexpr size_t kReadTimer = 0;     // head, body gap, keep-alive or linger (ReadTimer)
  static constexpr size_t kRequestTimer = 1;  // request_timeout: a request's first byte to its end
  static constexpr size_t kRateTimer = 2;     // min_body_rate checks while a body arrives
  static constexpr size_t kWriteTimer = 3;    // write-progress checks while output is queued
  Deadlines timers_;
  ReadTimer read_timer_kind_ = ReadTimer::kNone;
  // The uv handles (tcp_, timers_) not closed yet: the last close callback deletes the object.
  uint8_t handles_open_ = 2;
  std::string peer_;
  std::string out_[kOutputParts];  // output gathered, not handed to the socket yet
  size_t out_count_ = 0;
  uint64_t requests_served_ = 0;
  size_t writes_pending_ = 0;
  uint64_t bytes_written_ = 0;   // bytes of finished writes (direct ones included)
  uint64_t bytes_pending_ = 0;   // bytes of the write requests in flight
  uint64_t delivered_mark_ = 0;  // bytes_delivered() when the stall timer last saw progress
  uint64_t progress_at_ms_ = 0;  // loop time of that
  Phase phase_ = Phase::kHead;
  Ending ending_ = Ending::kOpen;
  // The flags that are independent of both.
  bool reading_ = false;            // uv_read_start is in effect (paused at max_pipelined_bytes)
  bool keep_alive_ = true;          // the current exchange allows another request afterwards
  bool blocked_ = false;            // write backlog above the high watermark
  bool process_scheduled_ = false;  // a schedule_processing() tick is pending
  bool kick_parser_ = false;        // feed the parser once more even without new bytes
  size_t body_reserved_ = 0;        // bytes of the body budget this connection holds
  bool stream_counted_ = false;     // a streamed answer is counted in open_streams
  size_t rate_mark_ = 0;            // body bytes at the last rate check
  bool stream_route_ = false;       // the request in hand is on a streamed-body route
  bool body_paused_ = false;        // socket reads stopped: body_ is above its high watermark
  std::shared_ptr<StreamedBody> body_;  // kStreamBody: the body being passed on
  // Server's idle list (oldest first); managed by Server::set_idle.
  friend class Server;
  Connection* idle_prev_ = nullptr;
  Connection* idle_next_ = nullptr;
  // Lets callbacks queued with next_tick notice that this connection is gone.
  std::shared_ptr<Connection*> anchor_;
};

}  // namespace gemgate::server
