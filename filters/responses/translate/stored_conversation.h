// What the gateway keeps of one stored response, as one JSON document:
//   {"response": <the response object>, "input_items": [<this request's input items>],
//    "history": [<every item of the conversation so far: prior turns, this input, this output>]}
// `history` is what a later request with previous_response_id continues from; `input_items` is
// what GET /v1/responses/{id}/input_items lists; `response` is what GET /v1/responses/{id} returns.
#pragma once

#include <string>
#include <string_view>

#include "filters/openai/translate/errors.h"

namespace gemgate::responses {

struct StoredConversation {
  std::string response_json;
  std::string input_items_json;
  std::string history_json;
};

// The record for a finished response. `prior_history_json` is the history of the previous
// response ("" for none); the arrays are JSON arrays as the translators produce them.
std::string make_record(std::string_view response_json, std::string_view prior_history_json,
                        std::string_view input_items_json, std::string_view output_items_json);

// Reads a record made by make_record. Fails (502) when it is not one.
openai::Expected<StoredConversation> read_record(std::string_view record);

// {"object":"list","data":[...],"first_id","last_id","has_more":false} for input_items, newest
// first when `descending` (OpenAI's default order is "desc"), at most `limit` items.
std::string input_items_page(std::string_view input_items_json, bool descending, size_t limit);

}  // namespace gemgate::responses
