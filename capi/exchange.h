// The state behind the C ABI's opaque gemgate_exchange and gemgate_stream handles. Not
// installed: C callers see only the typedefs of gemgate/gemgate.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "filters/anthropic/translate/messages_request.h"
#include "filters/anthropic/translate/messages_stream.h"
#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/chat_stream.h"
#include "filters/responses/translate/responses_request.h"
#include "filters/responses/translate/responses_response.h"
#include "gemgate/gemgate.h"

struct gemgate_exchange {
  gemgate_front front = GEMGATE_FRONT_OPENAI_CHAT;
  bool translated = false;  // a request was translated; the fields below describe it
  std::string path;
  std::string body;
  std::string headers;
  std::string model;  // the Gemini model of `path`
  bool stream = false;
  gemgate::openai::ChatContext chat;               // front OPENAI_CHAT
  gemgate::anthropic::MessagesContext messages;    // front ANTHROPIC_MESSAGES
  gemgate::responses::ResponsesContext responses;  // front OPENAI_RESPONSES
  std::string seal_key;     // the reasoning seal's key (OPENAI_RESPONSES); "" = the process's
  std::string response_id;  // "" until fixed by the caller or drawn at the first answer
  int64_t created = 0;
  int error_status = 0;  // 0: no error to answer
  std::string error_body;
  int64_t retry_after_ms = -1;
};

struct gemgate_stream {
  gemgate_front front = GEMGATE_FRONT_OPENAI_CHAT;
  std::unique_ptr<gemgate::openai::ChatStreamTranslator> chat;
  std::unique_ptr<gemgate::anthropic::MessagesStreamTranslator> messages;
  std::unique_ptr<gemgate::responses::ResponsesStreamTranslator> responses;
  std::string error_body;  // filled once the stream failed
  int error_status = 0;
};

namespace gemgate::capi {

// The exchange's response id and time, drawn (random id, current time) on first use unless the
// caller fixed them.
void ensure_response_id(gemgate_exchange& x);

// The Responses front (responses_front.cpp). The reasoning seal of `x`: HMAC under its seal key,
// else under a random key that lives as long as the process.
gemgate::responses::ReasoningSeal seal_of(const gemgate_exchange& x);
// Translates a Responses request into x (path, body, context). On a client error: false, with
// *error set.
bool responses_request(gemgate_exchange& x, std::string_view body, openai::OpenAIError* error);
// Translates Gemini's whole 2xx answer; false with *error when it is not Gemini's shape.
bool responses_answer(gemgate_exchange& x, std::string_view body, std::string* out,
                      openai::OpenAIError* error);

}  // namespace gemgate::capi
