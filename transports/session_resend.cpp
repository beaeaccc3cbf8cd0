// A transfer whose HTTP/2 session failed before any answer byte is sent once more, on a new
// connection, inside the transport; a session that went silent while a stream waited its whole
// first-byte deadline is ended, so that its other streams are sent again that way. See
// curl_multi_core.h and the README's "When a session fails". libcurl 7.88 already resends by
// itself for a stream above a GOAWAY's last-stream-id and for REFUSED_STREAM
// (Curl_retry_request); this covers the rest.
#include <algorithm>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>

#include "core/log.h"
#include "transports/curl_failure.h"
#include "transports/curl_multi_core.h"

namespace gemgate::transport::detail {

namespace {

// Whether `job` may be sent again at all: nothing of its answer reached the handler (a cut
// stream stays cut), its body is whole in memory (a streamed source keeps only what it can
// rewind), and it was not resent before.
bool may_resend(const Job* job) {
  return !job->resent && !job->head_delivered && !job->body_stream;
}

// How long the kernel has received no data on TCP socket `fd` (TCP_INFO's last_data_recv: any
// segment with payload, whether or not libcurl has read it yet), in ms; 0 when it cannot tell.
uint64_t ms_since_data_received(curl_socket_t fd) {
  tcp_info info{};
  socklen_t size = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return 0;
  return info.tcpi_last_data_recv;
}

bool goes_over_http2(const Job* job) {
  long version = 0;
  curl_easy_getinfo(job->easy, CURLINFO_HTTP_VERSION, &version);
  return ran_over_http2(version, job->url);
}

}  // namespace

bool MultiCore::resend_after_session_failure(Job* job, CURLcode result) {
  if (!may_resend(job) || closed()) return false;
  if (session_failure(result, job->errbuf, goes_over_http2(job)) == SessionFailure::kNone) {
    return false;
  }
  job->resent = true;
  job->head.reset(job->head.max_bytes());  // a status line may have come before the failure
  job->errbuf[0] = '\0';
  // On a new connection: a refused stream's session is still open, and a lost session is
  // still in libcurl's cache while its other streams have not all heard of the loss (found
  // by the suite: without this the resends joined the dying session and failed with it). The
  // price: each resend opens its own connection (bounded by the transfers in flight, once).
  // configure() sets FRESH_CONNECT again for every transfer, so nothing carries over.
  if (curl_easy_setopt(job->easy, CURLOPT_FRESH_CONNECT, 1L) != CURLE_OK) return false;
  if (curl_multi_add_handle(multi_, job->easy) != CURLM_OK) return false;
  job->state = Job::State::kRunning;
  job->sent_ms = uv_now(loop_);
  arm_deadline(job);
  ++counters_.resent;
  if (options_.session_counters) {
    options_.session_counters->resent.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

size_t MultiCore::end_silent_sessions(const Job* job) {
  if (closed() || job->state != Job::State::kRunning || !goes_over_http2(job)) return 0;
  // A session on which streams wait is not silent by nature: the server acknowledges SETTINGS
  // and PINGs, grants window, and answers the other streams. Half the first-byte deadline with
  // no byte at all while this stream waited the whole deadline is taken for a hung session (a
  // peer that stopped reading, a middlebox that dropped the flow). The cost when it was only
  // slow: the streams still waiting on it are sent again, and the upstream works on them twice.
  // The silence is the kernel's (bytes libcurl has not read yet count as heard), and only the
  // time the connection has been in use counts, not the time it idled in libcurl's cache.
  uint64_t now = uv_now(loop_);
  uint64_t quiet_ms = static_cast<uint64_t>(job->timeouts.first_byte_ms) / 2;
  size_t ended = 0;
  for (const auto& [fd, ctx] : polls_) {
    if (!ctx->wanted || ctx->ended || !ctx->https || ctx->host != job->host) continue;
    uint64_t silent_ms = std::min(now - ctx->wanted_since_ms, ms_since_data_received(fd));
    if (silent_ms < quiet_ms) continue;
    // Not close(): the socket stays libcurl's. Its next read sees the end, so every other
    // transfer on the connection fails as a lost session (resent once each, above) and
    // libcurl closes it.
    // `ended` keeps other deadlines of the same loop turn, due before libcurl has seen the
    // end, from ending, counting and logging it again.
    ::shutdown(fd, SHUT_RDWR);
    ctx->ended = true;
    ++ended;
  }
  if (ended == 0) return 0;
  if (options_.session_counters) {
    options_.session_counters->silent_sessions_ended.fetch_add(ended, std::memory_order_relaxed);
  }
  log::warn("transport: upstream " + job->host + " sent nothing on " + std::to_string(ended) +
            " connection(s) for " + std::to_string(quiet_ms) +
            " ms while a request waited its whole first-byte deadline: ended them; the "
            "requests still waiting there are sent again on new connections");
  return ended;
}

}  // namespace gemgate::transport::detail
