// A loopback HTTP/1.1 server for the transport tests: one accept thread and one thread per
// connection, blocking sockets, keep-alive. Each path is a behaviour the transport must survive
// (see the table in test_server.cpp); the server records what it saw (connections, requests,
// clients that went away early) so tests can assert on the upstream's point of view.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace gemgate::transport::testing {

using Clock = std::chrono::steady_clock;

// The /big body: byte `offset` of a stream identified by `seed`. Position-dependent, so a lost,
// repeated or reordered chunk changes the checksum. `compressible` gives gzip something to do.
uint8_t body_byte(uint64_t offset, uint32_t seed, bool compressible);
// FNV-1a, continued from `hash` (start with kFnvBasis).
constexpr uint64_t kFnvBasis = 1469598103934665603ull;
uint64_t fnv1a(uint64_t hash, std::string_view data);
// The checksum of the first `bytes` bytes of the /big body.
uint64_t big_checksum(uint64_t bytes, uint32_t seed, bool compressible);

struct SeenRequest {
  int connection = 0;  // 1-based accept order
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // Returns the first value of `name` (lower-case) or "" when absent.
  std::string header(std::string_view name) const;
  bool has(std::string_view name) const;
};

class TestServer {
 public:
  // Binds 127.0.0.1 on an ephemeral port and starts accepting.
  TestServer();
  // Stops accepting, wakes and joins every connection thread.
  ~TestServer();

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" + path_and_query.
  std::string url(std::string_view path_and_query) const;

  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  std::vector<SeenRequest> seen() const;
  // Responses the client abandoned (closed the connection while we still had to send).
  int client_closes() const { return client_closes_.load(); }
  // Waits until client_closes() >= n; returns false after `timeout_ms`.
  bool wait_client_closes(int n, int timeout_ms) const;
  Clock::time_point last_client_close() const;
  // Body bytes /big has handed to the kernel so far (over all requests).
  uint64_t big_bytes_sent() const { return big_bytes_sent_.load(); }

 private:
  void accept_loop();
  void serve(int fd, int connection);
  bool handle(int fd, const SeenRequest& req, int connection);
  void record_close();
  // Sleeps up to `ms`, returning early (true) when the client closed the connection.
  bool wait_for_close(int fd, int ms);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::vector<SeenRequest> seen_;
  Clock::time_point last_close_{};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> client_closes_{0};
  std::atomic<uint64_t> big_bytes_sent_{0};
};

}  // namespace gemgate::transport::testing
