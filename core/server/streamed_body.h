// StreamedBody: the connection's side of a streamed request body (http::BodySource). The
// connection pushes the body bytes as the parser hands them over and stops reading the socket
// while more than kHighWatermark bytes wait for the reader; the reader (the upstream transfer)
// pulls them, and once fewer than kLowWatermark wait the connection is told to read again. So one
// streamed upload holds at most about kHighWatermark + one socket read, whatever its size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/http/body_source.h"

namespace gemgate {
class Worker;
}

namespace gemgate::server {

class StreamedBody final : public http::BodySource,
                           public std::enable_shared_from_this<StreamedBody> {
 public:
  static constexpr size_t kHighWatermark = 1024 * 1024;  // stop reading the client above this
  static constexpr size_t kLowWatermark = 256 * 1024;    // read it again below this
  // The prefix kept for a replay (BodySource::can_rewind): a small body, or the metadata part of
  // an upload start, can be sent again on another key; a bigger one cannot.
  static constexpr size_t kReplayBytes = 64 * 1024;

  // `length` is the Content-Length, or -1 for a chunked body. Wake-ups run through
  // `worker`.next_tick, so the reader never runs inside push(), finish() or fail().
  StreamedBody(Worker& worker, int64_t length);

  // ---- the connection's side ----
  // Appends body bytes. Returns true when the connection should stop reading (above the high
  // watermark).
  bool push(std::string_view bytes);
  // The whole body arrived.
  void finish();
  // The body will never be complete (client gone, refused): the reader hears kFailed.
  void fail();
  // Called (from inside read(), so it must only set flags or restart reading) when the
  // buffered bytes fell under the low watermark after push() had asked to stop. nullptr removes
  // it (the connection is done with this body).
  void set_on_drained(std::function<void()> fn) { on_drained_ = std::move(fn); }
  // Bytes waiting for the reader.
  size_t buffered() const { return data_.size() - pos_; }
  bool above_high_watermark() const { return buffered() >= kHighWatermark; }
  bool finished() const { return finished_; }

  // ---- http::BodySource (the reader's side; contract there) ----
  int64_t length() const override { return length_; }
  std::ptrdiff_t read(char* dest, size_t size) override;
  void set_wakeup(std::function<void()> wakeup) override;
  uint64_t consumed() const override { return consumed_; }
  bool can_rewind() const override { return rewindable_; }
  bool rewind() override;

 private:
  // Queues one wake-up on a later loop turn when the reader waits.
  void wake_reader();
  // Drops bytes already read once they are no longer needed for a replay.
  void compact();

  Worker& worker_;
  int64_t length_;
  std::string data_;  // [0, pos_) read (kept while rewindable_), [pos_, end) waiting
  size_t pos_ = 0;
  uint64_t consumed_ = 0;
  bool rewindable_ = true;
  bool finished_ = false;
  bool failed_ = false;
  bool reader_waits_ = false;     // read() said kWait and no wake-up ran since
  bool wake_queued_ = false;      // a wake-up tick is pending
  bool producer_paused_ = false;  // push() asked the connection to stop reading
  std::function<void()> wakeup_;
  std::function<void()> on_drained_;
};

}  // namespace gemgate::server
