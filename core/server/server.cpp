#include "core/server/server.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/exchange.h"
#include "core/log.h"
#include "core/request_id.h"
#include "core/server/connection.h"

namespace gemgate::server {

// Connections the kernel may queue per listening socket before accept(): a burst of thousands of
// clients at once (a reconnect storm) must queue, not be refused. The kernel clamps it to
// net.core.somaxconn (4096 on Debian 12).
constexpr int kListenBacklog = 4096;

bool parse_listen_address(std::string_view text, std::string* host, int* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (p.empty() || p.size() > 5) return false;
  int n = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n > 65535) return false;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  *host = h.empty() ? "0.0.0.0" : std::string(h);
  *port = n;
  return true;
}

Server::Server(Worker& worker, ServerContext& context)
    : worker_(worker),
      context_(context),
      heap_trim_(worker.loop(), [this] { return connections_.size(); }),
      read_buffer_(new char[kReadBufferSize]) {}

Server::~Server() = default;

Result<int> Server::listen(const std::string& host, int port, bool check_free) {
  sockaddr_storage addr{};
  bool v6 = host.find(':') != std::string::npos;
  int rc = v6 ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
              : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) return Error::invalid("bad listen address '" + host + "'");
  socklen_t len = v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (check_free && port != 0) {
    // SO_REUSEPORT would let a second gemgate (or anything of the same user) share the port and
    // silently take half the traffic. A plain bind first proves nobody else listens there.
    int probe = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
      int one_probe = 1;
      ::setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one_probe, sizeof one_probe);
      int r = ::bind(probe, reinterpret_cast<sockaddr*>(&addr), len);
      int e = errno;
      ::close(probe);
      if (r != 0) {
        return Error::unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                  std::strerror(e));
      }
    }
  }
  // libuv 1.44 (Debian 12) has no UV_TCP_REUSEPORT, so the socket is made by hand.
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::unavailable(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int e = errno;
    ::close(fd);
    return Error::unavailable(std::string("SO_REUSEPORT: ") + std::strerror(e));
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    int e = errno;
    ::close(fd);
    return Error::unavailable("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                              std::strerror(e));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  int bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener_ = new uv_tcp_t;
  uv_tcp_init(worker_.loop(), listener_);
  listener_->data = this;
  if ((rc = uv_tcp_open(listener_, fd)) != 0 ||
      (rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_), kListenBacklog,
                      &Server::on_connection)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_),
             [](uv_handle_t* h) noexcept { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
    return Error::unavailable(std::string("listen: ") + uv_strerror(rc));
  }
  return bound_port;
}

void Server::on_connection(uv_stream_t* listener, int status) noexcept {
  auto* self = static_cast<Server*>(listener->data);
  if (status < 0) {
    log::warn(std::string("accept failed: ") + uv_strerror(status));
    return;
  }
  ServerContext& ctx = self->context_;
  auto* conn = new Connection(*self, ctx.next_connection_id.fetch_add(1));
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(conn->handle())) != 0) {
    self->connections_.insert(conn);
    ctx.open_connections.fetch_add(1);
    conn->close_now();
    return;
  }
  self->connections_.insert(conn);
  self->heap_trim_.note(self->connections_.size());
  size_t open = ctx.open_connections.fetch_add(1) + 1;
  if (self->draining_) {
    conn->close_now();
    return;
  }
  size_t max = ctx.limits.load()->max_connections;
  if (open > max) {
    // Full. A connection that merely waits for a next request is worth less than a client that
    // wants one now: the longest-idle one makes room (its client reconnects when it needs to).
    if (self->shed_idle()) {
      conn->start();
      return;
    }
    // Nothing to shed: tell the client to come back rather than closing silently, which looks
    // like a network fault. The refused connections are short-lived (they linger at most
    // linger_ms) but still hold a descriptor, so beyond a margin they are closed unanswered.
    size_t margin = std::max<size_t>(64, max / 8);
    if (open > max + margin) {
      conn->close_now();
    } else {
      conn->refuse(503, "the gateway has too many open connections; retry shortly");
    }
    return;
  }
  conn->start();
}

std::unique_ptr<Exchange> Server::open_exchange(http::Request& request, const std::string& peer,
                                                Downstream& downstream) {
  // The table is held for the match only: the exchange keeps its chain alive by itself, so a
  // reload that publishes a new table never cuts a request that already started.
  std::shared_ptr<const RouteTable> routes = context_.routes.load();
  const Route* route = routes->match(request.path);
  if (!route) return nullptr;
  auto settings =
      context_.settings ? context_.settings->load() : std::make_shared<const Settings>();
  auto exchange =
      std::make_unique<Exchange>(worker_, route->chain, std::move(settings), downstream);
  StreamInfo& info = exchange->info();
  info.route = route->path;
  info.method = request.method;
  info.path = request.path;
  info.client_addr = peer;
  info.request_id = adopt_request_id(request.headers.get("x-request-id"));
  if (!route->strip.empty() && request.path.starts_with(route->strip)) {
    request.path.erase(0, route->strip.size());
    if (request.path.empty() || request.path[0] != '/') request.path.insert(0, "/");
  }
  exchange->request() = std::move(request);
  return exchange;
}

Server::BodyPolicy Server::body_policy(std::string_view path, size_t server_limit) const {
  std::shared_ptr<const RouteTable> routes = context_.routes.load();
  const Route* route = routes->match(path);
  if (!route) return BodyPolicy{false, server_limit};
  return BodyPolicy{route->stream_body,
                    route->max_body_bytes ? route->max_body_bytes : server_limit};
}

void Server::set_idle(Connection* c, bool idle) {
  bool listed = c->idle_prev_ || c->idle_next_ || idle_head_ == c;
  if (idle == listed) return;
  if (idle) {
    c->idle_prev_ = idle_tail_;
    c->idle_next_ = nullptr;
    (idle_tail_ ? idle_tail_->idle_next_ : idle_head_) = c;
    idle_tail_ = c;
    return;
  }
  (c->idle_prev_ ? c->idle_prev_->idle_next_ : idle_head_) = c->idle_next_;
  (c->idle_next_ ? c->idle_next_->idle_prev_ : idle_tail_) = c->idle_prev_;
  c->idle_prev_ = c->idle_next_ = nullptr;
}

bool Server::shed_idle() {
  // A few from the old end: one still writing its last answer is skipped (cutting it would
  // lose that answer), but the scan stays short whatever the list holds.
  int looked = 0;
  for (Connection* c = idle_head_; c && looked < 16; c = c->idle_next_, ++looked) {
    if (!c->sheddable()) continue;
    log::debug("max_connections reached: closing an idle keep-alive connection");
    c->close_now();  // unlists it; its slot is free once its handle is closed
    return true;
  }
  return false;
}

void Server::forget(Connection* connection) {
  set_idle(connection, false);
  if (connections_.erase(connection)) context_.open_connections.fetch_sub(1);
  heap_trim_.note(connections_.size());
  maybe_drained();
}

void Server::shutdown(uint64_t grace_ms, std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  if (listener_) {
    uv_close(reinterpret_cast<uv_handle_t*>(listener_),
             [](uv_handle_t* h) noexcept { delete reinterpret_cast<uv_tcp_t*>(h); });
    listener_ = nullptr;
  }
  std::vector<Connection*> snapshot(connections_.begin(), connections_.end());
  for (Connection* c : snapshot) c->drain();
  grace_timer_ = std::make_unique<Timer>(worker_.loop());
  grace_timer_->start(grace_ms, [this] {
    std::vector<Connection*> rest(connections_.begin(), connections_.end());
    if (!rest.empty())
      log::warn("shutdown grace expired; closing " + std::to_string(rest.size()) +
                " connection(s)");
    for (Connection* c : rest) c->close_now();
  });
  maybe_drained();
}

void Server::maybe_drained() {
  if (!draining_ || !connections_.empty() || !on_drained_) return;
  grace_timer_.reset();
  auto done = std::move(on_drained_);
  on_drained_ = nullptr;
  done();
}

}  // namespace gemgate::server
