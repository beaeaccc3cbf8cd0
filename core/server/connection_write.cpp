// Connection, part 2: writing. Every answer's bytes go out through write(), which gathers them
// (up to kOutputParts buffers; small parts copied behind the previous one where it has room)
// and flush_output(), which hands them to the socket. A whole answer is flushed at once: its head
// and body leave in one system call. A streamed answer's head and chunks wait for the end of the
// loop turn (Worker::at_batch_end), so what one upstream read delivered (head, events, the last
// chunk) leaves in one system call too, and the end of the stream flushes at once: no latency is
// added beyond the callbacks of the same turn. flush_output() first tries the socket directly
// (uv_try_write): when the kernel takes everything, which is the rule on a healthy connection,
// no write request, completion callback or stall timer is involved and the buffers go straight
// back to the pool. Only what the kernel did not take is queued with uv_write, under the
// write-progress timer and the watermarks that pause and resume the upstream. The write
// requests and the chunk buffers are recycled (per worker thread), so a forwarded stream chunk
// costs no allocation once warm.
#include <algorithm>
#include <vector>

#ifdef __linux__
#include <linux/sockios.h>
#include <sys/ioctl.h>
#endif

#include "core/http/buffer_pool.h"
#include "core/log.h"
#include "core/server/connection.h"
#include "core/server/server.h"

namespace gemgate::server {

namespace {

// A part at most this large may be copied behind the previous one; a larger one is written
// from its own memory. A part grows to kMaxGathered at most that way.
constexpr size_t kCopyBytes = 4 * 1024;
constexpr size_t kMaxGathered = 64 * 1024;

struct WriteReq {
  uv_write_t req{};
  Connection* connection = nullptr;
  std::string parts[Connection::kOutputParts];
  size_t bytes = 0;  // what this request writes (the parts, less what went out directly)
};

constexpr size_t kMaxSpareWrites = 256;

std::vector<WriteReq*>& spare_writes() {
  thread_local struct Spares {
    std::vector<WriteReq*> list;
    ~Spares() {
      for (WriteReq* w : list) delete w;
    }
  } spares;
  return spares.list;
}

WriteReq* new_write() {
  std::vector<WriteReq*>& spares = spare_writes();
  if (spares.empty()) return new WriteReq;
  WriteReq* w = spares.back();
  spares.pop_back();
  return w;
}

void give_back(std::string& part) {
  http::give_back_buffer(std::move(part));
  part = std::string();
}

// The parts' memory goes back to the buffer pool (where the next chunk is copied into), the
// request to the spares.
void recycle(WriteReq* w) {
  for (std::string& part : w->parts) give_back(part);
  w->connection = nullptr;
  w->bytes = 0;
  std::vector<WriteReq*>& spares = spare_writes();
  if (spares.size() >= kMaxSpareWrites) {
    delete w;
    return;
  }
  spares.push_back(w);
}

}  // namespace

// ---- writing ----

void Connection::write(WireBytes bytes, bool now) {
  if (ending_ == Ending::kClosed) return;
  gather(std::move(bytes.head));
  gather(std::move(bytes.body));
  gather(std::move(bytes.tail));
  if (out_count_ == 0) return;
  if (now) {
    flush_output();
  } else {
    server_.worker().at_batch_end(*this);
  }
}

void Connection::gather(std::string&& part) {
  if (part.empty()) return;
  if (part.size() <= kCopyBytes && out_count_ > 0) {
    // A small part joins the last one when that costs no reallocation, or when every part is
    // taken (a reallocation then, bounded by kMaxGathered, instead of a system call).
    std::string& last = out_[out_count_ - 1];
    size_t joined = last.size() + part.size();
    if ((joined <= last.capacity() || out_count_ == kOutputParts) && joined <= kMaxGathered) {
      last.append(part);
      http::give_back_buffer(std::move(part));
      return;
    }
  }
  if (out_count_ == kOutputParts) flush_output();
  out_[out_count_++] = std::move(part);
}

void Connection::drop_output() {
  for (size_t i = 0; i < out_count_; ++i) give_back(out_[i]);
  out_count_ = 0;
  server_.worker().cancel_batch_end(*this);
}

void Connection::flush_output() {
  server_.worker().cancel_batch_end(*this);
  if (out_count_ == 0 || ending_ == Ending::kClosed) {
    drop_output();
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  uv_buf_t bufs[kOutputParts];
  size_t total = 0;
  for (size_t i = 0; i < out_count_; ++i) {
    bufs[i] = uv_buf_init(out_[i].data(), static_cast<unsigned>(out_[i].size()));
    total += out_[i].size();
  }
  size_t sent = 0;
  if (writes_pending_ == 0) {
    // Nothing queued before these bytes, so they may go out directly and in order.
    int rc = uv_try_write(stream, bufs, static_cast<unsigned>(out_count_));
    if (rc < 0 && rc != UV_EAGAIN) {
      drop_output();
      close_now();
      return;
    }
    if (rc > 0) sent = static_cast<size_t>(rc);
    bytes_written_ += sent;
    if (sent == total) {
      drop_output();
      return;
    }
  }
  // The rest waits in a write request: its bufs start where the kernel stopped taking.
  WriteReq* w = new_write();
  w->connection = this;
  w->bytes = total - sent;
  unsigned n = 0;
  for (size_t i = 0; i < out_count_; ++i) {
    w->parts[i] = std::move(out_[i]);
    size_t size = w->parts[i].size();
    if (sent >= size) {
      sent -= size;
      continue;
    }
    bufs[n++] = uv_buf_init(w->parts[i].data() + sent, static_cast<unsigned>(size - sent));
    sent = 0;
  }
  out_count_ = 0;
  w->req.data = w;
  int rc = uv_write(&w->req, stream, bufs, n, &Connection::on_write);
  if (rc < 0) {
    recycle(w);
    close_now();
    return;
  }
  ++writes_pending_;
  bytes_pending_ += w->bytes;
  const ServerLimits& limits = *limits_;
  if (!timers_.pending(kWriteTimer)) arm_write_timer();
  if (!blocked_ && uv_stream_get_write_queue_size(stream) > limits.write_high_watermark) {
    blocked_ = true;
    if (exchange_) exchange_->set_downstream_blocked(true);
  }
}

void Connection::on_batch_end() {
  flush_output();
  // A stream whose exchange already ended (without a last chunk) closes once its output is out.
  if (ending_ != Ending::kOpen && ending_ != Ending::kClosed && !exchange_ && output_idle()) {
    close_gracefully();
  }
}

void Connection::arm_write_timer() {
  // Closes the connection when nothing of the output reached the client for write_timeout while
  // writes are queued. Progress is measured at the client's end, not at the kernel's: Linux lets
  // a writer fill a send buffer of megabytes (autotuned) and reports the socket writable again
  // only when a third of it is free, so a steady reader can take bytes for seconds while the
  // kernel takes none of ours. Counting only what the kernel accepted (finished writes, a
  // shrinking queue) would close that reader as stalled; and a client that stopped reading
  // would be seen late, when the kernel's wake-up finally came. The total time a big answer
  // takes, or a queue that keeps refilling, is not a stall either. The timer looks four times
  // per write_timeout, so a stall is found between write_timeout and 1.25 x write_timeout after
  // the client's last progress.
  delivered_mark_ = bytes_delivered();
  progress_at_ms_ = uv_now(tcp_.loop);
  timers_.set(kWriteTimer, write_check_step());
}

void Connection::on_write_check() {
  if (writes_pending_ == 0) return;  // on_write clears it first; nothing to watch anyway
  uint64_t now = uv_now(tcp_.loop);
  uint64_t delivered = bytes_delivered();
  if (delivered > delivered_mark_) {
    delivered_mark_ = delivered;
    progress_at_ms_ = now;
  } else if (now - progress_at_ms_ >= limits_->write_timeout_ms) {
    log::debug("connection " + std::to_string(id_) + ": write stalled, closing");
    close_now();
    return;
  }
  timers_.set(kWriteTimer, write_check_step());
}

uint64_t Connection::write_check_step() const {
  return std::max<uint64_t>(limits_->write_timeout_ms / 4, 1);
}

uint64_t Connection::bytes_delivered() {
  size_t queued = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_));
  uint64_t handed = bytes_written_ + bytes_pending_ - queued;  // what the kernel took
#ifdef __linux__
  uv_os_fd_t fd;
  int unacked = 0;  // taken by the kernel, not yet acknowledged by the client (unsent included)
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0 &&
      ioctl(fd, SIOCOUTQ, &unacked) == 0 && unacked > 0 &&
      static_cast<uint64_t>(unacked) <= handed) {
    handed -= static_cast<uint64_t>(unacked);
  }
#endif
  return handed;
}

void Connection::on_write(uv_write_t* req, int status) noexcept {
  auto* w = static_cast<WriteReq*>(req->data);
  Connection* self = w->connection;
  self->bytes_written_ += w->bytes;
  self->bytes_pending_ -= w->bytes;
  recycle(w);
  --self->writes_pending_;
  if (self->ending_ == Ending::kClosed) return;
  if (status < 0) {
    self->close_now();
    return;
  }
  const ServerLimits& limits = *self->limits_;
  if (self->writes_pending_ == 0) self->timers_.clear(kWriteTimer);
  if (self->blocked_ && uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(
                            &self->tcp_)) < limits.write_low_watermark) {
    self->blocked_ = false;
    if (self->exchange_) {
      self->exchange_->set_downstream_blocked(false);
    } else if (self->ending_ == Ending::kOpen) {
      self->schedule_processing();  // pipelined requests waited for the backlog to drain
    }
  }
  if (self->output_idle() && self->ending_ != Ending::kOpen && !self->exchange_) {
    self->close_gracefully();
  }
}

}  // namespace gemgate::server
