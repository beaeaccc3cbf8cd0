// ResponseWriter: the HTTP/1.1 bytes of the responses on one downstream connection, one response
// at a time. It only serialises; the connection writes what it returns, decides keep-alive and
// owns the socket. Kept apart from the connection so the wire format is tested byte for byte
// without a loop (tests/unit/core/response_writer_test.cpp).
//
// The framing rules:
//   - A whole response carries content-length: the body's size, also for HEAD (a HEAD answer
//     describes the GET it stands for) where the body itself is not sent. 1xx, 204 and 304
//     carry neither a length nor a body (RFC 9112 §6.3).
//   - A streamed response is chunked when the client reads chunked framing (HTTP/1.1). Otherwise
//     its bytes go out raw and the end of the connection ends the body, so that head always says
//     "connection: close". HEAD gets the head only, and no terminating chunk.
//   - A head has the status line, the response's own fields minus hop-by-hop ones and any date,
//     then our framing field, date and connection fields, in that order.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/http/message.h"

namespace gemgate::server {

// The current time as an HTTP date ("Thu, 26 Nov 2026 06:00:00 GMT"), formatted at most once a
// second per thread. The reference stays valid on the calling thread until its next call.
const std::string& http_date();

// One write's bytes: sent together by a single uv_write in this order, so the framing around a
// chunk needs no copy of the chunk. Empty parts are skipped; all empty means nothing to write.
struct WireBytes {
  WireBytes() = default;
  explicit WireBytes(std::string h, std::string b = {}, std::string t = {})
      : head(std::move(h)), body(std::move(b)), tail(std::move(t)) {}
  std::string head;
  std::string body;
  std::string tail;
  bool empty() const { return head.empty() && body.empty() && tail.empty(); }
};

class ResponseWriter {
 public:
  // Where the date field comes from; tests pass a fixed one. Called once per head.
  using DateSource = const std::string& (*)();
  explicit ResponseWriter(DateSource date = &http_date) : date_(date) {}

  // A new request is being answered. `head_only` (a HEAD request): only heads are sent. Forgets
  // the previous stream's framing.
  void begin(bool head_only) {
    head_only_ = head_only;
    chunked_ = false;
  }
  // Changes head_only for the current response: the connection's own error answers carry their
  // body even to a HEAD request.
  void set_head_only(bool head_only) { head_only_ = head_only; }

  // A whole response: its head (content-length framed, see the rules above) and its body, unless
  // the status or a HEAD request forbids one. `keep_alive` picks the connection field.
  WireBytes whole(const http::Response& response, bool keep_alive) const;
  // The head of a streamed response. `chunked`: the client reads chunked framing; without it
  // the head says "connection: close" whatever `keep_alive` says, and the caller must close the
  // connection after the stream. Chunks then go through chunk().
  std::string stream_head(const http::Response& response, bool chunked, bool keep_alive);
  // One piece of the stream, framed as stream_head() chose. Empty for empty data and for HEAD.
  WireBytes chunk(std::string_view data) const;
  // The same, taking the chunk's memory instead of copying it.
  WireBytes owned_chunk(std::string&& data) const;
  // The proper end of the stream: the last chunk when chunked (not for HEAD), else nothing.
  std::string end_of_stream() const;
  // The interim answer to "Expect: 100-continue".
  static std::string_view continue_line() { return "HTTP/1.1 100 Continue\r\n\r\n"; }

 private:
  // The head: status line, the response's fields, `framing` ("name: value", or empty), date,
  // connection.
  std::string head(const http::Response& response, std::string_view framing, bool keep_alive) const;

  DateSource date_;
  bool head_only_ = false;  // HEAD request: heads only
  bool chunked_ = false;    // the current stream uses chunked framing
};

}  // namespace gemgate::server
