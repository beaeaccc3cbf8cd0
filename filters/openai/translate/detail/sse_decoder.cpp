#include "filters/openai/translate/detail/sse_decoder.h"

namespace gemgate::openai::detail {

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
    size_t eol = bytes.find_first_of("\r\n", i);
    size_t end = eol == std::string_view::npos ? bytes.size() : eol;
    line_.append(bytes.substr(i, end - i));
    if (line_.size() + data_.size() > max_event_bytes_) return Status::kTooLarge;
    if (eol == std::string_view::npos) break;
    after_cr_ = bytes[eol] == '\r';
    i = eol + 1;
    if (!end_line(on_event)) return Status::kStopped;
  }
  return Status::kOk;
}

SseDecoder::Status SseDecoder::finish(const OnEvent& on_event) {
  if (!line_.empty() && !end_line(on_event)) return Status::kStopped;
  if (has_data_ && !dispatch(on_event)) return Status::kStopped;
  return Status::kOk;
}

bool SseDecoder::end_line(const OnEvent& on_event) {
  std::string line;
  line.swap(line_);
  if (line.empty()) return dispatch(on_event);
  if (line[0] == ':') return true;  // comment
  std::string_view name = line, value;
  if (size_t colon = line.find(':'); colon != std::string::npos) {
    name = std::string_view(line).substr(0, colon);
    value = std::string_view(line).substr(colon + 1);
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
  std::string data;
  data.swap(data_);
  has_data_ = false;
  return on_event(data);
}

}  // namespace gemgate::openai::detail
