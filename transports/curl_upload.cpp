// MultiCore, part 4: a streamed request body (UpstreamRequest::body_stream). libcurl pulls the
// body through on_read_body; when the source has nothing buffered the callback pauses the upload
// (CURL_READFUNC_PAUSE) and the source's wake-up unpauses it through the attention queue
// (curl_easy_pause must not run inside libcurl's own callbacks; sync_pause applies it). While
// the upstream does not take bytes libcurl does not call us, so the source fills up and its
// producer (the client connection) stops reading: backpressure both ways.
#include <cstdio>
#include <string>

#include "transports/curl_multi_core.h"

namespace gemgate::transport::detail {

CURLcode MultiCore::configure_upload(Job* job, const UpstreamRequest& r) {
  http::BodySource& source = *r.body_stream;
  // A second attempt with the same body (a retry on another key) starts over, if it still can.
  if (source.consumed() > 0 && !source.rewind()) return CURLE_SEND_FAIL_REWIND;
  job->body_stream = r.body_stream;
  CURL* e = job->easy;
  CURLcode rc = curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, option, value);
  };
  set(CURLOPT_READFUNCTION, &MultiCore::on_read_body);
  set(CURLOPT_READDATA, static_cast<void*>(job));
  set(CURLOPT_SEEKFUNCTION, &MultiCore::on_seek_body);
  set(CURLOPT_SEEKDATA, static_cast<void*>(job));
  // -1: unknown, so libcurl frames it (chunked on HTTP/1.1).
  set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(source.length()));
  if (r.method != "PUT") set(CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (rc != CURLE_OK) return rc;
  source.set_wakeup([this, job] { on_body_wakeup(job); });
  return CURLE_OK;
}

void MultiCore::release_upload(Job* job) {
  if (job->body_stream) job->body_stream->set_wakeup(nullptr);
  job->body_stream.reset();
  job->send_paused = job->send_woken = job->upload_done = false;
  job->upload_done_ms = 0;
}

size_t MultiCore::on_read_body(char* dest, size_t size, size_t count, void* userp) noexcept {
  auto* job = static_cast<Job*>(userp);
  MultiCore* self = job->core;
  if (job->cancelled || !job->handler || self->close_requested_ || !job->body_stream) {
    return CURL_READFUNC_ABORT;
  }
  std::ptrdiff_t got = job->body_stream->read(dest, size * count);
  uint64_t now = uv_now(self->loop_);
  if (got > 0) {
    job->last_activity_ms = now;  // the upload moves: its idle deadline starts again
    return static_cast<size_t>(got);
  }
  if (got == 0) {
    job->upload_done = true;
    job->upload_done_ms = now;
    self->arm_deadline(job);  // the first-byte deadline starts now
    return 0;
  }
  if (got == http::BodySource::kWait) {
    job->send_paused = true;
    self->arm_deadline(job);  // waiting for the client is not the upstream's idleness
    return CURL_READFUNC_PAUSE;
  }
  job->local_failure =
      Failure{FailureKind::kReset,
              "the request body for upstream " + job->host + " broke off before its end",
              job->head_delivered};
  return CURL_READFUNC_ABORT;
}

int MultiCore::on_seek_body(void* userp, curl_off_t offset, int origin) noexcept {
  auto* job = static_cast<Job*>(userp);
  // libcurl only ever rewinds to the start (a reused connection that was dead, a redirect).
  if (!job->body_stream || origin != SEEK_SET || offset != 0) return CURL_SEEKFUNC_CANTSEEK;
  if (!job->body_stream->rewind()) return CURL_SEEKFUNC_CANTSEEK;
  job->upload_done = false;
  return CURL_SEEKFUNC_OK;
}

void MultiCore::on_body_wakeup(Job* job) {
  if (job->cancelled || !job->handler || !job->send_paused) return;
  job->send_woken = true;
  job->last_activity_ms = uv_now(loop_);
  arm_deadline(job);
  apply_pause_state(job);
}

}  // namespace gemgate::transport::detail
