// Golden cases golden/requests/*.json: an OpenAI chat request (plus options and downloaded media)
// → the expected Gemini path, body and context, or the expected OpenAI error.
#include <doctest/doctest.h>

#include "case_util.h"

namespace gemgate::openai::test {

TEST_CASE("golden: chat requests") {
  auto files = golden_entries("requests");
  CHECK(files.size() >= 40);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    auto body = request_text(c);

    if (c.HasMember("expected_remote_media")) {
      auto urls = list_remote_media(body);
      REQUIRE(urls.has_value());
      rapidjson::Document got(rapidjson::kArrayType);
      for (const auto& u : *urls)
        got.PushBack(rapidjson::Value(u.c_str(), got.GetAllocator()), got.GetAllocator());
      CHECK_MESSAGE(json_diff(c["expected_remote_media"], got) == "",
                    json_diff(c["expected_remote_media"], got));
    }

    auto req = translate_chat_request(body, media_of(c), options_of(c));
    if (c.HasMember("expected_error")) {
      REQUIRE_MESSAGE(!req.has_value(), "expected an error, got body " << req->body);
      auto d = error_diff(c["expected_error"], req.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(req.has_value(), req.error().to_json());
    const auto& want = c["expected"];
    if (want.HasMember("path")) CHECK(req->path == want["path"].GetString());
    rapidjson::Document got;
    parse_or_fail(req->body, got, "translated body");
    auto d = json_diff(want["body"], got);
    CHECK_MESSAGE(d == "", d << "\nactual body:\n" << to_json(got, true));
    if (want.HasMember("context")) {
      rapidjson::Document ctx;
      parse_or_fail(context_json(req->context), ctx, "context");
      // Only the keys the case names are compared.
      for (auto& m : want["context"].GetObject()) {
        REQUIRE(ctx.HasMember(m.name));
        auto cd = json_diff(m.value, ctx[m.name], std::string("context.") + m.name.GetString());
        CHECK_MESSAGE(cd == "", cd);
      }
    }
  }
}

TEST_CASE("list_remote_media: deduplicated, only URLs that must be downloaded") {
  auto urls = list_remote_media(R"({"model":"m","messages":[
    {"role":"user","content":[
      {"type":"image_url","image_url":{"url":"https://ex.com/a.png"}},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
      {"type":"image_url","image_url":{"url":"https://generativelanguage.googleapis.com/v1beta/files/abc"}},
      {"type":"image_url","image_url":{"url":"https://www.youtube.com/watch?v=x"}},
      {"type":"image_url","image_url":{"url":"HTTP://ex.com/b.jpg"}}]},
    {"role":"user","content":[{"type":"image_url","image_url":{"url":"https://ex.com/a.png"}}]}]})");
  REQUIRE(urls.has_value());
  REQUIRE(urls->size() == 2);
  CHECK((*urls)[0] == "https://ex.com/a.png");
  CHECK((*urls)[1] == "HTTP://ex.com/b.jpg");
  CHECK_FALSE(list_remote_media("not json").has_value());
}

TEST_CASE("upstream_model_name strips routing prefixes and refuses path tricks") {
  CHECK(*upstream_model_name("models/gemini-2.5-flash") == "gemini-2.5-flash");
  CHECK(*upstream_model_name("google/gemini-2.5-pro") == "gemini-2.5-pro");
  CHECK(*upstream_model_name("gemini/gemini-2.0-flash") == "gemini-2.0-flash");
  for (const char* bad :
       {"", "models/", "../admin", "a/b", "gemini?key=x", "gemini:generate", "..", "gemini 2"}) {
    CAPTURE(bad);
    auto r = upstream_model_name(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().param == "model");
  }
}

}  // namespace gemgate::openai::test

namespace gemgate::openai::test {

TEST_CASE("may_name_remote_media is true whenever list_remote_media finds a URL") {
  size_t with_urls = 0;
  for (const auto& file : golden_entries("requests")) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    auto body = request_text(c);
    auto urls = list_remote_media(body);
    if (urls && !urls->empty()) {
      ++with_urls;
      CHECK(may_name_remote_media(body));
    }
  }
  CHECK(with_urls > 0);
  // "image_url" spelled with a \u escape is still caught.
  std::string escaped =
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"image\u005furl",)"
      R"("image\u005furl":{"url":"https://example.com/a.png"}}]}]})";
  auto urls = list_remote_media(escaped);
  REQUIRE(urls.has_value());
  CHECK(urls->size() == 1);
  CHECK(may_name_remote_media(escaped));
  CHECK_FALSE(
      may_name_remote_media(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
}

}  // namespace gemgate::openai::test
