// The stored conversation record. See stored_conversation.h.
#include "filters/responses/translate/stored_conversation.h"

#include "filters/openai/translate/detail/json_util.h"

namespace gemgate::responses {

using namespace openai::detail;  // NOLINT: the JSON helpers

namespace {

// Appends the elements of the JSON array `text` (copied) to `out`; ignores anything else.
void append_array(std::string_view text, Value& out, Alloc& a) {
  if (text.empty()) return;
  Document d;
  std::string why;
  if (!parse_json(text, d, &why) || !d.IsArray()) return;
  for (const Value& v : d.GetArray()) out.PushBack(Value(v, a), a);
}

}  // namespace

std::string make_record(std::string_view response_json, std::string_view prior_history_json,
                        std::string_view input_items_json, std::string_view output_items_json) {
  Document d;
  d.SetObject();
  Alloc& a = d.GetAllocator();
  Document response;
  std::string why;
  parse_json(response_json, response, &why);
  Value input(rapidjson::kArrayType);
  append_array(input_items_json, input, a);
  Value history(rapidjson::kArrayType);
  append_array(prior_history_json, history, a);
  append_array(input_items_json, history, a);
  append_array(output_items_json, history, a);
  add(d, "response", Value(response, a), a);
  add(d, "input_items", std::move(input), a);
  add(d, "history", std::move(history), a);
  return write_json(d);
}

openai::Expected<StoredConversation> read_record(std::string_view record) {
  Document d;
  std::string why;
  if (!parse_json(record, d, &why) || !d.IsObject()) {
    return openai::OpenAIError::bad_upstream("the stored response is unreadable");
  }
  const Value* response = field(d, "response");
  const Value* input = field(d, "input_items");
  const Value* history = field(d, "history");
  if (!response || !response->IsObject() || !input || !input->IsArray() || !history ||
      !history->IsArray()) {
    return openai::OpenAIError::bad_upstream("the stored response is unreadable");
  }
  return StoredConversation{write_json(*response), write_json(*input), write_json(*history)};
}

std::string input_items_page(std::string_view input_items_json, bool descending, size_t limit) {
  Document d;
  d.SetObject();
  Alloc& a = d.GetAllocator();
  Value all(rapidjson::kArrayType);
  append_array(input_items_json, all, a);
  Value data(rapidjson::kArrayType);
  const size_t n = all.Size();
  for (size_t i = 0; i < n && data.Size() < limit; ++i) {
    Value& item = all[static_cast<rapidjson::SizeType>(descending ? n - 1 - i : i)];
    data.PushBack(Value(item, a), a);
  }
  const bool has_more = data.Size() < n;
  auto id_of = [&](const Value& item) -> Value {
    const Value* id = item.IsObject() ? field(item, "id") : nullptr;
    return id && id->IsString() ? Value(*id, a) : Value();
  };
  Value first = data.Empty() ? Value() : id_of(data[0]);
  Value last = data.Empty() ? Value() : id_of(data[data.Size() - 1]);
  add(d, "object", "list", a);
  add(d, "data", std::move(data), a);
  add(d, "first_id", std::move(first), a);
  add(d, "last_id", std::move(last), a);
  add(d, "has_more", Value(has_more), a);
  return write_json(d);
}

}  // namespace gemgate::responses
