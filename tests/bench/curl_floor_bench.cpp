// libcurl's own floor: the bare multi API on epoll, no gemgate code at all. `concurrency` easy
// handles are configured once and re-added after each transfer, each POSTing the same body as
// bench_transport, driven by curl_multi_socket_action like any event-loop user. Prints
// requests/s, CPU µs per request (getrusage, whole process, user + system), failures, malloc
// calls per request (malloc_count.h) and peak RSS in KiB, then on stderr how often libcurl called
// our socket and timer callbacks and how many epoll_ctl calls those cost, per request. What this
// costs, no transport built on libcurl can go below.
//
// Usage: bench_curl_floor URL [seconds=5] [concurrency=32] [OPTION...]
//   --h2            CURL_HTTP_VERSION_2TLS (HTTP/2 where ALPN offers it; multiplexed)
//   --h1            CURL_HTTP_VERSION_1_1 (also over TLS; libcurl's default is --h2)
//   --cainfo=FILE   CURLOPT_CAINFO (the benchmark's self-signed TLS upstream)
//   --encoding      CURLOPT_ACCEPT_ENCODING "" (advertise and decode gzip, br, zstd)
//   --nodelay=0|1   CURLOPT_TCP_NODELAY (libcurl's default is 1)
//   --pipewait      CURLOPT_PIPEWAIT
//   --buffersize=N  CURLOPT_BUFFERSIZE (libcurl's default 16384)
//   --headers       a header list like gemgate's (Content-Type, "Expect:")
//   --headercb      a header callback that only counts the lines
//   --seturl        set CURLOPT_URL again before every transfer (string URL)
//   --curlu         set CURLOPT_CURLU (a parsed URL handle) before every transfer
//   --curlu-parse   the same, the handle's URL set again (parsed) before every transfer
//   --curlu-path    the same, only its path and query set again before every transfer
//   --gemgate       every option transports/curl_easy_setup.cpp sets, fixed ones once and
//                   per-request ones before every transfer (implies --headers --headercb)
//   --maxconnects=N CURLMOPT_MAXCONNECTS
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <curl/curl.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include "malloc_count.h"

namespace {

const char kBody[] = R"({"contents":[{"role":"user","parts":[{"text":"Hello"}]}]})";

struct Flags {
  bool h2 = false;
  bool h1 = false;
  std::string cainfo;
  bool encoding = false;
  long nodelay = -1;
  bool pipewait = false;
  long buffersize = 0;
  bool headers = false;
  bool headercb = false;
  bool seturl = false;
  bool curlu = false;
  bool curlu_parse = false;
  bool curlu_path = false;
  bool gemgate = false;
  long maxconnects = 0;
};

struct Counters {
  long done = 0;
  long failed = 0;
  long socket_cb = 0;
  long timer_cb = 0;
  long epoll_ctl = 0;
  long header_lines = 0;
  long bytes = 0;
};

Counters counters;
int epfd = -1;
long timeout_ms = -1;  // what libcurl's timer callback asked for; -1 = none
std::chrono::steady_clock::time_point timer_due;
std::unordered_map<curl_socket_t, uint32_t> watched;  // fd -> epoll events registered

int on_socket(CURL*, curl_socket_t fd, int what, void*, void*) {
  ++counters.socket_cb;
  auto it = watched.find(fd);
  if (what == CURL_POLL_REMOVE) {
    if (it != watched.end()) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
      ++counters.epoll_ctl;
      watched.erase(it);
    }
    return 0;
  }
  uint32_t ev = 0;
  if (what & CURL_POLL_IN) ev |= EPOLLIN;
  if (what & CURL_POLL_OUT) ev |= EPOLLOUT;
  epoll_event e{};
  e.events = ev;
  e.data.fd = fd;
  if (it == watched.end()) {
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
    ++counters.epoll_ctl;
    watched.emplace(fd, ev);
  } else if (it->second != ev) {
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &e);
    ++counters.epoll_ctl;
    it->second = ev;
  }
  return 0;
}

int on_timer(CURLM*, long ms, void*) {
  ++counters.timer_cb;
  timeout_ms = ms;
  if (ms >= 0) timer_due = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  return 0;
}

size_t on_write(char*, size_t size, size_t count, void*) {
  counters.bytes += static_cast<long>(size * count);
  return size * count;
}

size_t on_header(char*, size_t size, size_t count, void*) {
  ++counters.header_lines;
  return size * count;
}

struct Caller {
  CURL* easy = nullptr;
  CURLU* url = nullptr;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE];
};

// Once per handle: what every transfer shares.
void configure_fixed(Caller& c, const std::string& url, const Flags& f) {
  CURL* e = c.easy;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sizeof kBody - 1));
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, kBody);
  if (f.h2) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  if (f.h1) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  if (!f.cainfo.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, f.cainfo.c_str());
  if (f.encoding) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  if (f.nodelay >= 0) curl_easy_setopt(e, CURLOPT_TCP_NODELAY, f.nodelay);
  if (f.pipewait) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  if (f.buffersize > 0) curl_easy_setopt(e, CURLOPT_BUFFERSIZE, f.buffersize);
  if (f.headercb) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  if (f.headers) {
    c.headers = curl_slist_append(c.headers, "Content-Type: application/json");
    c.headers = curl_slist_append(c.headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c.headers);
  }
  if (f.curlu) {
    c.url = curl_url();
    curl_url_set(c.url, CURLUPART_URL, url.c_str(), 0);
  }
  if (f.gemgate) {
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c.errbuf);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 60L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 30L);
    curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
  }
}

// Before every transfer: what gemgate (or a caller with a new URL each time) sets again.
void configure_each(Caller& c, const std::string& url, const Flags& f) {
  CURL* e = c.easy;
  if (f.seturl) curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  if (f.curlu_parse) curl_url_set(c.url, CURLUPART_URL, url.c_str(), 0);
  if (f.curlu_path) {
    size_t q = url.find('?'), p = url.find('/', url.find("://") + 3);
    std::string path = url.substr(p, q == std::string::npos ? std::string::npos : q - p);
    curl_url_set(c.url, CURLUPART_PATH, path.c_str(), 0);
    curl_url_set(c.url, CURLUPART_QUERY, q == std::string::npos ? nullptr : url.c_str() + q + 1, 0);
  }
  if (f.curlu) curl_easy_setopt(e, CURLOPT_CURLU, c.url);
  if (f.gemgate) {
    c.errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, curl_opensocket_callback{nullptr});
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 0L);
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 0L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, static_cast<const char*>(nullptr));
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sizeof kBody - 1));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, kBody);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c.headers);
  }
}

CURLM* multi = nullptr;

void socket_action(curl_socket_t fd, int mask) {
  int running = 0;
  curl_multi_socket_action(multi, fd, mask, &running);
}

bool parse_flag(std::string_view a, Flags& f) {
  auto value = [&](std::string_view name, auto& out) {
    if (a.substr(0, name.size()) != name) return false;
    std::string v(a.substr(name.size()));
    if constexpr (std::is_same_v<std::decay_t<decltype(out)>, std::string>) {
      out = v;
    } else {
      out = std::atol(v.c_str());
    }
    return true;
  };
  if (a == "--h2") return f.h2 = true;
  if (a == "--h1") return f.h1 = true;
  if (a == "--encoding") return f.encoding = true;
  if (a == "--pipewait") return f.pipewait = true;
  if (a == "--headers") return f.headers = true;
  if (a == "--headercb") return f.headercb = true;
  if (a == "--seturl") return f.seturl = true;
  if (a == "--curlu") return f.curlu = true;
  if (a == "--curlu-parse") return f.curlu = f.curlu_parse = true;
  if (a == "--curlu-path") return f.curlu = f.curlu_path = true;
  if (a == "--gemgate") return f.gemgate = f.headers = f.headercb = f.encoding = true;
  return value("--cainfo=", f.cainfo) || value("--nodelay=", f.nodelay) ||
         value("--buffersize=", f.buffersize) || value("--maxconnects=", f.maxconnects);
}

// The process's peak resident set so far, KiB.
long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_curl_floor URL [seconds] [concurrency] [OPTION...]\n");
    return 2;
  }
  std::string url = argv[1];
  int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  int concurrency = argc > 3 ? std::atoi(argv[3]) : 32;
  Flags flags;
  for (int i = 4; i < argc; ++i) {
    if (!parse_flag(argv[i], flags)) {
      std::fprintf(stderr, "bench_curl_floor: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
  epfd = epoll_create1(EPOLL_CLOEXEC);
  multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, flags.maxconnects > 0 ? flags.maxconnects : 512L);

  std::vector<Caller> callers(static_cast<size_t>(concurrency));
  for (Caller& c : callers) {
    c.easy = curl_easy_init();
    curl_easy_setopt(c.easy, CURLOPT_PRIVATE, static_cast<void*>(&c));
    configure_fixed(c, url, flags);
    configure_each(c, url, flags);
    curl_multi_add_handle(multi, c.easy);
  }

  auto t0 = std::chrono::steady_clock::now();
  auto stop = t0 + std::chrono::seconds(seconds);
  double cpu0 = cpu_seconds();
  long mallocs0 = bench::malloc_calls.load();
  Counters at_start = counters;
  std::vector<epoll_event> events(256);
  while (std::chrono::steady_clock::now() < stop) {
    int wait_ms = 100;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      timer_due - std::chrono::steady_clock::now())
                      .count();
      wait_ms = static_cast<int>(std::max<long>(0, std::min<long>(left, wait_ms)));
    }
    int n = epoll_wait(epfd, events.data(), static_cast<int>(events.size()), wait_ms);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      int mask = 0;
      if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
      socket_action(events[i].data.fd, mask);
    }
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= timer_due) {
      timeout_ms = -1;
      socket_action(CURL_SOCKET_TIMEOUT, 0);
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      CURLcode result = msg->data.result;
      Caller* c = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, reinterpret_cast<char**>(&c));
      ++(result == CURLE_OK ? counters.done : counters.failed);
      curl_multi_remove_handle(multi, e);
      configure_each(*c, url, flags);
      curl_multi_add_handle(multi, e);
    }
  }
  double cpu = cpu_seconds() - cpu0;
  long mallocs = bench::malloc_calls.load() - mallocs0;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long reqs = counters.done - at_start.done;
  std::printf("%.2f %.2f %ld %.2f %ld\n", reqs / elapsed, reqs ? cpu * 1e6 / reqs : 0.0,
              counters.failed, reqs ? static_cast<double>(mallocs) / reqs : 0.0, peak_rss_kib());
  if (reqs > 0) {
    auto per = [&](long now, long then) { return static_cast<double>(now - then) / reqs; };
    std::fprintf(
        stderr,
        "per request: %.2f socket callbacks, %.2f timer callbacks, %.2f epoll_ctl, "
        "%.2f header lines, %.0f body bytes\n",
        per(counters.socket_cb, at_start.socket_cb), per(counters.timer_cb, at_start.timer_cb),
        per(counters.epoll_ctl, at_start.epoll_ctl),
        per(counters.header_lines, at_start.header_lines), per(counters.bytes, at_start.bytes));
  }
  for (Caller& c : callers) {
    curl_multi_remove_handle(multi, c.easy);
    curl_easy_cleanup(c.easy);
    curl_slist_free_all(c.headers);
    if (c.url) curl_url_cleanup(c.url);
  }
  curl_multi_cleanup(multi);
  close(epfd);
  curl_global_cleanup();
  return reqs > 0 ? 0 : 1;
}
