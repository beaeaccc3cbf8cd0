// Golden cases golden/embeddings/*.json (request → planned calls → merged reply), plus the
// batching of more than 100 inputs and base64 encoding, which are easier to state in code.
#include <cstring>
#include <doctest/doctest.h>

#include "case_util.h"

namespace gemgate::openai::test {

TEST_CASE("golden: embeddings") {
  auto files = golden_entries("embeddings");
  CHECK(files.size() >= 6);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    auto plan = plan_embeddings(request_text(c));
    if (c.HasMember("expected_error")) {
      REQUIRE_MESSAGE(!plan.has_value(), "expected an error");
      auto d = error_diff(c["expected_error"], plan.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(plan.has_value(), plan.error().to_json());
    const auto& calls = c["expected_calls"];
    REQUIRE(plan->calls.size() == calls.Size());
    for (rapidjson::SizeType i = 0; i < calls.Size(); ++i) {
      CHECK(plan->calls[i].path == calls[i]["path"].GetString());
      rapidjson::Document got;
      parse_or_fail(plan->calls[i].body, got, "call body");
      auto d = json_diff(calls[i]["body"], got);
      CHECK_MESSAGE(d == "", d);
    }
    std::vector<std::string> replies;
    for (auto& r : c["replies"].GetArray()) replies.push_back(to_json(r));
    auto merged = merge_embeddings(*plan, replies);
    if (c.HasMember("expected_merge_error")) {
      REQUIRE(!merged.has_value());
      auto d = error_diff(c["expected_merge_error"], merged.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(merged.has_value(), merged.error().to_json());
    rapidjson::Document got;
    parse_or_fail(*merged, got, "merged");
    auto d = json_diff(c["expected"], got);
    CHECK_MESSAGE(d == "", d << "\nactual:\n" << to_json(got, true));
  }
}

TEST_CASE("embeddings: 250 inputs → batches of 100, 100, 50, re-indexed in input order") {
  std::string body = R"({"model":"gemini-embedding-001","dimensions":3,"input":[)";
  for (int i = 0; i < 250; ++i)
    body += (i ? "," : "") + std::string("\"t") + std::to_string(i) + "\"";
  body += "]}";
  auto plan = plan_embeddings(body);
  REQUIRE(plan.has_value());
  REQUIRE(plan->calls.size() == 3);
  size_t sizes[] = {100, 100, 50};
  std::vector<std::string> replies;
  for (size_t c = 0; c < 3; ++c) {
    const auto& call = plan->calls[c];
    CHECK(call.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents");
    CHECK(call.first == c * 100);
    CHECK(call.count == sizes[c]);
    rapidjson::Document d;
    parse_or_fail(call.body, d, "batch");
    REQUIRE(d["requests"].Size() == sizes[c]);
    CHECK(std::string(d["requests"][0]["content"]["parts"][0]["text"].GetString()) ==
          "t" + std::to_string(c * 100));
    CHECK(std::string(d["requests"][0]["model"].GetString()) == "models/gemini-embedding-001");
    CHECK(d["requests"][0]["outputDimensionality"].GetInt() == 3);
    // Reply: each vector's first value is its global input index.
    std::string r = R"({"embeddings":[)";
    for (size_t i = 0; i < sizes[c]; ++i) {
      r +=
          (i ? "," : "") + std::string("{\"values\":[") + std::to_string(c * 100 + i) + ",0.5,-1]}";
    }
    replies.push_back(r + "]}");
  }
  auto merged = merge_embeddings(*plan, replies);
  REQUIRE(merged.has_value());
  rapidjson::Document out;
  parse_or_fail(*merged, out, "merged");
  REQUIRE(out["data"].Size() == 250);
  for (rapidjson::SizeType i = 0; i < 250; ++i) {
    CHECK(out["data"][i]["index"].GetInt() == int(i));
    CHECK(out["data"][i]["embedding"][0].GetDouble() == double(i));
  }
  // A short reply is an upstream error, not a silently shorter list.
  replies[1] = R"({"embeddings":[{"values":[1]}]})";
  auto bad = merge_embeddings(*plan, replies);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().status == 502);
}

TEST_CASE("embeddings: base64 is little-endian float32, decodable like the OpenAI SDK does") {
  auto plan = plan_embeddings(R"({"model":"m","input":"x","encoding_format":"base64"})");
  REQUIRE(plan.has_value());
  auto merged = merge_embeddings(*plan, {R"({"embedding":{"values":[1.0,-2.5,0.1]}})"});
  REQUIRE(merged.has_value());
  rapidjson::Document out;
  parse_or_fail(*merged, out, "merged");
  std::string bytes = base64_decode(out["data"][0]["embedding"].GetString());
  REQUIRE(bytes.size() == 12);
  float f[3];
  std::memcpy(f, bytes.data(), 12);  // the test machine is little-endian, as is the format
  CHECK(f[0] == 1.0f);
  CHECK(f[1] == -2.5f);
  CHECK(f[2] == 0.1f);
}

}  // namespace gemgate::openai::test
