// A transfer whose HTTP/2 session (or HTTP/1.1 connection) failed before any answer byte is
// sent once more, on a new connection, inside the transport: see curl_multi_core.h and the
// README's "When a session fails". libcurl 7.88 already does this itself for a stream above a
// GOAWAY's last-stream-id and for REFUSED_STREAM (Curl_retry_request); this covers the rest.
#include "transports/curl_failure.h"
#include "transports/curl_multi_core.h"

namespace gemgate::transport::detail {

bool MultiCore::resend_after_session_failure(Job* job, CURLcode result) {
  // Once the head went to the handler the answer has started: a cut stream stays cut. A
  // streamed body may no longer be whole (its source keeps only what it can rewind).
  if (job->resent || job->head_delivered || job->body_stream || closed()) return false;
  long version = 0;
  curl_easy_getinfo(job->easy, CURLINFO_HTTP_VERSION, &version);
  if (session_failure(result, job->errbuf, ran_over_http2(version, job->url)) ==
      SessionFailure::kNone) {
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
  ++counters_.resent;
  return true;
}

}  // namespace gemgate::transport::detail
