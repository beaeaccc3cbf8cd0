// Golden cases golden/images/*.json (request → planned :predict / generateContent calls →
// replies → ImagesResponse) and golden/speech/*.json (request → the TTS call → reply → the audio
// file), plus the WAV header and voice table, which are easier to state in code.
#include "filters/openai/translate/detail/media.h"

#include <doctest/doctest.h>
#include <random>

#include "case_util.h"
#include "filters/openai/translate/detail/audio.h"
#include "filters/openai/translate/detail/json_util.h"
#include "mutate.h"

namespace gemgate::openai::test {

namespace {

void check_call(const rapidjson::Value& want, const std::string& path, const std::string& body) {
  CHECK(path == want["path"].GetString());
  rapidjson::Document got;
  parse_or_fail(body, got, "call body");
  auto d = json_diff(want["body"], got);
  CHECK_MESSAGE(d == "", d << "\nactual:\n" << to_json(got, true));
}

}  // namespace

TEST_CASE("golden: image generation") {
  auto files = golden_entries("images");
  CHECK(files.size() >= 20);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    ImageDefaults defaults;
    if (c.HasMember("default_model")) defaults.default_model = c["default_model"].GetString();
    auto plan = plan_image_generation(request_text(c), defaults);
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
      check_call(calls[i], plan->calls[i].path, plan->calls[i].body);
    }
    std::vector<std::string> replies;
    for (auto& r : c["replies"].GetArray()) replies.push_back(to_json(r));
    auto merged = merge_images(*plan, replies, 1700000000);
    if (c.HasMember("expected_merge_error")) {
      REQUIRE_MESSAGE(!merged.has_value(), "expected a merge error, got " << *merged);
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

TEST_CASE(
    "images: a reply count that does not match the plan, or a reply that is not JSON, is a 502") {
  auto plan = plan_image_generation(R"({"model":"gemini-2.5-flash-image","prompt":"x","n":2})");
  REQUIRE(plan.has_value());
  REQUIRE(plan->calls.size() == 2);
  CHECK(merge_images(*plan, {"{}"}, 1).error().status == 502);
  CHECK(merge_images(*plan, {"{}", "<html>"}, 1).error().status == 502);
}

TEST_CASE("golden: speech") {
  auto files = golden_entries("speech");
  CHECK(files.size() >= 15);
  for (const auto& file : files) {
    CAPTURE(file.filename().string());
    rapidjson::Document c;
    load_json(file, c);
    SpeechDefaults defaults;
    if (c.HasMember("default_model")) defaults.default_model = c["default_model"].GetString();
    auto plan = plan_speech(request_text(c), defaults);
    if (c.HasMember("expected_error")) {
      REQUIRE_MESSAGE(!plan.has_value(), "expected an error");
      auto d = error_diff(c["expected_error"], plan.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(plan.has_value(), plan.error().to_json());
    check_call(c["expected_call"], plan->path, plan->body);
    auto audio = render_speech(*plan, to_json(c["reply"]));
    if (c.HasMember("expected_render_error")) {
      REQUIRE_MESSAGE(!audio.has_value(), "expected a render error");
      auto d = error_diff(c["expected_render_error"], audio.error());
      CHECK_MESSAGE(d == "", d);
      continue;
    }
    REQUIRE_MESSAGE(audio.has_value(), audio.error().to_json());
    CHECK(audio->content_type == c["expected_audio"]["content_type"].GetString());
    CHECK(audio->bytes == base64_decode(c["expected_audio"]["bytes_base64"].GetString()));
  }
}

TEST_CASE("speech: usage comes from Gemini's counts; a minute of PCM gets a consistent header") {
  auto plan = plan_speech(R"({"model":"tts-1","voice":"alloy","input":"hi"})");
  REQUIRE(plan.has_value());
  std::string pcm(60 * 24000 * 2, '\x01');
  std::string reply =
      R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/L16;codec=pcm;rate=24000","data":")" +
      detail::base64_encode(pcm) +
      R"("}}]}}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1500,"totalTokenCount":1502}})";
  auto audio = render_speech(*plan, reply);
  REQUIRE(audio.has_value());
  CHECK(audio->bytes.size() == 44 + pcm.size());
  CHECK(audio->bytes.substr(44) == pcm);
  CHECK(audio->usage.completion_tokens == 1500);
  std::string h = detail::wav_header(pcm.size(), 24000);
  CHECK(audio->bytes.substr(0, 44) == h);
  auto le32 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<unsigned char>(h[at])) |
           static_cast<uint32_t>(static_cast<unsigned char>(h[at + 1])) << 8 |
           static_cast<uint32_t>(static_cast<unsigned char>(h[at + 2])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(h[at + 3])) << 24;
  };
  CHECK(le32(4) == 36 + pcm.size());
  CHECK(le32(24) == 24000);
  CHECK(le32(28) == 48000);
  CHECK(le32(40) == pcm.size());
}

TEST_CASE("voices: every OpenAI voice maps to a Gemini voice, Gemini names are canonicalised") {
  for (const char* v : {"alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage",
                        "shimmer", "verse", "marin", "cedar"}) {
    CAPTURE(v);
    auto g = detail::gemini_voice(v);
    REQUIRE(g.has_value());
    CHECK(detail::gemini_voice(*g) == g);  // the target is itself a Gemini voice
  }
  CHECK(detail::gemini_voice("SULAFAT") == std::optional<std::string_view>("Sulafat"));
  CHECK_FALSE(detail::gemini_voice("").has_value());
  CHECK_FALSE(detail::gemini_voice("Kore ").has_value());
  CHECK(detail::pcm_rate("audio/L16;codec=pcm;rate=16000") == 16000);
  CHECK(detail::pcm_rate("audio/L16") == 24000);
  CHECK(detail::pcm_rate("audio/L16;rate=99999999999") == 24000);
}

}  // namespace gemgate::openai::test

namespace gemgate::openai::test {

namespace {

// Every failure is a sane OpenAI error (4xx/5xx with a message).
void check_error(const OpenAIError& e) {
  CHECK(e.status >= 400);
  CHECK(e.status < 600);
  CHECK_FALSE(e.message.empty());
}

}  // namespace

TEST_CASE("hostile: mutated image and speech requests and replies never crash, fail cleanly") {
  std::mt19937 rng(11);
  for (const char* sub : {"images", "speech"}) {
    for (const auto& file : golden_entries(sub)) {
      CAPTURE(file.filename().string());
      rapidjson::Document c;
      load_json(file, c);
      std::string body = request_text(c);
      std::vector<std::string> replies;
      if (c.HasMember("replies")) {
        for (auto& r : c["replies"].GetArray()) replies.push_back(to_json(r));
      }
      if (c.HasMember("reply")) replies.push_back(to_json(c["reply"]));
      for (int round = 0; round < 200; ++round) {
        std::string mutated = mutate(body, rng);
        if (std::string_view(sub) == "images") {
          auto plan = plan_image_generation(mutated);
          if (!plan) {
            check_error(plan.error());
            continue;
          }
          CHECK(plan->calls.size() >= 1);
          CHECK(plan->calls.size() <= kMaxImagesPerRequest);
          std::vector<std::string> bad(plan->calls.size(),
                                       replies.empty() ? "{}" : mutate(replies[0], rng));
          auto merged = merge_images(*plan, bad, 1);
          if (!merged) check_error(merged.error());
        } else {
          auto plan = plan_speech(mutated);
          if (!plan) {
            check_error(plan.error());
            continue;
          }
          auto audio = render_speech(*plan, replies.empty() ? "{}" : mutate(replies[0], rng));
          if (!audio) check_error(audio.error());
        }
      }
    }
  }
}

TEST_CASE("hostile: image or audio data that is not whole base64 is a 502, not a broken file") {
  CHECK(detail::is_whole_base64("AAAA"));
  CHECK(detail::is_whole_base64("AQACAA=="));
  CHECK(detail::is_whole_base64("AQACAA"));
  CHECK(detail::is_whole_base64("_-8="));
  CHECK_FALSE(detail::is_whole_base64(""));
  CHECK_FALSE(detail::is_whole_base64("AAAAA"));   // 4k+1: cut in the middle of a byte
  CHECK_FALSE(detail::is_whole_base64("AA=A"));    // padding inside
  CHECK_FALSE(detail::is_whole_base64("AAA==="));  // three pads
  CHECK_FALSE(detail::is_whole_base64("AAAA\n"));  // a raw control character
  CHECK_FALSE(detail::is_whole_base64("not base64!"));

  auto image = plan_image_generation(R"({"model":"gemini-2.5-flash-image","prompt":"x"})");
  REQUIRE(image.has_value());
  auto reply = [](std::string data) {
    return R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":")" +
           data + R"("}}]},"finishReason":"STOP"}]})";
  };
  auto good = merge_images(*image, {reply("iVBORw0KGgo=")}, 1);
  CHECK(good.has_value());
  for (const char* bad : {"<html>oops</html>", "iVBORw0KG", "iVB=ORw0"}) {
    auto r = merge_images(*image, {reply(bad)}, 1);
    REQUIRE_MESSAGE(!r.has_value(), bad);
    CHECK(r.error().status == 502);
  }

  auto speech = plan_speech(R"({"model":"tts-1","voice":"alloy","input":"hi"})");
  REQUIRE(speech.has_value());
  auto audio = [](std::string data) {
    return R"({"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"audio/L16;rate=24000","data":")" +
           data + R"("}}]}}]})";
  };
  CHECK(render_speech(*speech, audio("AQACAA==")).has_value());
  for (const char* bad : {"AQAC*A==", "AQACA"}) {
    auto r = render_speech(*speech, audio(bad));
    REQUIRE_MESSAGE(!r.has_value(), bad);
    CHECK(r.error().status == 502);
  }
}

TEST_CASE(
    "hostile: a huge or binary voice, size or response_format is quoted clipped, not echoed") {
  const std::string huge = "vvv\\u0001" + std::string(1 << 20, 'v');  // JSON text: \u0001
  for (const std::string& body :
       {R"({"model":"tts-1","input":"hi","voice":")" + huge + R"("})",
        R"({"model":"tts-1","input":"hi","voice":"alloy","response_format":")" + huge + R"("})"}) {
    auto plan = plan_speech(body);
    REQUIRE(!plan.has_value());
    CHECK(plan.error().status == 400);
    CHECK(plan.error().message.size() < 1000);  // the list of voices, not 1 MiB
    CHECK(plan.error().message.find('\x01') == std::string::npos);
    CHECK(plan.error().message.find("vvv?vvv") != std::string::npos);
  }
  auto image = plan_image_generation(R"({"model":"gemini-2.5-flash-image","prompt":"x","size":")" +
                                     huge + R"("})");
  REQUIRE(!image.has_value());
  CHECK(image.error().message.size() < 600);
  CHECK(detail::echo("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(detail::echo(std::string(63, 'a') + "\xC3\xA9") == std::string(63, 'a') + "\u2026");
}

}  // namespace gemgate::openai::test
