// Fuzz target gemini_error: an upstream error answer → pool::classify_response (what the key
// pool does with the key) and openai::translate_gemini_error (what an OpenAI client sees).
//
// Input: two bytes giving the HTTP status (100 + little-endian value % 900: any 3-digit status,
// which is what curl accepts from an upstream), then the body. The body is also tried as an error
// event inside a 200 stream, and as a protobuf Duration for parse_protobuf_duration_ms.
#include <cstdint>
#include <rapidjson/document.h>
#include <string_view>

#include "filters/openai/translate/errors.h"
#include "pool/classify.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using gemgate::pool::OutcomeKind;

constexpr int64_t kMaxDelayMs = 30LL * 86400 * 1000;  // parse_protobuf_duration_ms caps at 30 days

void check_classify(int status, std::string_view body) {
  gemgate::pool::Outcome o = gemgate::pool::classify_response(status, body);
  FUZZ_CHECK(o.status == status);
  FUZZ_CHECK(o.retry_delay_ms == -1 || (o.retry_delay_ms >= 0 && o.retry_delay_ms <= kMaxDelayMs));
  if (status >= 200 && status < 300) {
    FUZZ_CHECK(o.kind == OutcomeKind::kSuccess);
    return;
  }
  FUZZ_CHECK(o.kind != OutcomeKind::kSuccess);
  FUZZ_CHECK(!o.kind_name.empty() && !o.reason.empty());
  // Only Google's key answers (400 with a key reason, 401, 403) may disable a key; whether a
  // given body does is the classifier's business (a client must not be able to provoke it).
  if (o.kind == OutcomeKind::kKeyInvalid)
    FUZZ_CHECK(status == 400 || status == 401 || status == 403);
  FUZZ_CHECK((o.kind == OutcomeKind::kQuota) == (status == 429));
  FUZZ_CHECK((o.kind == OutcomeKind::kTransient) == (status >= 500 || status == 408));
  if (o.kind != OutcomeKind::kQuota) FUZZ_CHECK(o.retry_delay_ms == -1);
}

void check_translate(int status, std::string_view body) {
  gemgate::openai::OpenAIError e = gemgate::openai::translate_gemini_error(status, body);
  // The client gets a 4xx/5xx; only a real (3-digit) upstream status may pass through as is.
  FUZZ_CHECK((e.status >= 400 && e.status <= 599) || (e.status == status && status >= 600));
  FUZZ_CHECK(!e.type.empty() && !e.message.empty());
  if (e.retry_after_ms) FUZZ_CHECK(*e.retry_after_ms >= 0);
  std::string json = e.to_json();
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  FUZZ_CHECK(!d.HasParseError() && d.IsObject() && d.HasMember("error"));
  std::string sse = e.to_sse();
  FUZZ_CHECK(sse == "data: " + json + "\n\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  int status = 100 + (data[0] | (data[1] << 8)) % 900;
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  check_classify(status, body);
  check_translate(status, body);
  check_translate(200, body);
  int64_t ms = gemgate::pool::parse_protobuf_duration_ms(body);
  FUZZ_CHECK(ms == -1 || (ms >= 0 && ms <= kMaxDelayMs));
  return 0;
}
