// RequestParser: llhttp (strict mode, no lenient flags) plus the checks llhttp leaves to its
// user: size limits on the target, the head, the header count, chunk extensions and the body;
// Host rules; one request at a time (it pauses after each complete message so pipelined requests
// are answered in order). Hides llhttp from the rest of gemgate.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/http/message.h"
#include "core/server/limits.h"

namespace gemgate::server {

class RequestParser {
 public:
  enum class State {
    kNeedMore,  // everything fed was consumed; no complete request yet
    kHead,      // stop_at_heads mode only: a request head is complete and checked (take_head);
                // parsing is paused before the first body byte
    kComplete,  // a whole request is ready (take_request); parsing is paused
    kError,     // the input is refused: see error_status()/error_message(); close after replying
  };

  explicit RequestParser(const ServerLimits& limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses `data`. Sets *consumed to the bytes used; on kComplete the rest belongs to the next
  // request and must be fed again after take_request().
  State feed(const char* data, size_t size, size_t* consumed);

  // Moves out the completed request and prepares for the next one. After take_head() for this
  // request, the result holds only the body (the head was taken already).
  http::Request take_request();

  // With `on`, feed() stops after every request head with kHead, so the caller can decide on
  // the head alone before any body byte is consumed (and buffered). Set before the first feed.
  void stop_at_heads(bool on) { stop_at_heads_ = on; }
  // After kHead: moves out the head (method, path, query, version, headers; no body) and lets
  // parsing go on. Feed again, even with no new bytes (size 0), to reach the body or the end of
  // a body-less request.
  http::Request take_head();
  // True when the current request's head announced a body (chunked, or Content-Length > 0).
  // Valid from kHead until take_request().
  bool body_expected() const { return body_expected_; }
  // Bytes of the current request's body received so far (whether still held or taken).
  size_t body_size() const { return body_total_; }
  // The body bytes held since the last drop_body_bytes(); for a streamed body the caller
  // passes them on and drops them instead of letting the parser hold the whole body.
  std::string_view body_bytes() const { return request_.body; }
  void drop_body_bytes() { request_.body.clear(); }
  // The body limit of the current request, from kHead until take_request(): the route's own
  // (a streamed upload may be far larger than the server-wide max_body_bytes). In stop_at_heads
  // mode the parser does not judge a Content-Length at the head; the caller sets the limit and
  // asks content_length_exceeds_limit() once it knows the route.
  void set_body_limit(size_t bytes) { body_limit_ = bytes; }
  size_t body_limit() const { return body_limit_; }
  // True when the head announced a Content-Length above body_limit().
  bool content_length_exceeds_limit() const { return has_length_ && content_length_ > body_limit_; }
  // The announced Content-Length, or -1 (chunked, or no body).
  int64_t content_length() const {
    return has_length_ ? static_cast<int64_t>(content_length_) : -1;
  }

  // True between the first byte of a request and its completion.
  bool in_request() const { return started_; }
  // True once the head of the current request was parsed (the body may still be arriving).
  bool head_complete() const { return head_done_; }
  // From kHead (or kComplete): whether the connection may serve another request.
  bool keep_alive() const { return keep_alive_; }
  // True when the head asked for "Expect: 100-continue" and the body is still to come.
  bool wants_continue() const { return wants_continue_; }
  void clear_wants_continue() { wants_continue_ = false; }

  int error_status() const { return error_status_; }  // 400, 408, 413, 414, 431, 501
  const std::string& error_message() const { return error_message_; }

 private:
  struct Impl;
  friend struct Impl;

  State fail(int status, std::string message);
  // How many header fields to make room for at the first one: the head's own count when
  // scan_head() has seen all of it, else HeaderMap::kTypicalFields.
  size_t expected_fields() const;
  // Checks the line structure of the request head in `data` (up to its end), which llhttp 8.1
  // does not fully check even in strict mode: bare LF, obs-fold and empty field names. Returns
  // false (after fail()) when the head is malformed.
  bool scan_head(const char* data, size_t size);
  // Checks and completes the request head once all fields are in (llhttp parser passed opaque).
  bool finish_head(void* llhttp_parser);

  const ServerLimits& limits_;
  std::unique_ptr<Impl> impl_;
  http::Request request_;
  std::string field_;  // header name being read
  std::string value_;  // header value being read
  std::string raw_target_;
  size_t head_bytes_ = 0;
  size_t chunk_ext_bytes_ = 0;
  bool started_ = false;
  bool head_done_ = false;
  bool complete_ = false;
  bool keep_alive_ = true;
  bool wants_continue_ = false;
  bool stop_at_heads_ = false;
  bool head_pending_ = false;  // kHead reported, take_head() not called yet
  bool body_expected_ = false;
  bool has_length_ = false;
  uint64_t content_length_ = 0;
  size_t body_total_ = 0;
  size_t body_limit_;
  // scan_head() state, reset per request.
  char scan_prev_ = 0;
  size_t scan_line_len_ = 0;
  size_t scan_lines_ = 0;
  bool scan_done_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace gemgate::server
