// The operations behind the `anthropic` filter, one per endpoint family: messages.cpp (create and
// count_tokens) and models.cpp (list and get). The filter routes a request to its op once and
// handles what they share on the way back: local errors pass (the chain renders them in
// Anthropic's shape) and Gemini's non-2xx answers become Anthropic errors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/exchange.h"
#include "core/filter.h"
#include "filters/anthropic/translate/errors.h"

namespace gemgate::anthropic {

class AnthropicOp {
 public:
  virtual ~AnthropicOp() = default;
  // As OpenAIOp: rewrite x.request() into the Gemini call and Continue; or reply_error and Stop;
  // or Stop and resume later (after downloads).
  virtual Status on_request(FilterCallbacks& x) = 0;
  // A 2xx Gemini answer is in x.response(): rewrite it (Continue), or hold a stream head (Stop).
  virtual Status on_response_head(FilterCallbacks& x) = 0;
  virtual void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) {}
  // The exchange ended: stop anything still running.
  virtual void on_done() {}
};

// What an op gets from its filter: the filter itself (to send keep-alives as it, see
// FilterCallbacks::send_data) and the filter's config.
struct OpContext {
  const Filter& filter;
  int64_t ping_interval_ms;  // `ping` after this long without upstream data; 0 = never
};

// The ops. Each returns a fresh op for one request.
std::unique_ptr<AnthropicOp> make_messages_op(const OpContext& c);  // POST /messages
std::unique_ptr<AnthropicOp> make_count_tokens_op(
    const OpContext& c);  // POST /messages/count_tokens
std::unique_ptr<AnthropicOp> make_models_list_op(const OpContext& c);  // GET /models
std::unique_ptr<AnthropicOp> make_model_get_op(const OpContext& c);    // GET /models/{id}

// `e` as a whole JSON response (with Retry-After when it carries a delay).
http::Response error_response(const AnthropicError& e);
// Answers the exchange with `e` (recorded as the request's error). Returns Stop.
Status reply_error(FilterCallbacks& x, const AnthropicError& e);
// Points x.request() at a Gemini call (method, "path?query", JSON body or "" for GET).
void aim(http::Request& req, std::string_view method, std::string_view target, std::string body);

}  // namespace gemgate::anthropic
