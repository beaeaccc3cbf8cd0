// The loopback test server; see test_server.h. Paths (query parameters in brackets):
//   /json                       200, a small JSON body with content-length
//   /echo                       200, the request body back; x-echo-method names the method
//   /status [code]              that status, a short body
//   /stream [chunks interval_ms size]  chunked, one chunk per interval
//   /hang_head [ms]             sends nothing for ms (notices the client leaving), then /json
//   /stall [chunks size]        head + chunks, then silence until the client leaves
//   /sink                       reads the head only, never the body, until the client leaves
//   /early                      answers (chunked) before reading the body, then reads all of
//                               it and sends one chunk "<bytes> <fnv1a>" of what arrived
//   /close_mid                  promises 1000 bytes, sends 100, closes
//   /drop                       closes without answering
//   /garbage                    answers with something that is not HTTP
//   /huge_headers [count size]  count header fields of size bytes each
//   /interim                    100 Continue and 103 Early Hints before the 200
//   /redirect                   302 to /json
//   /big [bytes seed compressible gzip]  a long position-dependent body, small send buffer
//   http://... (absolute form)  answers as a forward proxy would: 200 "proxied"
#include "test_server.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

namespace gemgate::transport::testing {

uint8_t body_byte(uint64_t offset, uint32_t seed, bool compressible) {
  if (compressible) return static_cast<uint8_t>('a' + (offset / 64 + seed) % 26);
  uint64_t x = (offset + 1) * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(seed) << 32);
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return static_cast<uint8_t>(x >> 56);
}

uint64_t fnv1a(uint64_t hash, std::string_view data) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

uint64_t big_checksum(uint64_t bytes, uint32_t seed, bool compressible) {
  std::string all(bytes, '\0');
  for (uint64_t i = 0; i < bytes; ++i) all[i] = static_cast<char>(body_byte(i, seed, compressible));
  return fnv1a(kFnvBasis, all);
}

std::string SeenRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

bool SeenRequest::has(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return true;
  }
  return false;
}

namespace {

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::map<std::string, std::string> parse_query(std::string_view target) {
  std::map<std::string, std::string> out;
  size_t q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    std::string_view pair = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), pair.size() + 1));
    size_t eq = pair.find('=');
    out[std::string(pair.substr(0, eq))] =
        eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
  }
  return out;
}

long qint(const std::map<std::string, std::string>& q, const char* key, long fallback) {
  auto it = q.find(key);
  return it == q.end() ? fallback : std::stol(it->second);
}

std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

std::string fixed(int status, std::string_view type, std::string_view body,
                  std::string_view extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + std::string(type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) +
         "\r\n" + std::string(body);
}

const char kChunkedHead[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Reads one request (head + content-length body) into `req`; false when the peer left or stop.
bool read_request(int fd, std::string& buf, SeenRequest& req, const std::atomic<bool>& stop) {
  auto fill = [&]() {
    while (!stop.load()) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 100);
      if (r == 0) continue;
      if (r < 0 && errno == EINTR) continue;
      char tmp[16384];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<size_t>(n));
      return true;
    }
    return false;
  };
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return false;
  }
  std::string head = buf.substr(0, end);
  buf.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string first = head.substr(0, line_end);
  size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
  req.method = first.substr(0, sp1);
  req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  size_t content_length = 0;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    pos = next + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "content-length") content_length = std::stoul(value);
    req.headers.emplace_back(name, value);
  }
  if (req.target.starts_with("/sink")) return true;  // the body stays unread (handle waits)
  if (req.target.starts_with("/early")) {
    req.body = buf.substr(0, std::min(buf.size(), content_length));  // handle reads the rest
    buf.erase(0, req.body.size());
    return true;
  }
  while (buf.size() < content_length) {
    if (!fill()) return false;
  }
  req.body = buf.substr(0, content_length);
  buf.erase(0, content_length);
  return true;
}

}  // namespace

TestServer::TestServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 512) != 0) {
    throw std::runtime_error("test server: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestServer::~TestServer() {
  stop_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // wakes blocked sends and receives
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  // Closed only now: a number closed earlier could be reused by the client in this process,
  // and the shutdown() above would then hit the wrong socket.
  for (int fd : fds_) ::close(fd);
}

std::string TestServer::url(std::string_view path_and_query) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path_and_query);
}

std::vector<SeenRequest> TestServer::seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

bool TestServer::wait_client_closes(int n, int timeout_ms) const {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (client_closes_.load() < n) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

Clock::time_point TestServer::last_client_close() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_close_;
}

void TestServer::record_close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_close_ = Clock::now();
  }
  ++client_closes_;
}

bool TestServer::wait_for_close(int fd, int ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (!stop_.load()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 50)));
    if (r <= 0) continue;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
    char c;
    ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // unexpected bytes: ignore
  }
  return true;
}

void TestServer::accept_loop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    int connection = ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, connection] { serve(fd, connection); });
  }
}

void TestServer::serve(int fd, int connection) {
  std::string buf;
  for (;;) {
    SeenRequest req;
    if (!read_request(fd, buf, req, stop_)) break;
    req.connection = connection;
    ++requests_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(req);
    }
    if (!handle(fd, req, connection)) break;
  }
  ::shutdown(fd, SHUT_RDWR);  // FIN now; the descriptor itself is closed by the destructor
}

bool TestServer::handle(int fd, const SeenRequest& req, int connection) {
  const std::string& target = req.target;
  if (target.starts_with("http://")) return send_all(fd, fixed(200, "text/plain", "proxied"));
  std::string path = target.substr(0, target.find('?'));
  auto q = parse_query(target);

  if (path == "/json") return send_all(fd, fixed(200, "application/json", R"({"ok":true})"));
  if (path == "/json_then_close") {
    // A keep-alive answer, then the server closes the idle connection (as servers do when their
    // keep-alive timeout passes): the client's pooled connection goes dead while unused.
    send_all(fd, fixed(200, "application/json", R"({"ok":true})"));
    return false;
  }
  if (path == "/echo") {
    return send_all(fd,
                    fixed(200, "text/plain", req.body, "X-Echo-Method: " + req.method + "\r\n"));
  }
  if (path == "/status") return send_all(fd, fixed(qint(q, "code", 200), "text/plain", "status"));
  if (path == "/redirect") return send_all(fd, fixed(302, "text/plain", "", "Location: /json\r\n"));
  if (path == "/interim") {
    return send_all(
               fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n") &&
           send_all(fd, fixed(200, "application/json", R"({"ok":true})"));
  }
  if (path == "/sink") {
    if (wait_for_close(fd, 60000)) record_close();
    return false;
  }
  if (path == "/early") {
    if (!send_all(fd, kChunkedHead)) return false;
    size_t length =
        std::stoul(req.header("content-length").empty() ? "0" : req.header("content-length"));
    size_t got = req.body.size();
    uint64_t hash = fnv1a(kFnvBasis, req.body);
    char tmp[65536];
    while (got < length) {
      ssize_t n = ::recv(fd, tmp, std::min(sizeof tmp, length - got), 0);
      if (n <= 0) return false;
      hash = fnv1a(hash, std::string_view(tmp, static_cast<size_t>(n)));
      got += static_cast<size_t>(n);
    }
    return send_all(fd, chunk(std::to_string(got) + " " + std::to_string(hash))) &&
           send_all(fd, "0\r\n\r\n");
  }
  if (path == "/hang_head") {
    if (wait_for_close(fd, static_cast<int>(qint(q, "ms", 5000)))) {
      record_close();
      return false;
    }
    return send_all(fd, fixed(200, "application/json", R"({"ok":true})"));
  }
  if (path == "/stream" || path == "/stall") {
    long chunks = qint(q, "chunks", 5), interval = qint(q, "interval_ms", 0);
    size_t size = static_cast<size_t>(qint(q, "size", 16));
    if (!send_all(fd, kChunkedHead)) return false;
    for (long i = 0; i < chunks; ++i) {
      if (i > 0 && interval > 0 && wait_for_close(fd, static_cast<int>(interval))) {
        record_close();
        return false;
      }
      if (!send_all(fd, chunk(std::string(size, static_cast<char>('a' + i % 26))))) {
        record_close();
        return false;
      }
    }
    if (path == "/stall") {
      if (wait_for_close(fd, 20000)) record_close();
      return false;
    }
    return send_all(fd, "0\r\n\r\n");
  }
  if (path == "/drop") return false;
  if (path == "/garbage") {
    send_all(fd, "hello there\r\n\r\n");
    return false;
  }
  if (path == "/close_mid") {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + std::string(100, 'x'));
    return false;
  }
  if (path == "/huge_headers") {
    long count = qint(q, "count", 100), size = qint(q, "size", 1000);
    std::string extra;
    for (long i = 0; i < count; ++i) {
      extra +=
          "X-H" + std::to_string(i) + ": " + std::string(static_cast<size_t>(size), 'h') + "\r\n";
    }
    return send_all(fd, fixed(200, "text/plain", "ok", extra));
  }
  if (path == "/big") {
    uint64_t bytes = static_cast<uint64_t>(qint(q, "bytes", 1 << 20));
    uint32_t seed = static_cast<uint32_t>(qint(q, "seed", 1));
    bool compressible = qint(q, "compressible", 0) != 0;
    int sndbuf = 64 * 1024;  // small, so a paused client blocks us quickly
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    std::string all(bytes, '\0');
    for (uint64_t i = 0; i < bytes; ++i)
      all[i] = static_cast<char>(body_byte(i, seed, compressible));
    if (qint(q, "gzip", 0) != 0) {
      std::string z = gzip(all);
      if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " +
                            std::to_string(z.size()) + "\r\n\r\n")) {
        return false;
      }
      for (size_t off = 0; off < z.size(); off += 8192) {
        std::string_view piece = std::string_view(z).substr(off, 8192);
        if (!send_all(fd, piece)) {
          record_close();
          return false;
        }
        big_bytes_sent_ += piece.size();
      }
      return true;
    }
    if (!send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")) return false;
    uint32_t lcg = seed * 2654435761u + 1;
    for (uint64_t off = 0; off < bytes;) {
      lcg = lcg * 1664525u + 1013904223u;
      size_t n = std::min<uint64_t>(bytes - off, 1 + (lcg >> 17));  // 1 .. 32 KiB pieces
      if (!send_all(fd, chunk(std::string_view(all).substr(off, n)))) {
        record_close();
        return false;
      }
      off += n;
      big_bytes_sent_ += n;
    }
    return send_all(fd, "0\r\n\r\n");
  }
  (void)connection;
  return send_all(fd, fixed(404, "text/plain", "not found"));
}

}  // namespace gemgate::transport::testing
