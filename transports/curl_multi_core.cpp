// MultiCore, part 1: libcurl multi ⇄ libuv loop integration (socket and timer callbacks, the
// deferred-work flush, the job pool and close). Starting a transfer is in curl_easy_setup.cpp,
// the rest of its life in curl_job.cpp.
#include "transports/curl_multi_core.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cassert>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "transports/curl_failure.h"

namespace gemgate::transport::detail {

namespace {
// Jobs kept for reuse: an easy handle costs a few allocations and its receive buffer; a small
// pool covers the steady state without holding memory after a burst.
constexpr size_t kMaxFreeJobs = 32;
}  // namespace

MultiCore::MultiCore(uv_loop_t* loop, const Options& options) : loop_(loop), options_(options) {}

MultiCore::~MultiCore() {
  assert(closed_ && in_curl_ == 0 && !flushing_);
}

Result<void> MultiCore::init() {
  multi_ = curl_multi_init();
  if (!multi_) return Error::internal("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &MultiCore::on_curl_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &MultiCore::on_curl_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  if (options_.max_host_connections > 0)
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
  if (options_.max_total_connections > 0)
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
  if (options_.max_cached_connections > 0)
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_cached_connections);

  curl_timer_ = new uv_timer_t;
  uv_timer_init(loop_, curl_timer_);
  curl_timer_->data = this;
  kick_ = new uv_idle_t;
  uv_idle_init(loop_, kick_);
  kick_->data = this;
  return {};
}

// ---- libcurl → libuv -------------------------------------------------------------------------

int MultiCore::on_curl_socket(CURL* easy, curl_socket_t fd, int what, void* userp,
                              void* socketp) noexcept {
  auto* self = static_cast<MultiCore*>(userp);
  auto* ctx = static_cast<PollCtx*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    // libcurl also says this when a connection goes idle into its cache. The handle is closed
    // when libcurl closes the socket (on_close_socket), so a reused connection costs no handle
    // teardown and rebuild per request. A poll that watches for reading only keeps watching
    // (no epoll_ctl now, none when the next request on the connection asks for reading again):
    // if the idle connection becomes readable (the server closed it), on_poll stops it then.
    if (!ctx) {
      auto it = self->polls_.find(fd);
      if (it != self->polls_.end()) ctx = it->second;
    }
    if (ctx) {
      ctx->wanted = false;
      if (ctx->events != UV_READABLE) self->watch(ctx, 0);
    }
    return 0;
  }
  if (!ctx) {
    auto it = self->polls_.find(fd);
    if (it != self->polls_.end()) {
      ctx = it->second;
    } else {
      ctx = new PollCtx;
      ctx->fd = fd;
      ctx->core = self;
      // Whose connection this is: every transfer on it goes to the same scheme and host.
      void* priv = nullptr;
      if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) == CURLE_OK && priv) {
        const Job* job = static_cast<const Job*>(priv);
        ctx->host = job->host;
        ctx->https = is_https_url(job->url);
      }
      int rc = uv_poll_init_socket(self->loop_, &ctx->poll, fd);
      if (rc != 0) {
        log::error(std::string("transport: cannot watch an upstream socket: ") + uv_strerror(rc));
        delete ctx;
        return -1;  // libcurl fails the transfers using this socket
      }
      ctx->poll.data = ctx;
      self->polls_.emplace(fd, ctx);
    }
    curl_multi_assign(self->multi_, fd, ctx);
  }
  int events = 0;
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  if (!ctx->wanted) ctx->wanted_since_ms = uv_now(self->loop_);
  ctx->wanted = true;
  return self->watch(ctx, events) ? 0 : -1;
}

bool MultiCore::watch(PollCtx* ctx, int events) {
  if (ctx->events == events) return true;  // unchanged: no system call
  if (events == 0) {
    uv_poll_stop(&ctx->poll);
    ctx->events = 0;
    return true;
  }
  int rc = uv_poll_start(&ctx->poll, events, &MultiCore::on_poll);
  if (rc != 0) {
    log::error(std::string("transport: uv_poll_start failed: ") + uv_strerror(rc));
    uv_poll_stop(&ctx->poll);
    ctx->events = 0;
    return false;
  }
  ctx->events = events;
  return true;
}

namespace {

// True for addresses a client-chosen URL must never reach: loopback, unspecified, private,
// link-local, CGNAT, multicast/reserved IPv4, and IPv6 loopback, unique-local, link-local,
// multicast and IPv4-mapped/compatible forms of any of those.
bool private_address(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
    uint32_t top = a >> 24;
    return top == 0 || top == 10 || top == 127 || top >= 224 || (a >> 20) == 0xAC1 ||  // 172.16/12
           (a >> 16) == 0xC0A8 || (a >> 16) == 0xA9FE ||  // 192.168, 169.254
           (a >> 22) == (100u << 2 | 1);                  // 100.64/10
  }
  if (sa->sa_family == AF_INET6) {
    const uint8_t* b = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
    bool zero80 = true;
    for (int i = 0; i < 10; ++i) zero80 = zero80 && b[i] == 0;
    if (zero80 && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0))) {
      // ::ffff:a.b.c.d, ::a.b.c.d (and :: / ::1): judge the embedded IPv4 address.
      sockaddr_in v4{};
      v4.sin_family = AF_INET;
      std::memcpy(&v4.sin_addr, b + 12, 4);
      return private_address(reinterpret_cast<const sockaddr*>(&v4)) ||
             (b[10] == 0 && b[12] == 0 && b[13] == 0 && b[14] == 0);
    }
    return (b[0] & 0xfe) == 0xfc ||                    // fc00::/7 unique local
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  // fe80::/10 link local
           b[0] == 0xff;                               // multicast
  }
  return true;  // anything else (unix sockets, ...) is not for client-chosen URLs
}

}  // namespace

curl_socket_t MultiCore::on_open_public_socket(void*, curlsocktype purpose,
                                               struct curl_sockaddr* address) noexcept {
  if (purpose == CURLSOCKTYPE_IPCXN && private_address(&address->addr)) return CURL_SOCKET_BAD;
  return ::socket(address->family, address->socktype, address->protocol);
}

int MultiCore::on_close_socket(void* clientp, curl_socket_t fd) noexcept {
  auto* self = static_cast<MultiCore*>(clientp);
  auto it = self->polls_.find(fd);
  if (it != self->polls_.end()) self->close_poll(it->second);
  return ::close(fd);
}

void MultiCore::close_poll(PollCtx* ctx) {
  auto it = polls_.find(ctx->fd);
  if (it != polls_.end() && it->second == ctx) polls_.erase(it);
  ctx->core = nullptr;
  ctx->events = 0;
  uv_poll_stop(&ctx->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->poll),
           [](uv_handle_t* h) noexcept { delete static_cast<PollCtx*>(h->data); });
}

int MultiCore::on_curl_timer(CURLM*, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<MultiCore*>(userp);
  if (timeout_ms < 0) {
    uv_timer_stop(self->curl_timer_);
    uv_idle_stop(self->kick_);
    self->curl_timeout_due_ = false;
  } else if (timeout_ms == 0) {
    // libcurl must not be called from inside this callback: run it on the next loop turn.
    uv_timer_stop(self->curl_timer_);
    self->curl_timeout_due_ = true;
    uv_idle_start(self->kick_, &MultiCore::on_kick);
  } else {
    uv_idle_stop(self->kick_);
    self->curl_timeout_due_ = false;
    uv_timer_start(self->curl_timer_, &MultiCore::on_curl_uv_timer,
                   static_cast<uint64_t>(timeout_ms), 0);
  }
  return 0;
}

void MultiCore::on_curl_uv_timer(uv_timer_t* timer) noexcept {
  static_cast<MultiCore*>(timer->data)->socket_action(CURL_SOCKET_TIMEOUT, 0);
}

void MultiCore::on_kick(uv_idle_t* idle) noexcept {
  auto* self = static_cast<MultiCore*>(idle->data);
  uv_idle_stop(idle);
  if (self->curl_timeout_due_) {
    self->curl_timeout_due_ = false;
    self->socket_action(CURL_SOCKET_TIMEOUT, 0);
  }
}

void MultiCore::on_poll(uv_poll_t* poll, int status, int events) noexcept {
  auto* ctx = static_cast<PollCtx*>(poll->data);
  if (!ctx->core) return;
  if (!ctx->wanted) {
    // An idle cached connection became readable: the server closed it (or sent bytes nobody
    // asked for). Stop watching; libcurl finds it dead before it would reuse it, and closes it.
    ctx->core->watch(ctx, 0);
    return;
  }
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  }
  ctx->core->socket_action(ctx->fd, flags);
}

void MultiCore::socket_action(curl_socket_t fd, int ev_bitmask) {
  if (!multi_) return;
  int running = 0;
  ++in_curl_;
  CURLMcode rc = curl_multi_socket_action(multi_, fd, ev_bitmask, &running);
  --in_curl_;
  ++counters_.socket_actions;
  if (rc != CURLM_OK) log::warn(std::string("transport: ") + curl_multi_strerror(rc));
  flush();
}

// ---- deferred work ---------------------------------------------------------------------------

void MultiCore::queue(Job* job) {
  if (job->queued) return;
  job->queued = true;
  attention_.push_back(job);
}

void MultiCore::flush() {
  // Only the outermost frame works; a nested call (from a handler reached through flush
  // itself) leaves the new work to the loop below, which looks again before it stops.
  if (in_curl_ > 0 || flushing_) return;
  flushing_ = true;
  for (;;) {
    if (close_requested_) break;  // close() fails every live transfer alike; nothing else to do
    if (!attention_.empty()) {
      Job* job = attention_.front();
      attention_.pop_front();
      job->queued = false;
      service(job);
      continue;
    }
    if (drain_one_message()) continue;
    break;
  }
  flushing_ = false;
  if (close_requested_) close();
}

bool MultiCore::drain_one_message() {
  if (!multi_) return false;
  int left = 0;
  // One message at a time: handling it may remove other handles, and libcurl drops their
  // pending messages on removal, so a batch read up front could hold dangling handles.
  CURLMsg* msg = curl_multi_info_read(multi_, &left);
  if (!msg) return false;
  if (msg->msg == CURLMSG_DONE) {
    Job* job = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&job));
    if (job && job->state == Job::State::kRunning) complete(job, msg->data.result);
  }
  return true;
}

void MultiCore::service(Job* job) {
  switch (job->state) {
    case Job::State::kPendingAdd:
      if (job->cancelled) {
        job->state = Job::State::kIdle;
        recycle(job);
      } else {
        add_to_multi(job);
      }
      break;
    case Job::State::kRunning:
      if (job->cancelled) {
        remove_from_multi(job);
        recycle(job);
      } else {
        sync_pause(job);
      }
      break;
    case Job::State::kIdle:
      break;
  }
}

// ---- job pool --------------------------------------------------------------------------------

Job* MultiCore::take_job() {
  if (!free_.empty()) {
    Job* job = free_.back();
    free_.pop_back();
    return job;
  }
  CURL* easy = curl_easy_init();
  if (!easy) return nullptr;
  auto* job = new Job;
  job->core = this;
  job->easy = easy;
  uv_timer_init(loop_, &job->timer);
  job->timer.data = job;
  return job;
}

void MultiCore::recycle(Job* job) {
  assert(job->state == Job::State::kIdle);
  uv_timer_stop(&job->timer);
  if (job->queued) {
    attention_.erase(std::find(attention_.begin(), attention_.end(), job));
    job->queued = false;
  }
  unlink_live(job);
  // No curl_easy_reset: the next configure() sets every per-request option again and keeps
  // the fixed ones (configure_fixed), which saves re-copying them on every transfer.
  job->body.reset();
  release_upload(job);
  job->handler = nullptr;
  job->owner_slot = nullptr;
  job->url.clear();
  job->host.clear();
  job->head.reset(0);
  job->head_delivered = job->cancelled = job->want_paused = job->curl_paused = false;
  job->resent = false;
  job->local_failure.reset();
  if (!closed_ && free_.size() < kMaxFreeJobs) {
    free_.push_back(job);
  } else {
    destroy_job(job);
  }
}

void MultiCore::link_live(Job* job) {
  assert(!job->live);
  job->live = true;
  job->live_prev = nullptr;
  job->live_next = live_head_;
  if (live_head_) live_head_->live_prev = job;
  live_head_ = job;
  ++live_count_;
}

void MultiCore::unlink_live(Job* job) {
  if (!job->live) return;
  if (job->live_prev) {
    job->live_prev->live_next = job->live_next;
  } else {
    live_head_ = job->live_next;
  }
  if (job->live_next) job->live_next->live_prev = job->live_prev;
  job->live = false;
  job->live_prev = job->live_next = nullptr;
  --live_count_;
}

void MultiCore::destroy_job(Job* job) {
  curl_easy_cleanup(job->easy);
  job->easy = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&job->timer),
           [](uv_handle_t* h) noexcept { delete static_cast<Job*>(h->data); });
}

// ---- end of life -----------------------------------------------------------------------------

void MultiCore::close() {
  if (closed_) return;
  if (in_curl_ > 0) {
    close_requested_ = true;  // finish once libcurl has returned (see flush)
    return;
  }
  closed_ = true;
  close_requested_ = false;
  // Fail the live transfers one by one: a handler may cancel or start others meanwhile, so
  // never hold on to a snapshot of the set.
  while (live_head_) {
    Job* job = live_head_;
    if (job->state == Job::State::kRunning) {
      remove_from_multi(job);
    } else {
      job->state = Job::State::kIdle;
    }
    if (job->cancelled || !job->handler) {
      recycle(job);
    } else {
      Failure failure{FailureKind::kInternal, "transport closed", job->head_delivered};
      deliver_done(job, &failure);
    }
  }
  attention_.clear();
  for (Job* job : free_) destroy_job(job);
  free_.clear();
  if (multi_) {
    curl_multi_cleanup(multi_);  // closes pooled connections
    multi_ = nullptr;
  }
  // libcurl removes its sockets before closing them; anything left is closed here.
  while (!polls_.empty()) close_poll(polls_.begin()->second);
  auto close_and_free = [](uv_handle_t* h) noexcept {
    if (h->type == UV_TIMER) {
      delete reinterpret_cast<uv_timer_t*>(h);
    } else {
      delete reinterpret_cast<uv_idle_t*>(h);
    }
  };
  if (curl_timer_) {
    uv_timer_stop(curl_timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(curl_timer_), close_and_free);
    curl_timer_ = nullptr;
  }
  if (kick_) {
    uv_idle_stop(kick_);
    uv_close(reinterpret_cast<uv_handle_t*>(kick_), close_and_free);
    kick_ = nullptr;
  }
}

MultiCore::Stats MultiCore::stats() const {
  Stats s = counters_;
  s.active_transfers = live_count_;
  for (const auto& [fd, ctx] : polls_) {
    if (ctx->wanted) ++s.open_sockets;  // an idle cached connection is not counted
  }
  s.pooled_handles = free_.size();
  return s;
}

}  // namespace gemgate::transport::detail
