// Which resources a path, a body and an answer name (filters/affinity/resource_names.h).
#include "filters/affinity/resource_names.h"

#include <doctest/doctest.h>

using namespace gemgate::affinity;
using V = std::vector<std::string>;

TEST_CASE("names in paths: every kind, with methods, versions and downloads") {
  CHECK(names_in_path("/v1beta/files/abc") == V{"files/abc"});
  CHECK(names_in_path("/v1/files/abc") == V{"files/abc"});
  CHECK(names_in_path("/download/v1beta/files/abc:download") == V{"files/abc"});
  CHECK(names_in_path("/v1beta/cachedContents/c1") == V{"cachedContents/c1"});
  CHECK(names_in_path("/v1beta/batches/b1:cancel") == V{"batches/b1"});
  CHECK(names_in_path("/v1beta/interactions/i1") == V{"interactions/i1"});
  CHECK(names_in_path("/v1beta/operations/o1") == V{"operations/o1"});
  CHECK(names_in_path("/v1beta/models/veo/operations/o1") == V{"models/veo/operations/o1"});
  CHECK(names_in_path("/v1beta/tunedModels/t1:generateContent") == V{"tunedModels/t1"});
  CHECK(names_in_path("/v1beta/tunedModels/t1/operations/o") ==
        V{"tunedModels/t1/operations/o", "tunedModels/t1"});
  CHECK(names_in_path("/v1beta/models/gemini-2.5-flash:generateContent").empty());
  CHECK(names_in_path("/v1beta/files").empty());
  CHECK(names_in_path("/v1beta/cachedContents").empty());
  CHECK(names_in_path("/admin/files/x").empty());
  CHECK(names_in_path("/v1beta/files/:x").empty());
}

TEST_CASE("references: full URLs and short forms; other URIs are none") {
  CHECK(name_from_reference("files/abc") == "files/abc");
  CHECK(name_from_reference("https://generativelanguage.googleapis.com/v1beta/files/abc") ==
        "files/abc");
  CHECK(name_from_reference("http://127.0.0.1:9/v1beta/files/abc:download?alt=media") ==
        "files/abc");
  CHECK(name_from_reference("cachedContents/c") == "cachedContents/c");
  CHECK(name_from_reference("gs://bucket/files/abc").empty());
  CHECK(name_from_reference("https://example.com/cat.png").empty());
  CHECK(name_from_reference("").empty());
}

TEST_CASE("references in every spelling Google reads as the same name") {
  CHECK(name_from_reference("files/%61bc") == "files/abc");
  CHECK(name_from_reference("files/x/../abc") == "files/abc");
  CHECK(name_from_reference("files/./abc") == "files/abc");
  CHECK(name_from_reference("./files//abc") == "files/abc");
  CHECK(name_from_reference(" files/abc\n") == "files/abc");
  CHECK(name_from_reference("files/abc:download") == "files/abc");
  CHECK(name_from_reference("files/abc?alt=media") == "files/abc");
  CHECK(name_from_reference("files/abc#x") == "files/abc");
  CHECK(name_from_reference("HTTPS://other.host/v1beta/files/%61bc") == "files/abc");
  CHECK(name_from_reference("https://h/v1beta/cachedContents/c/../c") == "cachedContents/c");
  CHECK(name_from_reference("https://h/x/../v1beta/files/abc") == "files/abc");
  CHECK(name_from_reference("files/abc%2f..").empty());  // an escaped '/': no name at all
  CHECK(name_from_reference("ftp://h/v1beta/files/abc").empty());
}

TEST_CASE("a body whose keys are written with escapes still names its resources") {
  CHECK(names_in_body(R"({"contents":[{"parts":[{"fileData":{"file\u0055ri":"files/a"}}]}]})") ==
        V{"files/a"});
  CHECK(names_in_body(R"({"cached\u0043ontent":"cachedContents/c"})") == V{"cachedContents/c"});
  CHECK(names_in_body(R"({"text":"caf\u00e9"})").empty());
}

TEST_CASE("names in bodies: fileUri at any depth, cachedContent, previous_interaction_id") {
  CHECK(names_in_body(R"({"contents":[{"parts":[{"text":"hi"}]}]})").empty());
  CHECK(names_in_body("not json fileUri").empty());
  CHECK(names_in_body(R"({"cachedContent":"cachedContents/c","contents":[{"parts":[
      {"fileData":{"fileUri":"https://x/v1beta/files/a"}},
      {"file_data":{"file_uri":"files/b"}},{"fileData":{"fileUri":"files/a"}}]}]})") ==
        V{"cachedContents/c", "files/a", "files/b"});
  CHECK(names_in_body(R"({"model":"m","input":"x","previous_interaction_id":"v1_abc"})") ==
        V{"interactions/v1_abc"});
  CHECK(names_in_body(R"({"batch":{"input_config":{"file_name":"files/in"}}})") == V{"files/in"});
}

TEST_CASE("created by answers: uploads, caches, batches, interactions, tuning, operations") {
  auto one =
      created_by_answer("POST", "/upload/v1beta/files",
                        R"({"file":{"name":"files/u","expirationTime":"2026-12-09T06:00:00Z"}})");
  REQUIRE(one.size() == 1);
  CHECK(one[0].name == "files/u");
  CHECK(one[0].expires_at_ms == *parse_rfc3339_ms("2026-12-09T06:00:00Z"));
  auto cache =
      created_by_answer("PATCH", "/v1beta/cachedContents/c",
                        R"({"name":"cachedContents/c","expireTime":"2026-12-08T00:00:00.5Z"})");
  REQUIRE(cache.size() == 1);
  CHECK(cache[0].expires_at_ms % 1000 == 500);
  auto inter = created_by_answer("POST", "/v1beta/interactions", R"({"id":"v1_z","outputs":[]})");
  REQUIRE(inter.size() == 1);
  CHECK(inter[0].name == "interactions/v1_z");
  auto tune = created_by_answer(
      "POST", "/v1beta/tunedModels",
      R"({"name":"tunedModels/t/operations/o","metadata":{"tunedModel":"tunedModels/t"}})");
  REQUIRE(tune.size() == 2);
  CHECK(tune[1].name == "tunedModels/t");
  auto video = created_by_answer("GET", "/v1beta/models/veo/operations/o",
                                 R"({"name":"models/veo/operations/o","done":true,"response":{
      "generateVideoResponse":{"generatedSamples":[{"video":{"uri":"https://h/v1beta/files/v:download?alt=media"}}]}}})");
  REQUIRE(video.size() == 1);
  CHECK(video[0].name == "files/v");
  CHECK(created_by_answer("POST", "/v1beta/models/m:generateContent", R"({"candidates":[]})")
            .empty());
  CHECK(created_by_answer("GET", "/v1beta/files/x", R"({"name":"files/x"})").empty());
  CHECK(created_by_answer("POST", "/v1beta/cachedContents", "not json").empty());
}

TEST_CASE("files:register records every file it answers; a GET list records none") {
  auto reg = created_by_answer(
      "POST", "/v1beta/files:register",
      R"({"files":[{"name":"files/r1","expirationTime":"2099-01-01T00:00:00Z"},{"name":"files/r2"},
          {"name":"not/a-file/x"},{"uri":"x"}]})");
  REQUIRE(reg.size() == 2);
  CHECK(reg[0].name == "files/r1");
  CHECK(reg[0].expires_at_ms == *parse_rfc3339_ms("2099-01-01T00:00:00Z"));
  CHECK(reg[1].name == "files/r2");
  CHECK(created_by_answer("GET", "/v1beta/files", R"({"files":[{"name":"files/x"}]})").empty());
}

TEST_CASE("a body naming more than kMaxNamesPerCall resources stops one past it") {
  std::string body = R"({"contents":[{"parts":[)";
  for (int i = 0; i < 3000; ++i) {
    if (i) body += ',';
    body += R"({"fileData":{"fileUri":"files/f)" + std::to_string(i % 1500) + R"("}})";
  }
  body += "]}]}";
  auto names = names_in_body(body);
  CHECK(names.size() == kMaxNamesPerCall + 1);
  CHECK(names.front() == "files/f0");
  std::string fine = R"({"contents":[{"parts":[)";
  for (int i = 0; i < 3000; ++i) {
    if (i) fine += ',';
    fine += R"({"fileData":{"fileUri":"files/f)" + std::to_string(i % 7) + R"("}})";
  }
  fine += "]}]}";
  CHECK(names_in_body(fine).size() == 7);  // repeats count once
}

TEST_CASE("RFC 3339 times") {
  CHECK(parse_rfc3339_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339_ms("1970-01-01T01:00:00+01:00") == 0);
  CHECK(parse_rfc3339_ms("2000-03-01T00:00:00.123456Z") == 951868800123);
  CHECK_FALSE(parse_rfc3339_ms("2000-03-01 00:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2000-13-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2000-03-01T00:00:00"));
  CHECK(kind_of("models/m/operations/o") == "operations");
  CHECK(kind_of("tunedModels/t") == "tunedModels");
  CHECK(kind_of("models/gemini").empty());
}

TEST_CASE("a streamed interaction's id from its first events, whole lines only") {
  const std::string events =
      "event: interaction.created\r\ndata: {\"event_type\":\"interaction.created\","
      "\"interaction\":{\"id\":\"v1_s\",\"status\":\"in_progress\"}}\r\n\r\n";
  CHECK(interaction_id_in_events(events) == "v1_s");
  CHECK(interaction_id_in_events(events.substr(0, events.size() - 6)).empty());
  CHECK(interaction_id_in_events("data: [DONE]\n").empty());
  auto buffered = created_by_answer("POST", "/v1beta/interactions", events);
  REQUIRE(buffered.size() == 1);
  CHECK(buffered[0].name == "interactions/v1_s");
}

TEST_CASE("a finished batch's output file is recorded") {
  auto out = created_by_answer("GET", "/v1beta/batches/b",
                               R"({"name":"batches/b","done":true,"response":{)"
                               R"("responsesFile":"files/batch-b-out"}})");
  REQUIRE(out.size() == 1);
  CHECK(out[0].name == "files/batch-b-out");
}

TEST_CASE("names in long paths: the version's next four segments and the last one count") {
  CHECK(names_in_path("/v1beta/tunedModels/t1/operations/o:cancel") ==
        V{"tunedModels/t1/operations/o", "tunedModels/t1"});
  CHECK(names_in_path("/upload/v1beta/tunedModels/t1/operations/o/x/y") ==
        V{"tunedModels/t1/operations/o", "tunedModels/t1"});
  CHECK(names_in_path("/v1beta/files/abc/more/and/more/segments:m") == V{"files/abc"});
  CHECK(names_in_path("/v1beta/models/veo/operations/o/a/b/c/d") == V{"models/veo/operations/o"});
  CHECK(names_in_path("/download/v1/files/x:download?alt=media") == V{"files/x"});
  CHECK(names_in_path("/v1beta/models/m/operations/:x").empty());
  CHECK(names_in_path("/v1beta/tunedModels").empty());
  CHECK(names_in_path("").empty());
  CHECK(names_in_path("/").empty());
}

TEST_CASE("an answer is read for created names whatever spelling its keys use") {
  // Skipping answers that cannot name anything must not skip one that does: escaped keys, a
  // batch's output file alone, a video's file URI alone.
  auto escaped =
      created_by_answer("POST", "/v1beta/cachedContents", R"({"n\u0061me":"cachedContents/esc"})");
  REQUIRE(escaped.size() == 1);
  CHECK(escaped[0].name == "cachedContents/esc");
  auto batch = created_by_answer("GET", "/v1beta/batches/b",
                                 R"({"done":true,"response":{"responsesFile":"files/only"}})");
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].name == "files/only");
  auto video = created_by_answer("GET", "/v1beta/operations/o",
                                 R"({"response":{"x":[{"fileUri":"files/vid"}]}})");
  REQUIRE(video.size() == 1);
  CHECK(video[0].name == "files/vid");
  // A generateContent answer whose function call has a "name" is parsed and still names none.
  CHECK(created_by_answer("POST", "/v1beta/models/m:generateContent",
                          R"({"candidates":[{"content":{"parts":[{"functionCall":)"
                          R"({"name":"files/not-a-resource"}}]}}]})")
            .empty());
}
