// Fuzz target sse_translator: Gemini bytes → the OpenAI translator (filters/openai/translate).
//
// Input: one flags byte, a FragmentPlan (fuzz_util.h), then the payload.
//   flags bit 0 include_usage, bit 1 include_reasoning, bit 2 logprobs, bit 3 legacy_functions,
//   bit 4 a 256-byte event limit (to reach the "event too large" path), bits 5-6 n-1,
//   bit 7 the OpenAPI schema mode for translate_chat_request.
// The payload is
//   1. streamed through ChatStreamTranslator in the planned fragments, then finish(); the output
//      must be well-formed SSE and identical to feeding the payload in one piece (the header
//      promises that output depends only on the decoded events);
//   2. given to translate_chat_response as a Gemini reply body;
//   3. given to list_remote_media and translate_chat_request as an OpenAI request body (every
//      listed URL "downloads" a few bytes, so the media path runs too).
#include <cstdint>
#include <rapidjson/document.h>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/translate.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

namespace oa = gemgate::openai;

// Parses our own output without recursion, so a deep value cannot overflow the harness's stack.
bool parse_object(std::string_view text, rapidjson::Document* doc) {
  doc->Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc->HasParseError() && doc->IsObject();
}

void check_error(const oa::OpenAIError& e) {
  FUZZ_CHECK(e.status >= 400 && e.status <= 599);
  FUZZ_CHECK(!e.type.empty());
  rapidjson::Document d;
  FUZZ_CHECK(parse_object(e.to_json(), &d));
  FUZZ_CHECK(d.HasMember("error") && d["error"].IsObject());
  std::string sse = e.to_sse();
  FUZZ_CHECK(sse.starts_with("data: ") && sse.size() >= 8 && sse.ends_with("\n\n"));
  if (e.retry_after_ms) FUZZ_CHECK(*e.retry_after_ms >= 0);
}

// Checks the translator's output: "data: <json>\n\n" events, ending in [DONE] unless failed.
void check_stream_output(const std::string& out, const oa::ChatStreamTranslator& t) {
  FUZZ_CHECK(t.done());
  FUZZ_CHECK(t.failed() == (t.error() != nullptr));
  if (t.error()) check_error(*t.error());
  size_t pos = 0;
  bool saw_done = false, last_was_error = false;
  while (pos < out.size()) {
    FUZZ_CHECK(!saw_done);  // nothing after [DONE]
    FUZZ_CHECK(out.compare(pos, 6, "data: ") == 0);
    size_t end = out.find("\n\n", pos);
    FUZZ_CHECK(end != std::string::npos);
    std::string_view data(out.data() + pos + 6, end - pos - 6);
    FUZZ_CHECK(data.find('\n') == std::string_view::npos);  // one line per event
    if (data == "[DONE]") {
      saw_done = true;
    } else {
      rapidjson::Document d;
      FUZZ_CHECK(parse_object(data, &d));
      last_was_error = d.HasMember("error");
      FUZZ_CHECK(!last_was_error || d.MemberCount() == 1);  // {"error":{...}} alone
    }
    pos = end + 2;
  }
  if (t.failed()) {
    FUZZ_CHECK(!saw_done && last_was_error);
  } else {
    FUZZ_CHECK(saw_done);
  }
}

std::string stream(const oa::ChatContext& ctx, size_t max_event,
                   const std::vector<std::string_view>& reads) {
  oa::ChatStreamTranslator t(ctx, {"chatcmpl-fuzz", 1700000000}, max_event);
  std::string out;
  for (std::string_view r : reads) t.feed(r, out);
  t.finish(out);
  check_stream_output(out, t);
  // Once done, nothing more is emitted.
  std::string after;
  t.feed("data: {}\n\n", after);
  t.finish(after);
  t.fail(oa::OpenAIError::bad_upstream("late"), after);
  FUZZ_CHECK(after.empty());
  return out;
}

void chat_response(std::string_view body, const oa::ChatContext& ctx) {
  auto res = oa::translate_chat_response(body, ctx, {"chatcmpl-fuzz", 1700000000});
  if (!res) {
    check_error(res.error());
    return;
  }
  rapidjson::Document d;
  FUZZ_CHECK(parse_object(res->body, &d));
  FUZZ_CHECK(d.HasMember("choices") && d["choices"].IsArray());
}

void chat_request(std::string_view body, bool openapi) {
  auto urls = oa::list_remote_media(body);
  oa::MediaMap media;
  if (urls) {
    for (const std::string& u : *urls) {
      FUZZ_CHECK(u.starts_with("http://") || u.starts_with("https://"));
      // Alternate a PNG signature and unknown bytes so both MIME decisions run.
      media[u] = {
          media.size() % 2 ? "image/jpeg" : "application/octet-stream",
          media.size() % 2 ? std::string("not an image") : std::string("\x89PNG\r\n\x1a\n")};
    }
  } else {
    check_error(urls.error());
  }
  oa::TranslateOptions options;
  if (openapi) options.schema_mode = oa::SchemaMode::kOpenApi;
  options.max_inline_bytes = 4096;
  auto req = oa::translate_chat_request(body, media, options);
  if (!req) {
    check_error(req.error());
    return;
  }
  FUZZ_CHECK(req->path.starts_with("/v1beta/models/"));
  FUZZ_CHECK(!req->context.model.empty() && !req->context.upstream_model.empty());
  FUZZ_CHECK(req->context.n >= 1);
  rapidjson::Document d;
  FUZZ_CHECK(parse_object(req->body, &d));
  // The model name ends up in a URL path: only letters, digits, '.', '_' and '-' may reach it.
  for (char c : req->context.upstream_model) {
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-');
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  gemgate::fuzz::FragmentPlan plan(data + 1, size - 1);
  oa::ChatContext ctx;
  ctx.model = "gpt-fuzz";
  ctx.upstream_model = "gemini-2.5-flash";
  ctx.stream = true;
  ctx.include_usage = flags & 1;
  ctx.include_reasoning = flags & 2;
  ctx.logprobs = flags & 4;
  ctx.legacy_functions = flags & 8;
  ctx.n = 1 + ((flags >> 5) & 3);
  size_t max_event = (flags & 16) ? 256 : oa::ChatStreamTranslator::kDefaultMaxEventBytes;

  std::string split = stream(ctx, max_event, plan.fragments());
  std::vector<std::string_view> whole;
  if (!plan.payload().empty()) whole.push_back(plan.payload());
  FUZZ_CHECK(stream(ctx, max_event, whole) == split);

  ctx.stream = false;
  chat_response(plan.payload(), ctx);
  chat_request(plan.payload(), flags & 128);
  return 0;
}
