#include "filters/openai/translate/detail/sse_decoder.h"

#include <cstring>

namespace gemgate::openai::detail {

namespace {

// The first '\r' or '\n' of `bytes` at or after `from`, or npos. (string_view::find_first_of
// calls memchr once per byte; this scans with memchr twice per line.)
size_t find_eol(std::string_view bytes, size_t from) {
  const char* begin = bytes.data() + from;
  size_t n = bytes.size() - from;
  const void* lf = std::memchr(begin, '\n', n);
  size_t until_lf = lf ? static_cast<const char*>(lf) - begin : n;
  const void* cr = std::memchr(begin, '\r', until_lf);
  if (cr) return from + (static_cast<const char*>(cr) - begin);
  return lf ? from + until_lf : std::string_view::npos;
}

// Past an event this size the data buffer is released after dispatch, not kept for the next one.
constexpr size_t kKeptEventBytes = 64u << 10;

}  // namespace

SseDecoder::Status SseDecoder::feed(std::string_view bytes, const OnEvent& on_event) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes[i] == '\n') {
        ++i;
        continue;
      }
    }
    size_t eol = find_eol(bytes, i);
    size_t end = eol == std::string_view::npos ? bytes.size() : eol;
    std::string_view piece = bytes.substr(i, end - i);
    if (eol == std::string_view::npos || !line_.empty()) {
      line_.append(piece);
      piece = line_;
    }
    if (piece.size() + data_.size() > max_event_bytes_) return Status::kTooLarge;
    if (eol == std::string_view::npos) break;
    after_cr_ = bytes[eol] == '\r';
    i = eol + 1;
    // A whole line inside `bytes` is read where it is; only a line split across feeds is copied.
    bool go_on = end_line(piece, on_event);
    line_.clear();
    if (!go_on) return Status::kStopped;
  }
  return Status::kOk;
}

SseDecoder::Status SseDecoder::finish(const OnEvent& on_event) {
  if (!line_.empty()) {
    bool go_on = end_line(line_, on_event);
    line_.clear();
    if (!go_on) return Status::kStopped;
  }
  if (has_data_ && !dispatch(on_event)) return Status::kStopped;
  return Status::kOk;
}

bool SseDecoder::end_line(std::string_view line, const OnEvent& on_event) {
  if (line.empty()) return dispatch(on_event);
  if (line[0] == ':') return true;  // comment
  std::string_view name = line, value;
  if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (name == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  }
  return true;
}

bool SseDecoder::dispatch(const OnEvent& on_event) {
  if (!has_data_) return true;
  has_data_ = false;
  bool go_on = on_event(data_);
  // The buffer is kept for the next event (no allocation per event) unless this one was huge.
  if (data_.capacity() > kKeptEventBytes) {
    std::string().swap(data_);
  } else {
    data_.clear();
  }
  return go_on;
}

}  // namespace gemgate::openai::detail
