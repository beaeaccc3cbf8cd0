// The OpenAI Responses front of the C ABI, stateless: no stored conversations (a request with
// previous_response_id is refused), thought signatures carried in sealed encrypted_content.
// Shares the exchange handle with the other fronts (exchange.cpp).
#include "capi/exchange.h"
#include "core/crypto.h"
#include "filters/responses/reasoning_seal.h"

namespace gemgate::capi {

responses::ReasoningSeal seal_of(const gemgate_exchange& x) {
  // As the gateway without storage: a key that lives as long as the process.
  static const std::string process_key = crypto::random_token("", 32);
  return responses::make_reasoning_seal(x.seal_key.empty() ? process_key : x.seal_key);
}

bool responses_request(gemgate_exchange& x, std::string_view body, openai::OpenAIError* error) {
  auto head = responses::read_request_head(body);
  if (!head) {
    *error = head.error();
    return false;
  }
  if (!head->previous_response_id.empty()) {
    *error = openai::OpenAIError::invalid(
        "previous_response_id needs stored conversations, which this embedding does not keep: "
        "send the whole conversation as input (with include: [\"reasoning.encrypted_content\"] "
        "to carry reasoning between calls)",
        "previous_response_id", "unsupported_parameter");
    return false;
  }
  ensure_response_id(x);
  std::string_view seed = std::string_view(x.response_id);
  if (seed.rfind("resp_", 0) == 0) seed.remove_prefix(5);
  auto prepared = responses::prepare_request(body, "", seal_of(x), seed);
  if (!prepared) {
    *error = prepared.error();
    return false;
  }
  auto call = responses::finish_request(*prepared, {});
  if (!call) {
    *error = call.error();
    return false;
  }
  x.path = std::move(call->path);
  x.body = std::move(call->body);
  x.responses = std::move(call->context);
  x.stream = x.responses.stream;
  return true;
}

bool responses_answer(gemgate_exchange& x, std::string_view body, std::string* out,
                      openai::OpenAIError* error) {
  auto res =
      responses::translate_response(body, x.responses, {x.response_id, x.created}, seal_of(x));
  if (!res) {
    *error = res.error();
    return false;
  }
  *out = std::move(res->response_json);
  return true;
}

}  // namespace gemgate::capi
