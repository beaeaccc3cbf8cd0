// UsageScanner: finds Gemini's `usageMetadata` objects in a response body that arrives in
// pieces (JSON, a JSON array stream or SSE), without parsing the whole body. Gemini reports
// cumulative usage, so the last object seen is the answer.
#pragma once

#include <string>
#include <string_view>

#include "core/stream_info.h"

namespace gemgate::upstream {

class UsageScanner {
 public:
  // Scans the next piece of the body. Pieces may split anywhere.
  void feed(std::string_view data);
  // The latest usage seen (usage().known is false until one was found).
  const TokenUsage& usage() const { return usage_; }

 private:
  // Scans `text` (window_, or a piece while window_ is empty) for usage objects and returns
  // where the part to carry into the next piece starts (text.size(): nothing).
  size_t scan(std::string_view text);

  std::string window_;  // unscanned tail carried between pieces
  TokenUsage usage_;
};

}  // namespace gemgate::upstream
