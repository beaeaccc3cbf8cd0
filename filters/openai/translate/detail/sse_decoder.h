// Internal: an incremental Server-Sent-Events decoder (the subset Gemini uses: `data:` lines,
// events ended by a blank line). Lines may end in "\r\n", "\n" or "\r", and input may be split
// anywhere, one byte at a time included. `event:`, `id:`, `retry:` and comment lines are ignored.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace gemgate::openai::detail {

class SseDecoder {
 public:
  // Receives each event's data (several data lines joined by "\n"); returns false to stop.
  using OnEvent = std::function<bool(std::string_view data)>;
  enum class Status { kOk, kStopped, kTooLarge };

  explicit SseDecoder(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  // Decodes `bytes`, calling on_event for every completed event.
  Status feed(std::string_view bytes, const OnEvent& on_event);
  // End of input: an unterminated last line and event are delivered as if terminated.
  Status finish(const OnEvent& on_event);

 private:
  bool end_line(std::string_view line, const OnEvent& on_event);  // false: on_event said stop
  bool dispatch(const OnEvent& on_event);

  size_t max_event_bytes_;
  std::string line_;  // a line split across feeds, until its end arrives
  std::string data_;
  bool has_data_ = false;
  bool after_cr_ = false;  // the previous byte was '\r': a following '\n' belongs to it
};

}  // namespace gemgate::openai::detail
