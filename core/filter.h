// The filter contract. A request's head passes the chain top to bottom as soon as it is parsed
// (on_request_headers), before any byte of its body is read; the whole request then passes it
// top to bottom again (on_request); the response passes back bottom to top (on_response_head,
// then on_response_data per chunk); every filter instance hears on_done exactly once at the end.
//
// The filter that produces the response is the producer: normally the last one of the chain
// (the terminal filter), or any filter that replies. The response path starts at the filter
// above the producer; filters below it see no response hook. A terminal filter either answers
// synchronously, by filling response() in on_request and returning Continue, or derives from
// TerminalFilter and delivers the response later through TerminalCallbacks (deliver_head, ...).
//
// The commit point: nothing reaches the client until the response head has passed every filter
// back to the top. Until then a filter may replace the response or, from on_response_head, ask
// for a replay (FilterCallbacks::replay) or a new sub-request (rerun_below). After it, a failure
// can only end the stream: respond() or reply_local() after the commit point end the stream as
// failed (cut, unless a filter handled the failure), they never start a second response.
//
// Obligations the chain relies on:
//   - A filter that returns Stop from on_request or on_response_head MUST later call resume(),
//     reply_local() or respond() (or replay()/rerun_below()), from inside the hook or from a
//     callback of its own work; otherwise the exchange hangs until the client leaves.
//   - on_done MUST cancel the filter's timers, upstream transfers and fetches, or make them
//     harmless: the filter (and the exchange) are freed soon after, and nothing may call
//     into them afterwards. A posted ExchangeRef callback is safe (it is dropped).
//   - Hooks run on the worker's loop and MUST NOT block it.
//   - A streamed response head is delivered from inside the transport's header callback, so
//     on_response_head of every filter above runs inside that callback (and the head may go to
//     the client from there). Replay and rerun therefore start the new attempt on a later loop
//     turn, once the transport's callback has returned.
//
// Filters are created per request by a factory that captured its validated config (see
// registry.h); a replay re-creates the filters below the replay point. State that must survive a
// replay lives in the exchange's typed slots (FilterCallbacks::slot), not in the filter.
//
// Memory: a filter its factory creates with `new` (std::make_unique) while the Exchange builds
// its chain is placed in that exchange's arena (core/arena.h) instead of the heap, so a request
// pays no malloc/free per filter. Ownership does not change: the exchange owns its filters (a
// std::unique_ptr each) and destroys them with itself; `delete` runs the destructor and leaves
// the memory to the arena. A filter created anywhere else (a test, an embedder) lives on the heap
// as usual. A filter must therefore never be handed to something that outlives its exchange.
// Make filters with `new` / std::make_unique (never the global `::new`, whose memory Filter's
// delete would not recognise).
#pragma once

#include <cstddef>
#include <string>

namespace gemgate {

class FilterCallbacks;
class TerminalCallbacks;

// What a request-side hook (on_request_headers, on_request, on_response_head) tells the chain.
enum class Status {
  // Hand the exchange to the next filter on this path (below on the request path, above on the
  // response path). After the terminal filter's on_request it means: response() holds the whole
  // answer (filled synchronously), and the response path starts above it. If the hook called
  // reply_local()/respond() or a terminal delivered the head from inside it, that wins.
  Continue,
  // This filter took over. Either it already replied or asked for a replay/rerun from inside the
  // hook (the chain acts on that when the hook returns), or it parks the path here: it MUST then
  // call resume() or reply (reply_local/respond; a terminal: deliver_*) later. From
  // on_request_headers, Stop MUST come with a reply made inside the hook; a Stop without one is a
  // filter bug and answers 500.
  Stop,
};

class Filter {
 public:
  virtual ~Filter() = default;

  // Places the filter in the arena of the current ArenaScope (the exchange building its chain),
  // else on the heap; see "Memory" above. Delete frees heap filters only.
  static void* operator new(std::size_t size);
  static void operator delete(void* p) noexcept;

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
  virtual Status on_request_headers(FilterCallbacks& x) { return Status::Continue; }

  // Request path, top to bottom, after every filter's on_request_headers continued.
  // x.request() holds the head and the whole body — except on a route with `stream_body: true`,
  // where this runs as soon as the head passed: the body is empty, x.request().body_streamed()
  // is true and body_stream delivers the body to the terminal filter while it arrives. Filters
  // there decide from the head; none may wait for the body. A replay or rerun runs it again on
  // freshly created filters below the filter that asked.
  virtual Status on_request(FilterCallbacks& x) { return Status::Continue; }

  // Response path, bottom to top, before anything went to the client. x.response() holds the
  // status and headers, and the whole body unless x.response().streaming. A response carrying
  // x.response().local_error has no body yet: it is rendered when it leaves the chain.
  virtual Status on_response_head(FilterCallbacks& x) { return Status::Continue; }

  // Response body, bottom to top. For a buffered response this is called once with the whole
  // body (last = true) before the head goes out, so filters may rewrite it freely. For a stream
  // it is called per chunk after the head went out; `last` marks the end. A filter may rewrite
  // `chunk` in place, or clear it to hold data back and emit it with a later chunk. When the
  // stream failed, x.stream_failure() is set on the last call.
  // A filter that returned Stop from on_response_head for a stream still receives the stream's
  // chunks here (x.committed() is false): it may look at them, rewrite or hold them, change the
  // response head, and then call x.resume() (or reply) to let the head (and the chunks) go on.
  // This is how a translator turns a stream that fails at its very first event into a plain
  // HTTP error.
  virtual void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) {}

  // Called once when the exchange ends (completed, failed or abandoned by the client), bottom to
  // top, after the response was handed to the connection; also for the filters a replay or
  // rerun retires. x.info() is final. MUST cancel this filter's timers, transfers and fetches.
  virtual void on_done(const FilterCallbacks& x) {}
};

// A filter that produces the response itself, later than its on_request returns (an upstream
// call, a storage job): it receives the terminal interface in on_request and keeps it to deliver
// the response. Its other hooks are those of any filter.
class TerminalFilter : public Filter {
 public:
  // As Filter::on_request. Typically starts the work and returns Stop; the response then
  // arrives through x.deliver_head() / deliver_data() / deliver_failure(), or a reply. x stays
  // valid until on_done.
  virtual Status on_request(TerminalCallbacks& x) = 0;

 private:
  // Hands the request hook the terminal interface of the same exchange.
  Status on_request(FilterCallbacks& x) final;
};

}  // namespace gemgate
