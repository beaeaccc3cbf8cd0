// The operations behind the `responses` filter, one per file: create_response.cpp (POST
// /responses) and stored_response.cpp (GET and DELETE /responses/{id}, GET .../input_items).
// The filter (../responses_filter.cpp) routes a request to its op once and turns Gemini's
// non-2xx answers into OpenAI errors; an op sees only the rest.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/document_store.h"
#include "core/exchange.h"
#include "core/filter.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::responses {

using openai::OpenAIError;

class ResponsesOp {
 public:
  virtual ~ResponsesOp() = default;
  // As OpenAIOp (filters/openai/ops/openai_op.h): rewrite the request into a Gemini call and
  // Continue, or reply and Stop, or Stop and resume later (storage reads, downloads).
  virtual Status on_request(FilterCallbacks& x) = 0;
  // A 2xx Gemini answer is in x.response(): rewrite it, or hold a stream head (Stop).
  virtual Status on_response_head(FilterCallbacks& x) { return Status::Continue; }
  virtual void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) {}
  virtual void on_done() {}
};

// `store` may be null (no storage on this gateway): nothing is stored, lookups find nothing.
std::unique_ptr<ResponsesOp> make_create_response_op(std::shared_ptr<DocumentStore> store);
// `what`: the stored response, its deletion, or its input items.
enum class StoredAction { kGet, kDelete, kInputItems };
std::unique_ptr<ResponsesOp> make_stored_response_op(std::shared_ptr<DocumentStore> store,
                                                     StoredAction what, std::string id);

// ---- shared (responses_op.cpp) ----

// An invalid_request_error with HTTP `status`, `code` and `param` (none when empty).
OpenAIError request_error(int status, std::string message, std::string code,
                          std::string param = "");
// `e` as a whole JSON response (with Retry-After when it carries a retry delay).
http::Response error_response(const OpenAIError& e);
// Answers with `e`; returns Stop.
Status reply_error(FilterCallbacks& x, const OpenAIError& e);
// A gateway failure after the stream started, for the response.failed event.
OpenAIError stream_error(const http::LocalError& e);
// The error for a storage failure (503) or a stored response that is not there (404).
OpenAIError storage_unavailable();
OpenAIError response_not_found(const std::string& id, const std::string& param);
// "resp_" and 1..100 letters, digits, '_' or '-': the ids this gateway makes. Anything else is
// refused before it reaches storage, a log line or an error message.
bool valid_response_id(std::string_view id);

}  // namespace gemgate::responses
