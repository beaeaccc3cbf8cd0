// CurlMultiTransport: the Transport gemgate uses in production. One per worker loop: a libcurl
// multi handle driven by that loop (a uv_poll_t per socket libcurl asks about, one uv_timer_t
// for libcurl's timeout), so thousands of upstream transfers share one thread, one connection
// pool (HTTP/1.1 keep-alive and HTTP/2 multiplexing) and one DNS cache. See README.md.
//
// End of life has two steps, as libuv and libcurl require: close() (or the destructor) cancels
// every transfer and closes every handle; the memory of those handles is released by their close
// callbacks, so the owner must run the loop once more afterwards (uv_run) before uv_loop_close().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <uv.h>

#include "core/result.h"
#include "transports/curl_global.h"
#include "transports/proxy_environment.h"
#include "transports/transport.h"

namespace gemgate::transport {

namespace detail {
class MultiCore;
}

class CurlMultiTransport final : public Transport {
 public:
  // Counts shared by every transport of a process and read from any thread (for /metrics):
  // what the transports did about failed HTTP/2 sessions. Relaxed atomics; rare events.
  struct SessionCounters {
    std::atomic<uint64_t> resent{0};                 // transfers sent once more (Stats::resent)
    std::atomic<uint64_t> silent_sessions_ended{0};  // connections end_silent_sessions ended
  };

  struct Options {
    long max_host_connections = 0;    // per host:port; 0 = unlimited. Extra transfers queue
                                      // inside libcurl (their first-byte deadline keeps running)
    long max_total_connections = 0;   // 0 = unlimited
    long max_cached_connections = 0;  // idle pool size; 0 = libcurl's default (4 per transfer)
    // Used by transfers whose request names no proxy and that do not refuse private addresses
    // (that check sees only the proxy's address, so such fetches always go direct). Empty =
    // every such transfer goes direct: libcurl never reads the environment by itself.
    ProxyEnvironment environment_proxy;
    // A PEM file of certificate authorities trusted for https:// upstreams instead of the
    // system's bundle (GEMGATE_UPSTREAM_CA_FILE: a private CA, or the benchmark's self-signed
    // upstream). Empty = the system's bundle. Verification always stays on.
    std::string ca_file;
    // Where this transport also counts its resends and ended sessions; may be null.
    std::shared_ptr<SessionCounters> session_counters;
  };

  struct Stats {
    size_t active_transfers = 0;  // started and not yet finished or cancelled
    size_t open_sockets = 0;      // sockets libcurl asked us to watch (one uv_poll_t each)
    size_t pooled_handles = 0;    // easy handles kept for reuse
    uint64_t started = 0;         // transfers that reached libcurl
    uint64_t succeeded = 0;       // done without failure
    uint64_t failed = 0;          // done with a failure
    uint64_t cancelled = 0;       // destroyed by their owner before done
    uint64_t resent = 0;          // sent again on a new connection after their session failed
    uint64_t socket_actions = 0;  // calls into curl_multi_socket_action (to spot busy loops)
  };

  // Creates a transport on `loop`, on the loop's thread (or before the loop runs). Calls
  // global_init() for safety, but main() should have called it before starting threads. Every
  // method, and every Transfer it returns, is for the loop thread only.
  static Result<std::unique_ptr<CurlMultiTransport>> create(uv_loop_t* loop, Options options);
  static Result<std::unique_ptr<CurlMultiTransport>> create(uv_loop_t* loop) {
    return create(loop, Options{});
  }

  // Calls close(). Must not run inside a handler callback of one of its own transfers.
  ~CurlMultiTransport() override;

  CurlMultiTransport(const CurlMultiTransport&) = delete;
  CurlMultiTransport& operator=(const CurlMultiTransport&) = delete;

  // See Transport::start. After close(), every new transfer fails with kInternal.
  std::unique_ptr<Transfer> start(UpstreamRequest request, UpstreamHandler& handler) override;

  // See Transport::close: cancels every live transfer (each handler hears on_upstream_done with
  // kInternal "transport closed"), closes the connection pool and all libuv handles. Called from
  // inside a handler callback, it takes effect as soon as libcurl has returned.
  void close() override;

  // Transfers started and not yet finished; and sockets currently watched.
  size_t active_transfers() const;
  size_t open_sockets() const;
  Stats stats() const;

 private:
  explicit CurlMultiTransport(std::unique_ptr<detail::MultiCore> core);
  std::unique_ptr<detail::MultiCore> core_;
};

}  // namespace gemgate::transport
