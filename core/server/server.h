// Server: the downstream HTTP/1.1 side of one worker — its listening socket (SO_REUSEPORT, so
// every worker accepts on the same port and the kernel spreads connections) and the connections
// it accepted — and routing: a parsed request head becomes the Exchange of the chain its route
// names (open_exchange), so a connection only carries bytes and runs what it is given.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <uv.h>

#include "core/result.h"
#include "core/router.h"
#include "core/server/heap_trim.h"
#include "core/server/limits.h"
#include "core/settings.h"
#include "core/snapshot.h"
#include "core/worker.h"

namespace gemgate {
class Downstream;
class Exchange;
namespace http {
struct Request;
}
}  // namespace gemgate

namespace gemgate::server {

class Connection;

// Shared by every worker's Server. The limits and the route table are published snapshots a
// reload replaces as a whole: a new connection takes the limits current when it is accepted, a
// new request the route table current when its head is routed; neither changes under them.
struct ServerContext {
  Published<ServerLimits> limits;
  Published<RouteTable> routes;
  const Published<Settings>* settings = nullptr;  // snapshot taken per request
  std::atomic<size_t> open_connections{0};        // across all workers
  std::atomic<size_t> buffered_body_bytes{0};     // request bodies held, across all workers
  std::atomic<int64_t> open_streams{0};           // streamed answers being sent, all workers
  // Requests the server answered itself, by status class (index status / 100 - 1): no route,
  // malformed, too large or too slow, overloaded. Rare, so shared atomics are cheap enough.
  std::atomic<uint64_t> rejected[5] = {};
  std::atomic<uint64_t> next_connection_id{1};
};

// Parses "host:port", "[v6]:port" or ":port" (all interfaces). Returns false when malformed.
bool parse_listen_address(std::string_view text, std::string* host, int* port);

class Server {
 public:
  Server(Worker& worker, ServerContext& context);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on host:port with SO_REUSEPORT (port 0 picks a free port). Returns the
  // bound port. `check_free` (for the first worker) first proves no other process listens there,
  // since SO_REUSEPORT would otherwise let two gateways split the traffic silently. Loop thread
  // (or before the loop runs).
  Result<int> listen(const std::string& host, int port, bool check_free);

  // Stops accepting, closes idle connections, lets running exchanges finish; `on_drained` runs
  // once every connection is closed. After `grace_ms`, remaining connections are cut.
  void shutdown(uint64_t grace_ms, std::function<void()> on_drained);

  Worker& worker() { return worker_; }
  ServerContext& context() { return context_; }
  bool draining() const { return draining_; }
  size_t connections() const { return connections_.size(); }

  // Routes a request whose head was parsed: matches its path in the route table and makes the
  // Exchange that runs that route's chain on this worker with the current settings snapshot,
  // answering through `downstream`. On a match `request` is moved into the exchange, its path
  // stripped of the route's prefix, and info() names the route, method, original path and
  // `peer`; the caller then runs start_headers(). Returns nullptr when no route matches, leaving
  // `request` untouched (the caller answers 404). Loop thread only.
  std::unique_ptr<Exchange> open_exchange(http::Request& request, const std::string& peer,
                                          Downstream& downstream);
  // How the route `path` takes request bodies (before open_exchange, so a body over the
  // route's limit is refused at the head, before any filter runs): streamed or buffered, and
  // the limit (the route's own, else limits.max_body_bytes). Unrouted paths: buffered, server
  // limit. Loop thread only.
  struct BodyPolicy {
    bool stream = false;
    size_t max_bytes = 0;
  };
  BodyPolicy body_policy(std::string_view path, size_t server_limit) const;

  // Called by Connection when its uv handle is closed (it deletes itself afterwards).
  void forget(Connection* connection);
  // Connection bookkeeping for shedding: `connection` waits idle between requests (true) or
  // does not (false: busy or closing). Idle ones are kept oldest first. Loop thread only.
  void set_idle(Connection* connection, bool idle);
  // A scratch read buffer shared by this worker's connections (reads are handled one at a time).
  char* read_buffer() { return read_buffer_.get(); }
  static constexpr size_t kReadBufferSize = 64 * 1024;

 private:
  // libuv trampoline; noexcept so no exception unwinds through libuv's C frames.
  static void on_connection(uv_stream_t* listener, int status) noexcept;
  void maybe_drained();
  // Closes the longest-idle keep-alive connection with nothing left to write. Returns false when
  // there is none.
  bool shed_idle();

  Worker& worker_;
  ServerContext& context_;
  uv_tcp_t* listener_ = nullptr;  // freed in its close callback
  std::unordered_set<Connection*> connections_;
  // Returns the heap a burst of connections left behind (after connections_: it counts them).
  HeapTrim heap_trim_;
  // Idle keep-alive connections, oldest first (intrusive: Connection::idle_prev_/idle_next_).
  Connection* idle_head_ = nullptr;
  Connection* idle_tail_ = nullptr;
  std::unique_ptr<char[]> read_buffer_;
  bool draining_ = false;
  std::function<void()> on_drained_;
  std::unique_ptr<Timer> grace_timer_;
};

}  // namespace gemgate::server
