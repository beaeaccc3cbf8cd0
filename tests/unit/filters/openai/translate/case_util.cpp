#include "case_util.h"

#include <doctest/doctest.h>

namespace gemgate::openai::test {

std::string request_text(const rapidjson::Value& c, const char* key) {
  std::string raw = std::string(key) + "_raw";
  if (c.HasMember(raw.c_str())) return c[raw.c_str()].GetString();
  REQUIRE_MESSAGE(c.HasMember(key), "case has no '" << key << "'");
  return to_json(c[key]);
}

TranslateOptions options_of(const rapidjson::Value& c) {
  TranslateOptions o;
  if (!c.HasMember("options")) return o;
  const auto& v = c["options"];
  if (v.HasMember("schema_mode") && std::string(v["schema_mode"].GetString()) == "openapi") {
    o.schema_mode = SchemaMode::kOpenApi;
  }
  if (v.HasMember("include_reasoning")) o.include_reasoning = v["include_reasoning"].GetBool();
  if (v.HasMember("send_function_call_ids")) {
    o.send_function_call_ids = v["send_function_call_ids"].GetBool();
  }
  if (v.HasMember("max_inline_bytes")) o.max_inline_bytes = v["max_inline_bytes"].GetUint64();
  return o;
}

std::string base64_decode(std::string_view b64) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : b64) {
    int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | unsigned(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  return out;
}

MediaMap media_of(const rapidjson::Value& c) {
  MediaMap m;
  if (!c.HasMember("media")) return m;
  for (auto& e : c["media"].GetObject()) {
    FetchedMedia f;
    f.mime_type = e.value["mime_type"].GetString();
    f.bytes = base64_decode(e.value["bytes_base64"].GetString());
    m[e.name.GetString()] = f;
  }
  return m;
}

ResponseMeta meta_of(const rapidjson::Value& c) {
  ResponseMeta m{"chatcmpl-test", 1700000000};
  if (c.HasMember("meta")) {
    m.id = c["meta"]["id"].GetString();
    m.created = c["meta"]["created"].GetInt64();
  }
  return m;
}

ChatContext context_of(const rapidjson::Value& c) {
  auto req = translate_chat_request(request_text(c), media_of(c), options_of(c));
  REQUIRE_MESSAGE(req.has_value(), "request does not translate: " << req.error().to_json());
  return req->context;
}

std::string context_json(const ChatContext& ctx) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("model", rapidjson::Value(ctx.model.c_str(), a), a);
  d.AddMember("upstream_model", rapidjson::Value(ctx.upstream_model.c_str(), a), a);
  d.AddMember("stream", ctx.stream, a);
  d.AddMember("n", ctx.n, a);
  d.AddMember("include_usage", ctx.include_usage, a);
  d.AddMember("include_reasoning", ctx.include_reasoning, a);
  d.AddMember("logprobs", ctx.logprobs, a);
  d.AddMember("legacy_functions", ctx.legacy_functions, a);
  d.AddMember("audio_format", rapidjson::Value(ctx.audio_format.c_str(), a), a);
  return to_json(d);
}

std::string error_diff(const rapidjson::Value& expected, const OpenAIError& actual) {
  if (expected.HasMember("status") && expected["status"].GetInt() != actual.status) {
    return "status: expected " + std::to_string(expected["status"].GetInt()) + ", got " +
           std::to_string(actual.status) + " (" + actual.to_json() + ")";
  }
  if (expected.HasMember("retry_after_ms")) {
    int64_t want = expected["retry_after_ms"].GetInt64();
    if (!actual.retry_after_ms || *actual.retry_after_ms != want) {
      return "retry_after_ms: expected " + std::to_string(want);
    }
  }
  rapidjson::Document got;
  parse_or_fail(actual.to_json(), got, "error body");
  const auto& want = expected["error"];
  // The message is compared only when the case spells it out.
  rapidjson::Document trimmed;
  trimmed.CopyFrom(got["error"], trimmed.GetAllocator());
  if (!want.HasMember("message")) trimmed.RemoveMember("message");
  return json_diff(want, trimmed, "$.error");
}

}  // namespace gemgate::openai::test
