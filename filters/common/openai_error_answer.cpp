#include "filters/common/openai_error_answer.h"

#include <string>

namespace gemgate {

http::Response openai_error_response(const openai::OpenAIError& e) {
  http::Response r;
  r.status = e.status;
  r.headers.set("content-type", "application/json");
  if (e.retry_after_ms) {
    r.headers.set("retry-after", std::to_string((*e.retry_after_ms + 999) / 1000));
    r.headers.set("retry-after-ms", std::to_string(*e.retry_after_ms));
  }
  r.body = e.to_json();
  return r;
}

Status reply_openai_error(FilterCallbacks& x, const openai::OpenAIError& e) {
  x.info().error = e.message;
  x.respond(openai_error_response(e));
  return Status::Stop;
}

}  // namespace gemgate
