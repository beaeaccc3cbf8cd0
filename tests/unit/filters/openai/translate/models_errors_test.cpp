// Golden cases golden/models/*.json and golden/errors/*.json.
#include <doctest/doctest.h>

#include "case_util.h"

namespace gemgate::openai::test {

TEST_CASE("golden: models") {
  auto files = golden_entries("models");
  CHECK(files.size() >= 3);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    std::string kind = c["kind"].GetString();
    auto gem = request_text(c, "gemini");
    Expected<std::string> res = kind == "list" ? translate_models_list(gem) : translate_model(gem);
    if (c.HasMember("expected_error")) {
      REQUIRE(!res.has_value());
      auto d = error_diff(c["expected_error"], res.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(res.has_value(), res.error().to_json());
    rapidjson::Document got;
    parse_or_fail(*res, got, "models");
    auto d = json_diff(c["expected"], got);
    CHECK_MESSAGE(d == "", d);
  }
}

TEST_CASE("models: paging helpers") {
  CHECK(models_list_path() == "/v1beta/models?pageSize=1000");
  CHECK(models_list_path("a b/+=") == "/v1beta/models?pageSize=1000&pageToken=a%20b%2F%2B%3D");
  auto page = parse_models_page(
      R"({"models":[{"name":"models/a"},{"name":"models/b"}],"nextPageToken":"tok"})");
  REQUIRE(page.has_value());
  CHECK(page->models.size() == 2);
  CHECK(page->next_page_token == "tok");
  CHECK(*model_get_path("models/gemini-2.5-flash") == "/v1beta/models/gemini-2.5-flash");
  CHECK_FALSE(model_get_path("../x").has_value());
}

TEST_CASE("golden: Gemini errors → OpenAI errors") {
  auto files = golden_entries("errors");
  CHECK(files.size() >= 10);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    auto e = translate_gemini_error(c["http_status"].GetInt(), request_text(c, "body"));
    auto d = error_diff(c["expected"], e);
    CHECK_MESSAGE(d == "", d);
  }
}

}  // namespace gemgate::openai::test
