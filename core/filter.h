// The filter contract. A request passes a chain of filters top to bottom (on_request); the
// response passes back bottom to top (on_response_head, then on_response_data per chunk); every
// filter instance hears on_done exactly once at the end. The last filter of a chain is terminal:
// it produces the response (from upstream, or by itself).
//
// Statuses:
//   Continue  hand the exchange to the next filter on this path.
//   Stop      this filter took over: it replied (Exchange::reply_local), or will call
//             Exchange::resume() later (after async work), or asked for a replay.
//
// The commit point: nothing reaches the client until the response head has passed every filter
// back to the top. Until then a filter may replace the response or, from on_response_head, ask for
// a replay (Exchange::replay). After it, a failure can only end the stream.
//
// Filters are created per request by a factory that captured its validated config (see
// registry.h); a replay re-creates the filters below the replay point. State that must survive a
// replay lives in the Exchange's typed slots, not in the filter.
#pragma once

#include <string>

namespace gemgate {

class Exchange;

enum class Status { Continue, Stop };

class Filter {
 public:
  virtual ~Filter() = default;

  // Request path, top to bottom. x.request() holds the head and the whole body.
  virtual Status on_request(Exchange& x) { return Status::Continue; }

  // Response path, bottom to top, before anything went to the client. x.response() holds the
  // status and headers, and the whole body unless x.response().streaming. A response carrying
  // x.response().local_error has no body yet: it is rendered when it leaves the chain.
  virtual Status on_response_head(Exchange& x) { return Status::Continue; }

  // Response body, bottom to top. For a buffered response this is called once with the whole
  // body (last = true) before the head goes out, so filters may rewrite it freely. For a stream
  // it is called per chunk after the head went out; `last` marks the end. A filter may rewrite
  // `chunk` in place, or clear it to hold data back and emit it with a later chunk. When the
  // stream failed, x.stream_failure() is set on the last call.
  // A filter that returned Stop from on_response_head for a stream still receives the stream's
  // chunks here (x.committed() is false): it may look at them, rewrite or hold them, change the
  // response head, and then call x.resume() to let the head (and the chunks) go on. This is how
  // a translator turns a stream that fails at its very first event into a plain HTTP error.
  virtual void on_response_data(Exchange& x, std::string& chunk, bool last) {}

  // Called once when the exchange ends (completed, failed or abandoned by the client), bottom to
  // top, after the response was handed to the connection. x.info() is final.
  virtual void on_done(const Exchange& x) {}
};

}  // namespace gemgate
