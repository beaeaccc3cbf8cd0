// Connection, part 2: writing. Every answer's bytes go out through write(): one uv_write of up
// to three parts (head, body, tail; see WireBytes), a write-progress timer, and the watermarks
// that pause and resume the upstream. The write requests and the chunk buffers are recycled
// (per worker thread), so a forwarded stream chunk costs no allocation once warm.
#include <vector>

#include "core/http/buffer_pool.h"
#include "core/log.h"
#include "core/server/connection.h"

namespace gemgate::server {

namespace {

struct WriteReq {
  uv_write_t req{};
  Connection* connection = nullptr;
  std::string parts[3];
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

// The parts' memory goes back to the buffer pool (where the next chunk is copied into), the
// request to the spares.
void recycle(WriteReq* w) {
  for (std::string& part : w->parts) {
    http::give_back_buffer(std::move(part));
    part = std::string();
  }
  w->connection = nullptr;
  std::vector<WriteReq*>& spares = spare_writes();
  if (spares.size() >= kMaxSpareWrites) {
    delete w;
    return;
  }
  spares.push_back(w);
}

}  // namespace

// ---- writing ----

void Connection::write(WireBytes bytes) {
  if (ending_ == Ending::kClosed || bytes.empty()) return;
  WriteReq* w = new_write();
  w->connection = this;
  w->parts[0] = std::move(bytes.head);
  w->parts[1] = std::move(bytes.body);
  w->parts[2] = std::move(bytes.tail);
  uv_buf_t bufs[3];
  unsigned n = 0;
  for (std::string& part : w->parts) {
    if (!part.empty()) bufs[n++] = uv_buf_init(part.data(), static_cast<unsigned>(part.size()));
  }
  w->req.data = w;
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), bufs, n, &Connection::on_write);
  if (rc < 0) {
    recycle(w);
    close_now();
    return;
  }
  ++writes_pending_;
  const ServerLimits& limits = *limits_;
  if (!write_timer_.active()) arm_write_timer();
  if (!blocked_ && uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_)) >
                       limits.write_high_watermark) {
    blocked_ = true;
    if (exchange_) exchange_->set_downstream_blocked(true);
  }
}

void Connection::arm_write_timer() {
  // Fires when nothing of the queued output went out for write_timeout. Progress is either a
  // whole write finished (bytes_written_ grew) or a large write partly sent (the queue shrank):
  // the total time a big answer takes, or a queue that keeps refilling, is not a stall.
  write_queue_mark_ = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_));
  written_mark_ = bytes_written_;
  write_timer_.start(limits_->write_timeout_ms, [this] {
    size_t queued = uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_));
    bool progress = bytes_written_ > written_mark_ || queued < write_queue_mark_;
    if (writes_pending_ > 0 && !progress) {
      log::debug("connection " + std::to_string(id_) + ": write stalled, closing");
      close_now();
      return;
    }
    if (writes_pending_ > 0) arm_write_timer();
  });
}

void Connection::on_write(uv_write_t* req, int status) noexcept {
  auto* w = static_cast<WriteReq*>(req->data);
  Connection* self = w->connection;
  for (const std::string& part : w->parts) self->bytes_written_ += part.size();
  recycle(w);
  --self->writes_pending_;
  if (self->ending_ == Ending::kClosed) return;
  if (status < 0) {
    self->close_now();
    return;
  }
  const ServerLimits& limits = *self->limits_;
  if (self->writes_pending_ == 0) self->write_timer_.stop();
  if (self->blocked_ && uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(
                            &self->tcp_)) < limits.write_low_watermark) {
    self->blocked_ = false;
    if (self->exchange_) {
      self->exchange_->set_downstream_blocked(false);
    } else if (self->ending_ == Ending::kOpen) {
      self->schedule_processing();  // pipelined requests waited for the backlog to drain
    }
  }
  if (self->writes_pending_ == 0 && self->ending_ != Ending::kOpen && !self->exchange_) {
    self->close_gracefully();
  }
}

}  // namespace gemgate::server
