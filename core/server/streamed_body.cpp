#include "core/server/streamed_body.h"

#include <algorithm>
#include <cstring>

#include "core/worker.h"

namespace gemgate::server {

StreamedBody::StreamedBody(Worker& worker, int64_t length) : worker_(worker), length_(length) {}

bool StreamedBody::push(std::string_view bytes) {
  if (finished_ || failed_ || bytes.empty()) return above_high_watermark();
  compact();
  data_.append(bytes);
  wake_reader();
  if (above_high_watermark()) producer_paused_ = true;
  return producer_paused_;
}

void StreamedBody::finish() {
  if (finished_ || failed_) return;
  finished_ = true;
  wake_reader();
}

void StreamedBody::fail() {
  if (finished_ || failed_) return;
  failed_ = true;
  data_.clear();
  data_.shrink_to_fit();
  pos_ = 0;
  rewindable_ = false;
  wake_reader();
}

std::ptrdiff_t StreamedBody::read(char* dest, size_t size) {
  if (failed_) return kFailed;
  size_t n = std::min(size, buffered());
  if (n == 0) {
    if (finished_) return 0;
    reader_waits_ = true;
    return kWait;
  }
  std::memcpy(dest, data_.data() + pos_, n);
  pos_ += n;
  consumed_ += n;
  if (consumed_ > kReplayBytes) rewindable_ = false;
  if (producer_paused_ && buffered() < kLowWatermark) {
    producer_paused_ = false;
    if (on_drained_) on_drained_();
  }
  return static_cast<std::ptrdiff_t>(n);
}

void StreamedBody::set_wakeup(std::function<void()> wakeup) {
  wakeup_ = std::move(wakeup);
  reader_waits_ = false;
}

bool StreamedBody::rewind() {
  if (!rewindable_) return false;
  pos_ = 0;
  consumed_ = 0;
  return true;
}

void StreamedBody::compact() {
  // While a replay is possible every byte read is kept (at most kReplayBytes of them). After
  // that, bytes read go once they are the larger part of the buffer, so the copy of what is
  // left stays cheap (amortised constant per byte).
  if (rewindable_ || pos_ == 0) return;
  if (pos_ < data_.size() - pos_ && pos_ < kHighWatermark) return;
  data_.erase(0, pos_);
  pos_ = 0;
}

void StreamedBody::wake_reader() {
  if (!reader_waits_ || wake_queued_) return;
  wake_queued_ = true;
  worker_.next_tick([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->wake_queued_ = false;
    if (!self->reader_waits_ || !self->wakeup_) return;
    self->reader_waits_ = false;
    auto wakeup = self->wakeup_;  // the reader may replace or clear it from inside
    wakeup();
  });
}

}  // namespace gemgate::server
