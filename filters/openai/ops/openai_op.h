// The operations behind the `openai` filter, one per endpoint and one per file (h2o style):
// chat_completions.cpp, embeddings.cpp, models_list.cpp, model_get.cpp, images_generations.cpp,
// audio_speech.cpp. The filter
// (../openai_filter.cpp) routes a request to its op once, checks the method, and handles what every
// op shares on the way back: local errors pass untouched (the chain renders them in OpenAI's shape)
// and Gemini's non-2xx answers become OpenAI errors. An op sees only the rest.
#pragma once

#include <memory>
#include <string>

#include "core/exchange.h"
#include "core/filter.h"
#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

class OpenAIOp {
 public:
  virtual ~OpenAIOp() = default;

  // The client's request is in x.request() (route and method already checked). Rewrites it into
  // the first Gemini call and returns Continue; or replies with an OpenAI error (reply_error) and
  // returns Stop; or returns Stop and calls x.resume() later (e.g. after downloads).
  virtual Status on_request(FilterCallbacks& x) = 0;

  // A 2xx Gemini answer is in x.response() (the whole body unless it streams). Rewrites it into
  // the OpenAI answer and returns Continue, or puts the next Gemini call in x.request(), calls
  // x.rerun_below() and returns Stop, or holds a stream head (Stop) until on_response_data resumes.
  virtual Status on_response_head(FilterCallbacks& x) = 0;

  // The response body, as Filter::on_response_data. Only a streaming op has work here.
  virtual void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) {}

  // The exchange ended (Filter::on_done): stops anything the op still runs.
  virtual void on_done() {}
};

// The ops, one per file. Each returns a fresh op for one request.
std::unique_ptr<OpenAIOp> make_chat_completions_op();    // POST /chat/completions
std::unique_ptr<OpenAIOp> make_embeddings_op();          // POST /embeddings
std::unique_ptr<OpenAIOp> make_models_list_op();         // GET /models
std::unique_ptr<OpenAIOp> make_model_get_op();           // GET /models/{id}
std::unique_ptr<OpenAIOp> make_images_generations_op();  // POST /images/generations
std::unique_ptr<OpenAIOp> make_audio_speech_op();        // POST /audio/speech

// ---- shared by the ops and the filter (openai_op.cpp) ----

// An invalid_request_error with HTTP `status` and machine `code`, naming no param.
OpenAIError request_error(int status, std::string message, std::string code);

// `e` as a whole JSON response, with Retry-After (seconds, rounded up) and retry-after-ms when
// the error carries a retry delay.
http::Response error_response(const OpenAIError& e);

// Answers the exchange with `e` (recorded as the request's error for the log). Returns Stop, so
// a hook can `return reply_error(x, e)`.
Status reply_error(FilterCallbacks& x, const OpenAIError& e);

// A gateway-local error (auth, limits, no key, upstream failure, ...) in OpenAI's terms: the
// type and code an OpenAI SDK expects for its status.
OpenAIError from_local(const http::LocalError& e);

// Points x.request() at a Gemini call: `method`, `target` ("path?query") and `body` (empty for
// GET), with JSON content-type and accept headers.
void aim(http::Request& req, std::string_view method, std::string_view target, std::string body);

}  // namespace gemgate::openai
