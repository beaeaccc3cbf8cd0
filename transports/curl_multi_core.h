// Internal to transports/: the machinery behind CurlMultiTransport. MultiCore drives one CURLM
// from one libuv loop; a Job is one transfer (an easy handle, its deadline timer and its state).
//
// The rule everything here follows: libcurl must not be re-entered from its own callbacks. Our
// header/write callbacks call the consumer's handler, and the consumer may react by destroying,
// pausing, resuming or starting transfers. While `in_curl_` > 0 such requests are only recorded
// (flags on the Job plus the `attention_` queue); flush() applies them as soon as the outermost
// libcurl call has returned, then drains curl_multi_info_read. Handlers therefore see head and
// data from inside libcurl, and done always from outside it.
//
// Memory: a Job and each PollCtx embed a libuv handle, so they are freed only in that handle's
// close callback, which never touches the MultiCore. The MultiCore's own two handles are heap
// objects for the same reason. So the MultiCore may be destroyed right after close().
#pragma once

#include <cstdint>
#include <curl/curl.h>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <uv.h>
#include <vector>

#include "core/result.h"
#include "transports/curl_multi_transport.h"
#include "transports/response_head.h"
#include "transports/transport.h"

namespace gemgate::transport::detail {

class MultiCore;

struct Job {
  enum class State {
    kIdle,        // in the free list, or between removal from the multi and recycling
    kPendingAdd,  // started from inside a libcurl callback; added by the next flush()
    kRunning,     // inside the multi handle
  };

  MultiCore* core = nullptr;
  CURL* easy = nullptr;
  bool configured = false;  // MultiCore::configure_fixed ran on `easy` (kept across transfers)
  uv_timer_t timer;         // our deadlines; the Job is deleted in this timer's close callback
  State state = State::kIdle;

  UpstreamHandler* handler = nullptr;  // null once cancelled or finished
  Job** owner_slot = nullptr;          // the TransferHandle's pointer to us; cleared at the end
  // POSTFIELDS points into it; let go once libcurl sent it all and the head came (deliver_head).
  std::shared_ptr<const std::string> body;
  // CURLOPT_HTTPHEADER's list, kept with its capacity across transfers (build_header_list).
  std::string header_text;
  std::vector<size_t> header_starts;
  std::vector<curl_slist> header_nodes;
  // A streamed request body (UpstreamRequest::body_stream), read by on_read_body.
  std::shared_ptr<http::BodySource> body_stream;
  bool send_paused = false;  // on_read_body returned CURL_READFUNC_PAUSE: libcurl waits
  bool send_woken = false;   // the source's wake-up came: unpause the upload in flush()
  bool upload_done = false;  // the source's last byte went to libcurl
  uint64_t upload_done_ms = 0;
  // Options as last set on `easy` (valid while options_known): libcurl copies a string option
  // every time it is set (and reallocates its buffer on a new size), so configure() sets one
  // only when it changed.
  bool options_known = false;
  std::string set_url, set_proxy, set_noproxy;
  long buffer_bytes = 0;         // CURLOPT_BUFFERSIZE as last set (valid while options_known)
  long upload_buffer_bytes = 0;  // CURLOPT_UPLOAD_BUFFERSIZE likewise
  std::string url;               // kept only to scrub it out of libcurl's error text
  std::string host;              // "host[:port]" for messages
  Timeouts timeouts;

  ResponseHead head;
  bool head_delivered = false;
  bool cancelled = false;
  bool want_paused = false;  // what the consumer asked for
  bool curl_paused = false;  // what libcurl currently believes
  bool queued = false;       // sits in MultiCore::attention_
  // MultiCore's list of live (kPendingAdd and kRunning) jobs, linked through the jobs
  // themselves: joining and leaving it costs no allocation.
  bool live = false;
  Job* live_prev = nullptr;
  Job* live_next = nullptr;
  std::optional<Failure> local_failure;  // why one of our callbacks aborted the transfer
  bool resent = false;  // sent again after its session failed (at most once per transfer)

  uint64_t start_ms = 0;          // uv_now() at start: base of the total deadline
  uint64_t sent_ms = 0;           // at start, or at the resend: base of the first-byte deadline
  uint64_t last_activity_ms = 0;  // head or last body chunk, or resume: base of the idle deadline
  char errbuf[CURL_ERROR_SIZE];
};

class MultiCore {
 public:
  using Options = CurlMultiTransport::Options;
  using Stats = CurlMultiTransport::Stats;

  MultiCore(uv_loop_t* loop, const Options& options);
  // Requires close() to have run (the transport calls it).
  ~MultiCore();

  // Creates the multi handle and the libuv handles. Call once, before anything else.
  Result<void> init();

  // Starts a transfer. Returns its Job, or nullptr with `*why` set when it could not start (the
  // caller then reports `*why` asynchronously). `owner_slot` is cleared when the Job ends.
  Job* start(UpstreamRequest&& request, UpstreamHandler& handler, Job** owner_slot, Failure* why);
  // The owner is gone: stop at once, no more handler calls. Safe from inside any callback.
  void cancel(Job* job);
  // Backpressure; see Transfer::pause/resume.
  void pause(Job* job);
  void resume(Job* job);
  // See Transfer::end_total_deadline.
  void end_total_deadline(Job* job);

  void close();
  bool closed() const { return closed_ || close_requested_; }
  uv_loop_t* loop() const { return loop_; }
  Stats stats() const;

 private:
  // Loop integration (curl_multi_core.cpp). Every function libuv or libcurl calls back is
  // noexcept: an exception unwinding through their C frames is undefined behaviour, so one that
  // escapes ends the process at the throw instead.
  static int on_curl_socket(CURL* easy, curl_socket_t fd, int what, void* userp,
                            void* socketp) noexcept;
  static int on_curl_timer(CURLM* multi, long timeout_ms, void* userp) noexcept;
  static void on_curl_uv_timer(uv_timer_t* timer) noexcept;
  static void on_kick(uv_idle_t* idle) noexcept;
  static void on_poll(uv_poll_t* poll, int status, int events) noexcept;
  // CURLOPT_OPENSOCKETFUNCTION for refuse_private_addresses: opens the socket only when the
  // address libcurl resolved is public.
  static curl_socket_t on_open_public_socket(void* clientp, curlsocktype purpose,
                                             struct curl_sockaddr* address) noexcept;
  // CURLOPT_CLOSESOCKETFUNCTION: libcurl closes a socket; our watcher of it goes first.
  static int on_close_socket(void* clientp, curl_socket_t fd) noexcept;
  void socket_action(curl_socket_t fd, int ev_bitmask);
  void flush();
  bool drain_one_message();
  void service(Job* job);
  void queue(Job* job);
  Job* take_job();
  void recycle(Job* job);
  // The live list: a started job joins it, a recycled one leaves it (no-op when not in it).
  void link_live(Job* job);
  void unlink_live(Job* job);
  static void destroy_job(Job* job);

  // Starting (curl_easy_setup.cpp) and a Job's life (curl_job.cpp).
  static size_t on_header(char* data, size_t size, size_t count, void* userp) noexcept;
  static size_t on_write(char* data, size_t size, size_t count, void* userp) noexcept;
  static void on_deadline(uv_timer_t* timer) noexcept;
  // A streamed request body (curl_upload.cpp): the read and seek callbacks, their options, and
  // the source's wake-up. The callbacks stay on a pooled handle after its upload; with no body
  // source they refuse (abort, can't seek), so a later transfer can never read a stale body.
  static size_t on_read_body(char* dest, size_t size, size_t count, void* userp) noexcept;
  static int on_seek_body(void* userp, curl_off_t offset, int origin) noexcept;
  CURLcode configure_upload(Job* job, const UpstreamRequest& request);
  void on_body_wakeup(Job* job);
  void release_upload(Job* job);
  // Sets this request's options on the Job's easy handle (and, on its first use, the fixed
  // ones); every option it sets per request it sets on every request. Not-OK: a libcurl refusal.
  CURLcode configure(Job* job, const UpstreamRequest& request);
  CURLcode configure_fixed(Job* job);
  // Returns the request's header list for CURLOPT_HTTPHEADER, stored in the Job (no allocation
  // once warm); valid until the Job's next configure().
  static curl_slist* build_header_list(Job* job, const UpstreamRequest& request);
  void deliver_head(Job* job);
  // Drops the Job's share of an in-memory request body once libcurl has sent all of it and the
  // answer's head arrived (called by deliver_head): a stream then no longer holds its prompt.
  static void release_sent_body(Job* job);
  void add_to_multi(Job* job);
  void remove_from_multi(Job* job);
  // Makes libcurl's pause state match what the consumer and the body source want: at once, or
  // (from inside a libcurl callback) through the attention queue in flush().
  void apply_pause_state(Job* job);
  void sync_pause(Job* job);
  void complete(Job* job, CURLcode result);
  // Called by complete() for a failed transfer already removed from the multi handle: when it
  // received no response head, sends nothing streamed, was not resent before and its
  // connection or stream was lost (session_failure()), adds it to the multi handle again, on
  // a fresh connection, and returns true; its total deadline keeps counting from the first
  // start, its first-byte deadline from the resend, and the handler hears nothing of the first
  // attempt. Else returns false.
  // Outside libcurl only (session_resend.cpp).
  bool resend_after_session_failure(Job* job, CURLcode result);
  // Called by on_deadline when `job`'s first-byte deadline has passed, before it fails with
  // it: when `job` goes over HTTP/2 (ran_over_http2()), ends every connection to its host that
  // libcurl uses and on which nothing at all arrived for half that deadline (shutdown(2):
  // libcurl then fails their other transfers as lost sessions, which resend_after_session_
  // failure sends again on new connections). Returns how many it ended (session_resend.cpp).
  size_t end_silent_sessions(const Job* job);
  void fail(Job* job, Failure failure);
  void deliver_done(Job* job, const Failure* failure);
  void arm_deadline(Job* job);

  struct PollCtx {
    uv_poll_t poll;
    curl_socket_t fd;
    MultiCore* core;      // null once closing
    int events = 0;       // UV_READABLE/UV_WRITABLE the poll watches now (0 = stopped)
    bool wanted = false;  // libcurl asked to watch it (false: an idle connection in its cache)
    // The connection's upstream, from the transfer that opened it (all its transfers share
    // them): end_silent_sessions() looks only at https:// connections to one host.
    bool https = false;
    std::string host;
    uint64_t wanted_since_ms = 0;  // uv_now() when libcurl last began to use it (wanted)
    bool ended = false;            // shut down by end_silent_sessions(); libcurl closes it next
  };
  void close_poll(PollCtx* ctx);
  // Makes the poll of `ctx` watch `events` (0 = stop), with a system call only when they
  // change. False when libuv refuses (logged; the poll is then stopped).
  bool watch(PollCtx* ctx, int events);

  uv_loop_t* loop_;
  Options options_;
  CURLM* multi_ = nullptr;
  uv_timer_t* curl_timer_ = nullptr;  // libcurl's single timeout
  uv_idle_t* kick_ = nullptr;         // runs libcurl's 0 ms timeout on the next loop turn
  bool curl_timeout_due_ = false;
  // Strictly one context per open socket of libcurl's: active while libcurl wants events, stopped
  // while the connection idles in libcurl's cache, closed when libcurl closes the socket.
  std::unordered_map<curl_socket_t, PollCtx*> polls_;

  int in_curl_ = 0;        // depth of libcurl calls that may run our header/write callbacks
  bool flushing_ = false;  // flush() is on the stack
  bool close_requested_ = false;
  bool closed_ = false;

  std::deque<Job*> attention_;  // jobs with deferred work for flush()
  Job* live_head_ = nullptr;    // kPendingAdd and kRunning jobs (Job::live_next)
  size_t live_count_ = 0;
  std::vector<Job*> free_;  // reusable jobs (easy handle + timer)
  Stats counters_;
};

}  // namespace gemgate::transport::detail
