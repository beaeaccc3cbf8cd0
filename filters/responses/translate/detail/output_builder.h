// Internal: builds a Responses output from Gemini answers, one GenerateContentResponse at a
// time, and (when given an event buffer) writes the stream events as it goes. The non-stream
// translator feeds it the whole answer once; the stream translator feeds it every SSE event.
#pragma once

#include <map>
#include <string>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/responses/translate/responses_response.h"

namespace gemgate::responses::detail {

using openai::detail::Alloc;
using openai::detail::Document;
using openai::detail::Value;

class OutputBuilder {
 public:
  // `events` receives the SSE events; nullptr for a non-stream answer.
  OutputBuilder(const ResponsesContext& ctx, const ResponseMeta& meta, const ReasoningSeal& seal,
                std::string* events);

  // Emits response.created and response.in_progress.
  void start();
  // One Gemini answer (a parsed GenerateContentResponse object).
  void add_answer(const Value& answer);
  // Closes what is open and emits completed / incomplete; returns the final response.
  FinishedResponse finish();
  // Emits response.failed with `error`.
  void fail(const OpenAIError& error);

 private:
  enum class Open { kNone, kReasoning, kMessage };

  void add_text(std::string_view text);
  void add_thought(std::string_view text);
  void add_call(const Value& call, std::string_view signature);
  void add_custom_call(const std::string& call_id, std::string_view name, const Value* args);
  void close_open(std::string_view signature_call_id = {}, std::string_view signature = {});
  void emit_added(const Value& item);
  void emit_done(Value item);  // appends it to the output
  void emit(std::string_view type, Value payload);
  Value response_object(std::string_view status, const Value* incomplete, const Value* error);
  Value visible(const Value& item);  // without encrypted_content unless included
  Value annotations();
  std::string seal_signatures(std::string_view call_id, std::string_view signature);
  std::string next_id(std::string_view prefix);

  const ResponsesContext& ctx_;
  const ResponseMeta& meta_;
  const ReasoningSeal& seal_;
  std::string* events_;
  Document doc_;
  Value output_;  // finished items, as the conversation keeps them
  Open open_ = Open::kNone;
  std::string open_id_;
  std::string open_text_;
  int64_t sequence_ = 0;
  size_t ids_ = 0;
  size_t calls_ = 0;
  bool cut_short_ = false;  // the answer stopped early: the last message is incomplete
  std::string finish_reason_;
  std::string block_reason_;
  Value usage_metadata_;
  Value grounding_;  // the last groundingMetadata seen
};

}  // namespace gemgate::responses::detail
