// MultiCore, part 3: one transfer's life once started. The header and write callbacks (which
// call the consumer from inside libcurl), backpressure, our own deadlines (first byte, idle,
// total) and the single exit through deliver_done().
#include <algorithm>
#include <cassert>
#include <limits>
#include <string>
#include <string_view>

#include "transports/curl_failure.h"
#include "transports/curl_multi_core.h"

namespace gemgate::transport::detail {

// ---- callbacks from inside libcurl -----------------------------------------------------------

size_t MultiCore::on_header(char* data, size_t size, size_t count, void* userp) noexcept {
  auto* job = static_cast<Job*>(userp);
  size_t len = size * count;
  // Cancelled, or close() was asked for from a callback: returning 0 makes libcurl abort the
  // transfer now instead of handing out the rest of what it already read.
  if (job->cancelled || !job->handler || job->core->close_requested_) return 0;
  if (job->head_delivered) return len;  // trailers: not part of the head
  switch (job->head.feed(std::string_view(data, len))) {
    case ResponseHead::Step::kMore:
      return len;
    case ResponseHead::Step::kTooLarge:
      job->local_failure = Failure{FailureKind::kProtocol,
                                   "response head from upstream " + job->host + " exceeds " +
                                       std::to_string(job->head.max_bytes()) + " bytes",
                                   false};
      return 0;
    case ResponseHead::Step::kMalformed:
      job->local_failure = Failure{FailureKind::kProtocol,
                                   "malformed response head from upstream " + job->host, false};
      return 0;
    case ResponseHead::Step::kComplete:
      job->core->deliver_head(job);
      return job->cancelled ? 0 : len;
  }
  return 0;
}

size_t MultiCore::on_write(char* data, size_t size, size_t count, void* userp) noexcept {
  auto* job = static_cast<Job*>(userp);
  MultiCore* self = job->core;
  size_t len = size * count;
  if (job->cancelled || !job->handler || self->close_requested_) return 0;
  if (!job->head_delivered) {
    self->deliver_head(job);  // a head without its blank line: report what we have
    if (job->cancelled) return 0;
  }
  if (job->want_paused) {
    // Paused, and this chunk has not been shown to anyone: libcurl keeps it and hands it to
    // us again after curl_easy_pause(CONT).
    job->curl_paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  job->last_activity_ms = uv_now(self->loop_);
  job->handler->on_upstream_data(std::string_view(data, len));
  if (job->cancelled) return 0;
  // Paused from inside on_upstream_data: the chunk was consumed, so report it as taken (never
  // PAUSE, which would deliver it twice) and pause libcurl once it has returned.
  if (job->want_paused) self->queue(job);
  return len;
}

void MultiCore::deliver_head(Job* job) {
  job->head_delivered = true;
  job->last_activity_ms = uv_now(loop_);
  arm_deadline(job);  // the first-byte deadline is over, the idle one starts
  int status = job->head.status();
  if (status == 0) {
    long code = 0;
    curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &code);
    status = static_cast<int>(code);
  }
  http::HeaderMap headers = job->head.take_headers();
  strip_decoded_body_fields(headers);
  if (job->want_paused) queue(job);  // paused before the head: stop reading the body now
  release_sent_body(job);
  job->handler->on_upstream_head(status, std::move(headers));
}

void MultiCore::release_sent_body(Job* job) {
  if (!job->body) return;
  // Once every byte is counted as sent libcurl has copied all of POSTFIELDS out (into its
  // request buffer, or its upload buffer on the way to the socket or the HTTP/2 session), and
  // with an answer begun it never rewinds to send it again (no retry, resend or redirect
  // follows a head). A body still being sent (an early answer) stays until the transfer ends.
  curl_off_t sent = 0;
  if (curl_easy_getinfo(job->easy, CURLINFO_SIZE_UPLOAD_T, &sent) != CURLE_OK) return;
  if (sent >= 0 && static_cast<uint64_t>(sent) >= job->body->size()) job->body.reset();
}

// ---- consumer requests -----------------------------------------------------------------------

void MultiCore::cancel(Job* job) {
  if (job->cancelled) return;
  job->cancelled = true;
  job->handler = nullptr;
  job->owner_slot = nullptr;
  uv_timer_stop(&job->timer);
  ++counters_.cancelled;
  if (in_curl_ > 0) {
    queue(job);  // removal must wait until libcurl has returned
    return;
  }
  service(job);
}

void MultiCore::apply_pause_state(Job* job) {
  if (in_curl_ > 0) {
    queue(job);  // libcurl refuses curl_easy_pause inside its own callbacks: flush() applies it
    return;
  }
  sync_pause(job);
  flush();
}

void MultiCore::pause(Job* job) {
  if (job->cancelled || job->want_paused) return;
  job->want_paused = true;
  apply_pause_state(job);
}

void MultiCore::resume(Job* job) {
  if (job->cancelled || !job->want_paused) return;
  job->want_paused = false;
  job->last_activity_ms = uv_now(loop_);  // the idle clock restarts: the client was slow
  arm_deadline(job);
  apply_pause_state(job);
}

void MultiCore::end_total_deadline(Job* job) {
  if (job->cancelled || job->timeouts.total_ms == 0) return;
  job->timeouts.total_ms = 0;
  if (job->state != Job::State::kIdle) arm_deadline(job);  // a uv timer: fine inside callbacks
}

void MultiCore::sync_pause(Job* job) {
  assert(in_curl_ == 0);
  if (job->state != Job::State::kRunning) return;
  // Receiving: pausing only concerns the body; before the head libcurl must keep reading.
  bool recv_paused = job->head_delivered ? job->want_paused : job->curl_paused;
  // Sending (a streamed request body): libcurl paused it when on_read_body said so; the
  // source's wake-up lifts that.
  bool wake_send = job->send_paused && job->send_woken;
  job->send_woken = false;
  if (recv_paused == job->curl_paused && !wake_send) return;
  if (wake_send) {
    job->send_paused = false;
    // The upload moves again, so the upstream's idle deadline applies again (it rested while
    // the client was the slow one); unpausing below may pause and re-arm it once more.
    arm_deadline(job);
  }
  job->curl_paused = recv_paused;
  // curl_easy_pause sets both directions at once, so the mask names both.
  int mask = (recv_paused ? CURLPAUSE_RECV : 0) | (job->send_paused ? CURLPAUSE_SEND : 0);
  ++in_curl_;  // unpausing hands buffered data to on_write (or asks on_read_body for more)
  CURLcode rc = curl_easy_pause(job->easy, mask);
  --in_curl_;
  // BAD_FUNCTION_ARGUMENT: the easy handle has no connection any more, i.e. libcurl already
  // finished this transfer and its DONE message waits in the queue (flush reads it next). The
  // pause request is moot then; failing the transfer would throw away a complete response.
  if (rc == CURLE_BAD_FUNCTION_ARGUMENT) rc = CURLE_OK;
  if (rc != CURLE_OK && !job->cancelled && job->state == Job::State::kRunning) {
    remove_from_multi(job);
    fail(job, Failure{FailureKind::kInternal,
                      std::string("curl_easy_pause failed: ") + curl_easy_strerror(rc),
                      job->head_delivered});
  }
}

// ---- the multi handle ------------------------------------------------------------------------

void MultiCore::add_to_multi(Job* job) {
  CURLMcode rc = curl_multi_add_handle(multi_, job->easy);
  if (rc != CURLM_OK) {
    job->state = Job::State::kIdle;
    fail(job,
         Failure{FailureKind::kInternal,
                 std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(rc), false});
    return;
  }
  job->state = Job::State::kRunning;
  ++counters_.started;
}

void MultiCore::remove_from_multi(Job* job) {
  assert(in_curl_ == 0 && job->state == Job::State::kRunning);
  curl_multi_remove_handle(multi_, job->easy);  // closes the connection if the response was cut
  job->state = Job::State::kIdle;
}

void MultiCore::complete(Job* job, CURLcode result) {
  remove_from_multi(job);
  if (job->cancelled) {
    recycle(job);
    return;
  }
  if (job->local_failure) {
    fail(job, *job->local_failure);
    return;
  }
  if (result == CURLE_OK) {
    if (!job->head_delivered) {
      fail(job,
           Failure{FailureKind::kProtocol,
                   "upstream " + job->host + " ended the exchange without a response head", false});
      return;
    }
    deliver_done(job, nullptr);
    return;
  }
  if (resend_after_session_failure(job, result)) return;
  long connect_code = 0;
  curl_easy_getinfo(job->easy, CURLINFO_HTTP_CONNECTCODE, &connect_code);
  CurlFailureInput in;
  in.code = result;
  in.head_delivered = job->head_delivered;
  in.host = job->host;
  in.url = job->url;
  in.curl_detail = job->errbuf;
  in.proxy_connect_code = connect_code;
  in.connect_timeout_ms = job->timeouts.connect_ms > 0 ? job->timeouts.connect_ms : 300'000;
  Failure failure = map_curl_failure(in);
  deliver_done(job, &failure);
}

void MultiCore::fail(Job* job, Failure failure) {
  if (job->state == Job::State::kRunning) remove_from_multi(job);
  if (job->state == Job::State::kPendingAdd) job->state = Job::State::kIdle;
  failure.response_started = job->head_delivered;
  deliver_done(job, &failure);
}

void MultiCore::deliver_done(Job* job, const Failure* failure) {
  assert(job->state == Job::State::kIdle);
  UpstreamHandler* handler = job->handler;
  if (job->owner_slot) *job->owner_slot = nullptr;  // the Transfer no longer refers to us
  if (failure) {
    ++counters_.failed;
  } else {
    ++counters_.succeeded;
  }
  recycle(job);  // before the call: the handler may start a transfer that reuses this Job
  if (handler) handler->on_upstream_done(failure);
}

// ---- deadlines -------------------------------------------------------------------------------

namespace {

// The first-byte deadline counts from the start (or the resend), or for a streamed body from
// its last byte.
uint64_t first_byte_base(const Job* job) {
  return job->body_stream ? job->upload_done_ms : job->sent_ms;
}

}  // namespace

// One timer per job, armed for the earliest live deadline. Body chunks only move the idle
// deadline later, so they just record the time; when the timer fires early it re-arms.
void MultiCore::arm_deadline(Job* job) {
  const Timeouts& t = job->timeouts;
  uint64_t next = std::numeric_limits<uint64_t>::max();
  if (t.total_ms > 0) next = std::min(next, job->start_ms + t.total_ms);
  bool uploading = job->body_stream && !job->upload_done && !job->head_delivered;
  if (!job->head_delivered && !uploading && t.first_byte_ms > 0)
    next = std::min(next, first_byte_base(job) + t.first_byte_ms);
  if (uploading && !job->send_paused && t.idle_ms > 0)
    next = std::min(next, job->last_activity_ms + t.idle_ms);
  if (job->head_delivered && !job->want_paused && t.idle_ms > 0)
    next = std::min(next, job->last_activity_ms + t.idle_ms);
  if (next == std::numeric_limits<uint64_t>::max()) {
    uv_timer_stop(&job->timer);
    return;
  }
  uint64_t now = uv_now(loop_);
  uv_timer_start(&job->timer, &MultiCore::on_deadline, next > now ? next - now : 0, 0);
}

void MultiCore::on_deadline(uv_timer_t* timer) noexcept {
  auto* job = static_cast<Job*>(timer->data);
  MultiCore* self = job->core;
  if (job->cancelled || job->state == Job::State::kIdle) return;
  const Timeouts& t = job->timeouts;
  uint64_t now = uv_now(self->loop_);
  std::string why;
  if (t.total_ms > 0 && now >= job->start_ms + t.total_ms) {
    why = "upstream " + job->host + " exceeded the total deadline of " +
          std::to_string(t.total_ms) + " ms";
  } else if (job->body_stream && !job->upload_done && !job->head_delivered) {
    if (!job->send_paused && t.idle_ms > 0 && now >= job->last_activity_ms + t.idle_ms) {
      why = "upstream " + job->host + " took no request body bytes for " +
            std::to_string(t.idle_ms) + " ms (idle deadline)";
    }
  } else if (!job->head_delivered && t.first_byte_ms > 0 &&
             now >= first_byte_base(job) + t.first_byte_ms) {
    size_t ended = self->end_silent_sessions(job);
    why = "no response head from upstream " + job->host + " within the first-byte deadline of " +
          std::to_string(t.first_byte_ms) + " ms";
    if (ended > 0) why += " (silent HTTP/2 connections to it were ended)";
  } else if (job->head_delivered && !job->want_paused && t.idle_ms > 0 &&
             now >= job->last_activity_ms + t.idle_ms) {
    why = "upstream " + job->host + " sent nothing for " + std::to_string(t.idle_ms) +
          " ms (idle deadline)";
  }
  if (why.empty()) {
    self->arm_deadline(job);
    return;
  }
  self->fail(job, Failure{FailureKind::kTimeout, std::move(why), job->head_delivered});
  self->flush();
}

}  // namespace gemgate::transport::detail
