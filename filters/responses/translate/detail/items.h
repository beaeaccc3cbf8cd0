// Internal: Responses input items ↔ chat completion messages, and the sealed thought signatures
// of reasoning items.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/responses/translate/responses_request.h"

namespace gemgate::responses::detail {

using openai::detail::Alloc;
using openai::detail::Document;
using openai::detail::Value;
using Failure = std::optional<OpenAIError>;

// The payload sealed into a reasoning item's encrypted_content: call_id → thought signature.
std::string signatures_payload(const std::map<std::string, std::string>& by_call_id);
// The map back from an opened payload; empty when it is not one.
std::map<std::string, std::string> read_signatures_payload(std::string_view payload);

// `input` (a string, or an array of items) → an array of items in `out`, each with a `type`
// and, where OpenAI gives one, an `id` ("<prefix>_<seed>_<k>" when the client sent none).
Failure normalize_input(const Value& input, std::string_view id_seed, Document& out);

// Appends the chat messages for arrays of items, turn by turn.
class ItemsToMessages {
 public:
  ItemsToMessages(const ReasoningSeal& seal, Alloc& a, Value& messages,
                  std::vector<std::string>& params)
      : seal_(seal), a_(a), messages_(messages), params_(params) {}

  // Converts `items`; `base` names them in errors ("input" → "input[3]").
  Failure add_items(const Value& items, std::string_view base);

 private:
  Failure add_message(const Value& item, const std::string& param);
  Failure add_function_call(const Value& item, const std::string& param);
  Failure add_function_output(const Value& item, const std::string& param);
  void collect_signatures(const Value& item);
  void push(Value message, const std::string& param);

  const ReasoningSeal& seal_;
  Alloc& a_;
  Value& messages_;
  std::vector<std::string>& params_;
  std::map<std::string, std::string> signatures_;  // call_id → thought signature
  bool open_assistant_ = false;  // the last message is an assistant turn calls may join
};

}  // namespace gemgate::responses::detail
