// The filter contract. A request's head passes the chain top to bottom as soon as it is parsed
// (on_request_headers), before any byte of its body is read; the whole request then passes it
// top to bottom again (on_request); the
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

  // Request head, top to bottom, called once per exchange as soon as the head is parsed and
  // checked, before any byte of the body is read (so before any is buffered). x.request() holds
  // method, path, query and headers; its body is empty even when one is coming. This is where a
  // filter that can decide from the head alone decides (auth: a missing or wrong token), so a
  // refused client never gets to make gemgate hold its body.
  //   Continue  the next filter's on_request_headers runs; after the last one the body is read
  //             and the request path (on_request) starts at the top.
  //   Stop      this filter replied: it MUST have called x.reply_local() or x.respond() from
  //             inside this hook. The response path starts at the filter above it; the body is
  //             never read (when one was announced, the connection closes after the reply). A
  //             Stop without a reply is a filter bug and answers 500.
  // The hook is synchronous: it MUST NOT park (resume() later), call mark_replay_point(),
  // replay() or rerun_below(), or deliver a response as the terminal filter. It may change the
  // request head (e.g. remove a credential); on_request sees the change. Filters below one that
  // replied get on_done without having seen any hook, as after a reply from on_request.
  virtual Status on_request_headers(Exchange& x) { return Status::Continue; }

  // Request path, top to bottom, after every filter's on_request_headers continued.
  // x.request() holds the head and the whole body.
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
