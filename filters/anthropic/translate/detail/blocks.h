// Internal: Gemini candidate parts → Anthropic content blocks, shared by the whole-response and
// the stream translators so both give the same blocks for the same parts. Not public API.
//
// Rules (see ../messages_request.h for the way back): consecutive text parts form one text
// block, consecutive thought parts one thinking block (its `signature` is the thought part's
// thoughtSignature, "" when Gemini gave none); a functionCall is one tool_use block whose id
// carries the call's thoughtSignature; a thoughtSignature on a text part becomes a thinking block
// with empty text and that signature, placed just before the text it belongs to. Inline data,
// executable code and other parts have no Anthropic block and are skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::anthropic::detail {

class BlockAssembler {
 public:
  // `message_id` seeds generated tool_use ids; with `emit_events` every change is also written
  // as Anthropic SSE events (content_block_start / _delta / _stop) to the string of events().
  BlockAssembler(std::string message_id, bool emit_events);

  // One Gemini part (an element of candidate.content.parts).
  void part(const openai::detail::Value& part);
  // Ends the open block, if any (content_block_stop).
  void close();

  std::string& events() { return events_; }
  bool has_tool_use() const { return has_tool_use_; }
  // The finished blocks as the `content` array of a message (call close() first).
  openai::detail::Value content(openai::detail::Alloc& a) const;

 private:
  enum class Kind { kNone, kText, kThinking, kToolUse };
  struct Block {
    Kind kind = Kind::kNone;
    std::string text;                  // text / thinking
    std::string signature;             // thinking
    std::string id, name, input_json;  // tool_use
  };
  static Block block_of(Kind kind) {
    Block b;
    b.kind = kind;
    return b;
  }

  void open(Block b);
  void append_text(Kind kind, std::string_view text);
  void add_signature(std::string_view signature);
  void event(std::string_view type, const std::string& json);

  std::string message_id_;
  bool emit_;
  std::vector<Block> blocks_;
  bool open_ = false;
  size_t tool_uses_ = 0;
  bool has_tool_use_ = false;
  std::string events_;
};

// "event: <type>\ndata: <json>\n\n"
std::string sse_event(std::string_view type, std::string_view json);

}  // namespace gemgate::anthropic::detail
