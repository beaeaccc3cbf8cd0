// OpenAI `POST /v1/images/generations` → Imagen `:predict` or a Gemini image model's
// `:generateContent`, and the answers back into an OpenAI ImagesResponse.
//
//   auto plan = plan_image_generation(body, {.default_model = "imagen-4.0-generate-001"});
//   if (!plan) return reply(plan.error());
//   std::vector<std::string> replies;
//   for (const auto& call : plan->calls) replies.push_back(post(call.path, call.body));
//   auto res = merge_images(*plan, replies, now());   // {"created","data":[{"b64_json"}],...}
//
// Mapping decisions:
//  * model: absent or an OpenAI image model (dall-e-2, dall-e-3, gpt-image-*) → `default_model`;
//    any other name is used as it is. A name starting with "imagen" is an Imagen model (one
//    `:predict` call, parameters.sampleCount = n); any other is a Gemini image model (n
//    generateContent calls with responseModalities ["TEXT","IMAGE"], one image each).
//  * n: 1..4 (Imagen's limit; the same cap for Gemini image models).
//  * size: "auto" or absent → the model's default; "WxH" → the aspect ratio W:H reduced, which
//    must be one the model family takes (Imagen 1:1 3:4 4:3 9:16 16:9; Gemini image models also
//    2:3 3:2 4:5 5:4 21:9); DALL·E 3's 1792x1024 / 1024x1792 count as 16:9 / 9:16. The size picks
//    the aspect ratio only: the pixel size is the model's own. Any other size → 400 naming the
//    sizes that work.
//  * response_format: "b64_json" (default); "url" → 400 (the gateway does not host images).
//  * quality: auto/standard/low/medium → the model's default; hd/high → imageSize "2K" (Imagen
//    parameters.sampleImageSize, Gemini generationConfig.imageConfig.imageSize; a model without
//    2K answers Gemini's own 400). style (DALL·E 3 only) → 400; stream → 400;
//    background "transparent" → 400; output_format png (default) or jpeg (Imagen only; webp →
//    400); output_compression → Imagen's compressionQuality for jpeg. moderation, user and
//    partial_images are ignored.
//  * the answer: one data[] entry per image, in order, with b64_json; output_format from the
//    first image's MIME type; usage (input/output tokens) when Gemini reports it. Images a
//    safety filter removed are left out; when none remain → 400 content_policy_violation with
//    Imagen's raiFilteredReason or Gemini's finish/block reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

// Most images per request (Imagen's sampleCount limit).
constexpr int kMaxImagesPerRequest = 4;

struct ImageDefaults {
  // The model used when the request names none or names an OpenAI image model.
  std::string default_model = "imagen-4.0-generate-001";
};

struct ImageCall {
  std::string path;  // "/v1beta/models/{model}:predict" or ":generateContent"
  std::string body;
};

struct ImagePlan {
  std::string model;           // as the client sent it (or the default)
  std::string upstream_model;  // in the paths
  bool imagen = false;         // one :predict call; else one generateContent call per image
  int n = 1;
  std::vector<ImageCall> calls;
};

Expected<ImagePlan> plan_image_generation(std::string_view openai_body,
                                          const ImageDefaults& defaults = {});

// `replies[i]` is the 2xx body of plan.calls[i]; `created` the unix seconds to stamp. The
// ImagesResponse JSON, or a 400 content_policy_violation (no image came back) or a 502 (a
// malformed reply).
Expected<std::string> merge_images(const ImagePlan& plan, const std::vector<std::string>& replies,
                                   int64_t created);

}  // namespace gemgate::openai
