// Shared by the test files: turning case-file fields into library inputs.
#pragma once

#include <rapidjson/document.h>
#include <string>

#include "filters/openai/translate/translate.h"
#include "golden.h"

namespace gemgate::openai::test {

// "request" (a JSON value) or "request_raw" (a string holding any bytes) of a case.
std::string request_text(const rapidjson::Value& c, const char* key = "request");
TranslateOptions options_of(const rapidjson::Value& c);
MediaMap media_of(const rapidjson::Value& c);
ResponseMeta meta_of(const rapidjson::Value& c);  // defaults: chatcmpl-test, 1700000000
// Translates the case's "request" to get its ChatContext (REQUIREs success).
ChatContext context_of(const rapidjson::Value& c);
std::string context_json(const ChatContext& ctx);
// Compares an OpenAIError with a case's {"status":..., "error":{...}}; "" when equal.
std::string error_diff(const rapidjson::Value& expected, const OpenAIError& actual);
std::string base64_decode(std::string_view b64);

}  // namespace gemgate::openai::test
