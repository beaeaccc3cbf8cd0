// What a filter may do to the exchange it runs in, split by role as Envoy splits its filter
// callbacks from the connection manager:
//   FilterCallbacks    every filter: the request, the response, typed slots, StreamInfo, and the
//                      steering calls (resume, reply_local/respond, replay, rerun_below).
//   TerminalCallbacks  a filter that produces the response (a TerminalFilter): delivers it and
//                      hears downstream pressure.
// The connection's side (start, cancel, watermarks) is on Exchange itself (exchange.h), which is
// the one implementation of both interfaces. Filter hooks receive only their role's interface, so
// a filter cannot start, cancel or deliver an exchange it was not meant to. Loop thread only,
// except ExchangeHandle::post. See filter.h for when each hook runs.
#pragma once

#include <functional>
#include <memory>
#include <new>
#include <string>
#include <typeindex>
#include <utility>
#include <vector>

#include "core/arena.h"
#include "core/http/message.h"
#include "core/stream_info.h"

namespace gemgate {

class Exchange;
class Filter;
class Worker;
class Settings;
struct ChainSpec;
class FilterCallbacks;
class TerminalCallbacks;

// Typed state keyed by type: get<T>() creates a T on first use. Not thread-safe.
// An exchange gives its slot maps its arena (core/arena.h): the slots then cost no malloc. The
// values are destroyed by clear() and the destructor; the arena must outlive the map.
class SlotMap {
 public:
  // Slots placed in `arena`, or on the heap when it is null.
  explicit SlotMap(Arena* arena = nullptr) : arena_(arena) {}
  ~SlotMap() { clear(); }
  SlotMap(const SlotMap&) = delete;
  SlotMap& operator=(const SlotMap&) = delete;

  template <class T>
  T& get();
  // The T made by get<T>(), or nullptr.
  template <class T>
  const T* find() const;
  // Destroys every slot. Slots made afterwards come from the heap: a chain that clears its run
  // slots once per sub-request (rerun_below) must not grow the arena without bound.
  void clear();

 private:
  struct Base {
    virtual ~Base() = default;
  };
  template <class T>
  struct Of : Base {
    T value{};
  };
  struct Entry {
    std::type_index type;
    Base* value;
    bool in_arena;
  };
  // The first slots sit here, the rest in `more_`: a chain uses a handful.
  static constexpr size_t kInline = 8;
  Entry* find_entry(std::type_index type) const;
  void add(Entry entry);

  Arena* arena_;
  size_t count_ = 0;
  alignas(Entry) unsigned char inline_[kInline * sizeof(Entry)];
  std::vector<Entry> more_;
};

// Shared by an exchange and its handles; cleared when the exchange is destroyed.
struct ExchangeAnchor {
  Exchange* exchange;
};

// A copyable handle other threads use to run code on an exchange's loop, if the exchange still
// exists when the code gets there. `Role` is what the code receives: ExchangeRef gives every
// filter's interface, TerminalRef the terminal's.
template <class Role>
class ExchangeHandle {
 public:
  // Runs fn(role) on the exchange's worker loop, or drops it if the exchange is gone or has
  // finished meanwhile (e.g. the client left). Never runs fn inline. Thread-safe.
  void post(std::function<void(Role&)> fn) const;

 private:
  friend class Exchange;
  Worker* worker_ = nullptr;
  std::shared_ptr<ExchangeAnchor> anchor_;
};
using ExchangeRef = ExchangeHandle<FilterCallbacks>;
using TerminalRef = ExchangeHandle<TerminalCallbacks>;

// What every filter may call, from its hooks or later (from a callback of its own async work).
//
// Steering calls made from inside a hook take effect when the hook returns, never in the middle
// of it: the chain records the call and applies it once the filter is off the stack. If one hook
// makes several, the one that moves the exchange furthest wins, whatever their order (a reply
// beats a resume, a replay beats both). Made later, from a callback, they take effect at once
// when the path is parked at the calling filter, and do nothing otherwise.
class FilterCallbacks {
 public:
  // The request as the filters above left it. Its body is empty during on_request_headers.
  virtual http::Request& request() = 0;
  virtual const http::Request& request() const = 0;
  // The response: filled by the producer, read and changed on the way up.
  virtual http::Response& response() = 0;
  virtual const http::Response& response() const = 0;
  // What happened so far; final in on_done.
  virtual StreamInfo& info() = 0;
  virtual const StreamInfo& info() const = 0;
  // The settings snapshot the exchange started with; stays the same for its whole life.
  virtual const Settings& settings() const = 0;
  // The worker whose loop runs this exchange (timers, services, next_tick).
  virtual Worker& worker() = 0;
  virtual const ChainSpec& chain() const = 0;

  // Typed per-exchange state that survives replays: slot<T>() creates a T on first use.
  template <class T>
  T& slot() {
    return exchange_slots().get<T>();
  }
  template <class T>
  const T* find_slot() const {
    return exchange_slots().find<T>();
  }
  // Typed state of one run of the request path: it survives replays (a retry of the same
  // upstream call) but starts afresh when a filter above starts a new sub-request with
  // rerun_below() (e.g. the next batch of a multi-call request).
  template <class T>
  T& run_slot() {
    return run_slots().get<T>();
  }

  // Continues the path parked at the filter that returned Stop: the next filter on the request
  // path, or the one above on the response path. From inside the parked filter's hook (also
  // on_response_data while its head is held) the path continues when the hook returns.
  virtual void resume() = 0;
  // Replies from the current filter: the rest of the request path is skipped and the response
  // path starts at the filter above it; the error is rendered in the chain's dialect when it
  // leaves the chain. On the response path (before the commit point) it replaces the response
  // and the path goes on upwards (as resume() would). After the commit point it ends the stream
  // as failed. From on_request_headers it must be called inside the hook.
  virtual void reply_local(http::LocalError error) = 0;
  void reply_local(int status, std::string code, std::string message);
  // Same as reply_local, with a complete response (status, headers, body) of the filter's own.
  virtual void respond(http::Response response) = 0;
  // From on_request: remember the request as it is now (a copy, body included), so replay()
  // can restore it. The copy is dropped at the commit point, after which no replay can happen.
  // A producer's take_request_body() of the same bytes shares the body's copy instead.
  virtual void mark_replay_point() = 0;
  // From on_response_head of the filter that marked the replay point (or later while that hook
  // is parked), before the commit point: the filters below it are retired (on_done) and
  // re-created, the request is restored and the request path runs again below it on a later
  // loop turn. Returns false when not possible.
  virtual bool replay() = 0;
  // From inside on_response_head, before the commit point: the calling filter takes the
  // response it got and sends a new request (which it has put in request()) through the filters
  // below it, re-created fresh, on a later loop turn; its on_response_head sees the new answer.
  // For requests that need several upstream calls in sequence. Returns false when not possible.
  virtual bool rerun_below() = 0;
  // True once the response head went to the client (the commit point has passed).
  virtual bool committed() const = 0;
  // When a streamed response failed after the commit point: why. Set during the last
  // on_response_data call.
  virtual const http::LocalError* stream_failure() const = 0;
  // A filter turned the stream failure into a proper end of its protocol (e.g. an SSE error
  // event): the stream then ends cleanly instead of being cut.
  virtual void mark_stream_failure_handled() = 0;
  // A handle for other threads.
  virtual ExchangeRef ref() = 0;
  // From a callback of the filter's own work (a timer), outside every hook, while a stream is
  // going out (after the commit point, before its end): sends `chunk` to the client as if
  // `self` had emitted it from on_response_data, so the filters above `self` see it first (with
  // last = false). For protocol keep-alives during long upstream silences (an SSE ping event).
  // Returns false and sends nothing when no stream is going out, a hook is running, or `self`
  // is not a filter of this exchange on the response path.
  virtual bool send_data(const Filter& self, std::string chunk) = 0;

 protected:
  ~FilterCallbacks() = default;

 private:
  friend class TerminalFilter;  // reaches terminal_role() for its own request hook only
  virtual SlotMap& exchange_slots() = 0;
  virtual const SlotMap& exchange_slots() const = 0;
  virtual SlotMap& run_slots() = 0;
  virtual TerminalCallbacks& terminal_role() = 0;
};

// What a filter that produces the response calls, usually from the callbacks of its upstream
// transfer. The delivery calls are ignored once the exchange has finished (client gone), so a
// late transport event is harmless.
class TerminalCallbacks : public FilterCallbacks {
 public:
  // The response head (and, unless response().streaming, the whole body) is in response(): the
  // response path starts at the filter above the producer. Only while the request path waits
  // at the producer (from inside its on_request, or later while it is parked); ignored after.
  // A streamed head may be delivered from inside the transport's header callback: the response
  // head hooks then run inside it too, and so may a commit.
  virtual void deliver_head() = 0;
  // A chunk of a streamed response; `last` ends it. Before the commit point the chunk is held
  // (see Exchange's early chunks); after it, it passes every filter and goes to the client.
  virtual void deliver_data(std::string chunk, bool last) = 0;
  // The upstream failed: before the commit point this becomes a local error reply (and
  // info().error); after it the stream ends as failed.
  virtual void deliver_failure(http::LocalError error) = 0;
  // Registers the callback told about downstream pressure (pause/resume the upstream). Called at
  // once with true when the connection is already blocked. Dropped at a replay and at the end.
  virtual void set_flow_control(std::function<void(bool blocked)> fn) = 0;
  // A handle for other threads whose code delivers.
  virtual TerminalRef terminal_ref() = 0;
  // Moves request().body out for sending (null when empty; request().body is empty after).
  // When the replay point holds the same bytes, the two share this one copy until the commit
  // point (a retry restores its own copy from it): a long prompt is not held twice while the
  // upstream thinks. The producer must not change the bytes.
  virtual std::shared_ptr<const std::string> take_request_body() = 0;

 protected:
  ~TerminalCallbacks() = default;
};

template <class T>
T& SlotMap::get() {
  if (Entry* e = find_entry(std::type_index(typeid(T))))
    return static_cast<Of<T>*>(e->value)->value;
  Of<T>* made =
      arena_ ? new (arena_->allocate(sizeof(Of<T>), alignof(Of<T>))) Of<T>() : new Of<T>();
  add(Entry{std::type_index(typeid(T)), made, arena_ != nullptr});
  return made->value;
}

template <class T>
const T* SlotMap::find() const {
  Entry* e = find_entry(std::type_index(typeid(T)));
  return e ? &static_cast<const Of<T>*>(e->value)->value : nullptr;
}

inline SlotMap::Entry* SlotMap::find_entry(std::type_index type) const {
  auto* entries = reinterpret_cast<Entry*>(const_cast<unsigned char*>(inline_));
  for (size_t i = 0; i < count_ && i < kInline; ++i) {
    if (entries[i].type == type) return &entries[i];
  }
  for (const Entry& e : more_) {
    if (e.type == type) return const_cast<Entry*>(&e);
  }
  return nullptr;
}

inline void SlotMap::add(Entry entry) {
  if (count_ < kInline) {
    new (inline_ + count_ * sizeof(Entry)) Entry(entry);
  } else {
    more_.push_back(entry);
  }
  ++count_;
}

inline void SlotMap::clear() {
  auto* entries = reinterpret_cast<Entry*>(inline_);
  auto destroy = [](Entry& e) {
    if (e.in_arena) {
      e.value->~Base();
    } else {
      delete e.value;
    }
  };
  for (size_t i = 0; i < count_ && i < kInline; ++i) destroy(entries[i]);
  for (Entry& e : more_) destroy(e);
  count_ = 0;
  more_.clear();
  arena_ = nullptr;
}

extern template class ExchangeHandle<FilterCallbacks>;
extern template class ExchangeHandle<TerminalCallbacks>;

}  // namespace gemgate
