// The upstream side of gemgate: a Transport sends one HTTP request to an upstream server and
// streams the answer back through an UpstreamHandler, on the event loop of the worker that owns
// it. Implementations: CurlMultiTransport (libcurl multi on libuv). Tests may supply their own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/http/body_source.h"
#include "core/http/headers.h"

namespace gemgate::transport {

// Deadlines for one transfer, in milliseconds; 0 disables that deadline (for connect_ms, 0 means
// libcurl's own default of 300 s: a connect attempt is never unbounded).
struct Timeouts {
  int64_t connect_ms = 10'000;      // DNS + TCP + TLS connect
  int64_t first_byte_ms = 300'000;  // from start until the response head has arrived
  int64_t idle_ms = 120'000;        // longest gap after the head or between two body chunks; not
                                    // counted while the consumer has paused the transfer
  int64_t total_ms = 0;             // whole transfer, paused time included (non-streaming calls)
};

struct UpstreamRequest {
  std::string method = "POST";
  std::string url;          // absolute http(s) URL
  http::HeaderMap headers;  // sent as given; no hop-by-hop fields. The framing fields the
                            // transport owns (content-length, transfer-encoding, expect,
                            // accept-encoding) are dropped; CR, LF or NUL fail the transfer
  std::shared_ptr<const std::string> body;  // may be null (no body); kept alive by the transfer
  // Instead of `body`: a body that is still arriving (see core/http/body_source.h). The
  // transfer pulls it with backpressure both ways: when the source has nothing buffered the
  // upload pauses until its wake-up, and while the upstream does not take bytes the source is
  // not read (so its producer stops). Sent with Content-Length when the source knows its
  // length, else chunked (HTTP/1.1) or as DATA frames (HTTP/2). On a rewind libcurl asks for
  // (a reused connection found dead) the source starts over if it can, else the transfer fails.
  // A source that fails fails the transfer (kReset). While the body is being sent, first_byte_ms
  // waits and idle_ms bounds the gaps in the upload the upstream causes (time spent waiting for
  // the source is not counted); first_byte_ms counts from the body's last byte.
  std::shared_ptr<http::BodySource> body_stream;
  Timeouts timeouts;
  std::string proxy;  // upstream proxy URL, "" for a direct connection
  // Refuse to connect to loopback, private, link-local, CGNAT, unique-local and IPv4-mapped
  // addresses, judged on the resolved address itself (so no DNS name or IP spelling gets round
  // it). For fetching URLs a client chose. Fails the transfer with kConnectFailed.
  bool refuse_private_addresses = false;
  size_t max_header_bytes = 64 * 1024;  // response head larger than this fails the transfer
                                        // (kProtocol); 0 leaves only libcurl's own caps
  // The answer is expected to trickle for a long time (an event stream): over HTTP/1.1 the
  // transfer then holds a 2 KiB receive buffer instead of 8 KiB. Thousands of such streams each
  // keep theirs for their whole life while an event is a few hundred bytes; a bigger piece just
  // arrives in more chunks. Applied only to http:// URLs, which libcurl never speaks HTTP/2 to:
  // on an HTTP/2 session a paused stream with a small buffer stalls the other streams (libcurl
  // 7.88; see transports/README.md, "Receive buffer"), and an https:// transfer's protocol is
  // known only once its connection is chosen, after the buffer exists.
  bool long_lived = false;
};

enum class FailureKind {
  kConnectFailed,  // DNS, refused, unreachable, TLS handshake
  kTimeout,        // one of the Timeouts expired
  kReset,          // the connection broke mid-exchange
  kProtocol,       // malformed response (bad framing, header too large)
  kInternal,       // a local failure (out of memory, curl setup)
};

// Returns a short stable name for logs and metrics: "connect", "timeout", "reset", "protocol",
// "internal".
inline const char* failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::kConnectFailed:
      return "connect";
    case FailureKind::kTimeout:
      return "timeout";
    case FailureKind::kReset:
      return "reset";
    case FailureKind::kProtocol:
      return "protocol";
    case FailureKind::kInternal:
      break;
  }
  return "internal";
}

struct Failure {
  FailureKind kind = FailureKind::kInternal;
  std::string message;            // human readable; names the upstream host only: never request
                                  // headers, the URL path or its query (it may carry a key)
  bool response_started = false;  // true when on_upstream_head had been called
};

// Receives one transfer's events, on the loop thread, in this order: at most one head, then any
// number of data chunks, then exactly one done (unless the Transfer is destroyed first). None is
// ever called from inside Transport::start(). The handler may destroy the Transfer from inside
// any of these calls; nothing is called after that. From inside them it may also start, pause,
// resume or destroy other transfers of the same transport.
class UpstreamHandler {
 public:
  virtual ~UpstreamHandler() = default;
  // The final (non-1xx) response head. Header names are lower-case.
  virtual void on_upstream_head(int status, http::HeaderMap headers) = 0;
  // A piece of the (decoded) response body.
  virtual void on_upstream_data(std::string_view chunk) = 0;
  // The end: `failure` is nullptr on success, else why the transfer failed.
  virtual void on_upstream_done(const Failure* failure) = 0;
};

// One transfer in flight. Destroying it cancels the transfer at once (the upstream connection is
// closed if the response was not complete) and no handler method is called afterwards. Destroying
// it after on_upstream_done is fine and does nothing more. Loop thread only.
class Transfer {
 public:
  virtual ~Transfer() = default;
  // Stops delivering body data until resume(); the transport stops reading from the socket, so
  // a slow client slows the upstream instead of filling memory. Idempotent. Called from inside
  // on_upstream_data, the chunk being delivered counts as consumed and the next one waits. The
  // head is still delivered when pause() comes before it, and on_upstream_done may arrive while
  // paused (a failure, the total deadline, or the end of a body that had been fully consumed).
  virtual void pause() = 0;
  // Resumes delivery after pause(); idempotent. Data may be delivered before resume() returns.
  virtual void resume() = 0;
  // Lifts Timeouts::total_ms for the rest of the transfer: the answer turned out to be a stream
  // (its head said so), which the idle deadline bounds instead. Idempotent; by default nothing.
  virtual void end_total_deadline() {}
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts `request`; events go to `handler`, which must outlive the returned Transfer. Never
  // fails synchronously: setup errors arrive as on_upstream_done with a Failure, on a later
  // loop turn. Loop thread only; may be called from inside another transfer's handler.
  virtual std::unique_ptr<Transfer> start(UpstreamRequest request, UpstreamHandler& handler) = 0;
  // The first of the two steps that end a loop-bound transport's life (libuv and libcurl need
  // both): cancels every live transfer (its handler hears on_upstream_done with kInternal), lets
  // go of upstream connections and loop handles, and makes every later start() fail with
  // kInternal. Idempotent. The owner then runs the loop once more, so close callbacks can free
  // what they hold, before it closes the loop. Loop thread only; allowed inside a handler.
  virtual void close() = 0;
};

}  // namespace gemgate::transport
