// plan_image_generation() and merge_images(): OpenAI image generation ⇄ Imagen / Gemini image
// models (see images.h for the mapping).
#include "filters/openai/translate/images.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "filters/openai/translate/chat_request.h"
#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/media.h"

namespace gemgate::openai {

using detail::Alloc;
using detail::Document;
using detail::field;
using detail::sv;
using detail::Value;

namespace {

constexpr std::string_view kImagenRatios[] = {"1:1", "3:4", "4:3", "9:16", "16:9"};
constexpr std::string_view kGeminiRatios[] = {"1:1", "2:3", "3:2",  "3:4",  "4:3",
                                              "4:5", "5:4", "9:16", "16:9", "21:9"};

bool is_openai_image_model(std::string_view m) {
  return m == "dall-e-2" || m == "dall-e-3" || m.starts_with("gpt-image");
}

// The optional string field `key`: nullopt when absent, an error when not a string.
Expected<std::optional<std::string>> optional_string(const Value& root, const char* key) {
  const Value* v = field(root, key);
  if (!v) return std::optional<std::string>();
  if (!v->IsString()) return detail::wrong_type(key, "a string", *v);
  return std::optional<std::string>(std::string(sv(*v)));
}

// "WxH" → the reduced "W:H" ratio; "" when `size` is not of that form.
std::string ratio_of(std::string_view size) {
  if (size == "1792x1024") return "16:9";
  if (size == "1024x1792") return "9:16";
  size_t x = size.find('x');
  if (x == std::string_view::npos || x == 0 || x + 1 >= size.size() || size.size() > 11) return "";
  long w = 0, h = 0;
  for (size_t i = 0; i < size.size(); ++i) {
    if (i == x) continue;
    if (size[i] < '0' || size[i] > '9') return "";
    long& t = i < x ? w : h;
    t = t * 10 + (size[i] - '0');
  }
  if (w == 0 || h == 0) return "";
  long g = std::gcd(w, h);
  std::string r = std::to_string(w / g) + ":" + std::to_string(h / g);
  return r == "7:3" ? "21:9" : r;  // Gemini spells the cinema ratio unreduced
}

// The aspect ratio for `size` on the model family, "" for the model's default, or an error.
Expected<std::string> aspect_ratio(const std::optional<std::string>& size, bool imagen) {
  if (!size || *size == "auto") return std::string();
  std::string r = ratio_of(*size);
  auto supported = [&](std::string_view x) {
    if (imagen)
      return std::find(std::begin(kImagenRatios), std::end(kImagenRatios), x) !=
             std::end(kImagenRatios);
    return std::find(std::begin(kGeminiRatios), std::end(kGeminiRatios), x) !=
           std::end(kGeminiRatios);
  };
  if (!r.empty() && supported(r)) return r;
  std::string list = imagen ? "1024x1024 (1:1), 768x1024 (3:4), 1024x768 (4:3), 576x1024 "
                              "(9:16), 1024x576 or 1792x1024 (16:9), 1024x1792 (9:16)"
                            : "1024x1024 (1:1), 1024x1536 (2:3), 1536x1024 (3:2), 768x1024 "
                              "(3:4), 1024x768 (4:3), 1792x1024 (16:9), 1024x1792 (9:16), any "
                              "WxH in 4:5, 5:4 or 21:9";
  return detail::bad_value("size", "'" + detail::echo(*size) +
                                       "' is not an aspect ratio this model can make. " +
                                       "Supported: auto, " + list +
                                       " (the size chooses the aspect ratio; the pixel size is "
                                       "the model's own).");
}

// Everything but prompt, model, n and size: refused or mapped onto `quality_2k` / `jpeg`.
struct Options {
  bool quality_2k = false;
  bool jpeg = false;
  std::optional<int64_t> compression;
};

Expected<Options> read_options(const Value& root, bool imagen) {
  Options o;
  auto rf = optional_string(root, "response_format");
  if (!rf) return rf.error();
  if (*rf && **rf == "url") {
    return OpenAIError::invalid(
        "response_format 'url' is not supported: the gateway does not host images. Use "
        "'b64_json' (the default here).",
        "response_format", "unsupported_value");
  }
  if (*rf && **rf != "b64_json") return detail::bad_value("response_format", "use 'b64_json'.");
  auto quality = optional_string(root, "quality");
  if (!quality) return quality.error();
  if (*quality) {
    const std::string& q = **quality;
    if (q == "hd" || q == "high") {
      o.quality_2k = true;
    } else if (q != "auto" && q != "standard" && q != "low" && q != "medium") {
      return detail::bad_value("quality", "use auto, standard, low, medium, high or hd.");
    }
  }
  if (field(root, "style")) {
    return OpenAIError::invalid(
        "'style' is not supported by Gemini's image models; describe the "
        "style in the prompt instead.",
        "style", "unsupported_parameter");
  }
  if (const Value* stream = field(root, "stream");
      stream && stream->IsBool() && stream->GetBool()) {
    return OpenAIError::invalid("Streamed image generation is not supported; omit 'stream'.",
                                "stream", "unsupported_parameter");
  }
  auto bg = optional_string(root, "background");
  if (!bg) return bg.error();
  if (*bg && **bg == "transparent") {
    return OpenAIError::invalid(
        "A transparent background is not supported by Gemini's image "
        "models; use 'auto' or 'opaque'.",
        "background", "unsupported_value");
  }
  auto format = optional_string(root, "output_format");
  if (!format) return format.error();
  if (*format && **format != "png") {
    if (**format != "jpeg" || !imagen) {
      return OpenAIError::invalid("output_format '" + **format + "' is not supported by this " +
                                      "model; use " + (imagen ? "png or jpeg." : "png."),
                                  "output_format", "unsupported_value");
    }
    o.jpeg = true;
  }
  if (const Value* c = field(root, "output_compression")) {
    auto n = detail::as_int(*c);
    if (!n || *n < 0 || *n > 100) return detail::bad_value("output_compression", "use 0..100.");
    o.compression = *n;
  }
  return o;
}

std::string imagen_body(std::string_view prompt, int n, const std::string& ratio,
                        const Options& o) {
  Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  Value instance(rapidjson::kObjectType);
  detail::add(instance, "prompt", prompt, a);
  Value instances(rapidjson::kArrayType);
  instances.PushBack(std::move(instance), a);
  Value params(rapidjson::kObjectType);
  detail::add(params, "sampleCount", Value(n), a);
  if (!ratio.empty()) detail::add(params, "aspectRatio", ratio, a);
  if (o.quality_2k) detail::add(params, "sampleImageSize", "2K", a);
  if (o.jpeg) {
    Value out(rapidjson::kObjectType);
    detail::add(out, "mimeType", "image/jpeg", a);
    if (o.compression) detail::add(out, "compressionQuality", Value(*o.compression), a);
    detail::add(params, "outputOptions", std::move(out), a);
  }
  detail::add(d, "instances", std::move(instances), a);
  detail::add(d, "parameters", std::move(params), a);
  return detail::write_json(d);
}

std::string gemini_body(std::string_view prompt, const std::string& ratio, const Options& o) {
  Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  Value contents = detail::user_text_contents(prompt, a);
  Value modalities(rapidjson::kArrayType);
  modalities.PushBack("TEXT", a).PushBack("IMAGE", a);
  Value config(rapidjson::kObjectType);
  detail::add(config, "responseModalities", std::move(modalities), a);
  Value image_config(rapidjson::kObjectType);
  if (!ratio.empty()) detail::add(image_config, "aspectRatio", ratio, a);
  if (o.quality_2k) detail::add(image_config, "imageSize", "2K", a);
  if (!image_config.ObjectEmpty()) detail::add(config, "imageConfig", std::move(image_config), a);
  detail::add(d, "contents", std::move(contents), a);
  detail::add(d, "generationConfig", std::move(config), a);
  return detail::write_json(d);
}

struct Image {
  std::string mime;
  std::string b64;
};

// What the replies held: images in order, token counts, and why images were missing.
struct Collected {
  std::vector<Image> images;
  int64_t input_tokens = 0, output_tokens = 0;
  bool usage = false;
  std::string filtered_reason;
};

void collect_imagen(const Value& reply, Collected& c) {
  const Value* preds = field(reply, "predictions");
  if (!preds || !preds->IsArray()) return;
  for (const Value& p : preds->GetArray()) {
    const Value* b64 = field(p, "bytesBase64Encoded");
    const Value* mime = field(p, "mimeType");
    if (b64 && b64->IsString() && b64->GetStringLength() > 0) {
      c.images.push_back(
          {mime && mime->IsString() ? std::string(sv(*mime)) : "image/png", std::string(sv(*b64))});
    } else if (const Value* why = field(p, "raiFilteredReason"); why && why->IsString()) {
      c.filtered_reason = sv(*why);
    }
  }
}

void collect_gemini(const Value& reply, Collected& c) {
  if (const Value* um = field(reply, "usageMetadata"); um && um->IsObject()) {
    c.usage = true;
    const Value* p = field(*um, "promptTokenCount");
    const Value* o = field(*um, "candidatesTokenCount");
    c.input_tokens += p ? detail::as_int(*p).value_or(0) : 0;
    c.output_tokens += o ? detail::as_int(*o).value_or(0) : 0;
  }
  const Value* cands = field(reply, "candidates");
  if (!cands || !cands->IsArray() || cands->Empty()) {
    const Value* fb = field(reply, "promptFeedback");
    const Value* br = fb ? field(*fb, "blockReason") : nullptr;
    if (br && br->IsString()) c.filtered_reason = "prompt blocked: " + std::string(sv(*br));
    return;
  }
  const Value& cand = (*cands)[0];
  const Value* content = field(cand, "content");
  const Value* parts = content ? field(*content, "parts") : nullptr;
  size_t before = c.images.size();
  if (parts && parts->IsArray()) {
    for (const Value& part : parts->GetArray()) {
      const Value* inline_data = field(part, "inlineData");
      if (!inline_data) continue;
      const Value* mime = field(*inline_data, "mimeType");
      const Value* data = field(*inline_data, "data");
      if (!mime || !mime->IsString() || !sv(*mime).starts_with("image/")) continue;
      if (!data || !data->IsString() || data->GetStringLength() == 0) continue;
      c.images.push_back({std::string(sv(*mime)), std::string(sv(*data))});
    }
  }
  const Value* fr = field(cand, "finishReason");
  if (c.images.size() == before && fr && fr->IsString()) {
    c.filtered_reason = "finish reason " + std::string(sv(*fr));
  }
}

}  // namespace

Expected<ImagePlan> plan_image_generation(std::string_view openai_body,
                                          const ImageDefaults& defaults) {
  Document doc;
  if (auto ok = detail::parse_request_body(openai_body, doc); !ok) return ok.error();
  const Value* prompt = field(doc, "prompt");
  if (!prompt) return detail::missing_param("prompt");
  if (!prompt->IsString()) return detail::wrong_type("prompt", "a string", *prompt);
  if (prompt->GetStringLength() == 0) {
    return OpenAIError::invalid("Invalid 'prompt': empty string.", "prompt", "empty_string");
  }
  ImagePlan plan;
  auto model = optional_string(doc, "model");
  if (!model) return model.error();
  plan.model = *model ? **model : defaults.default_model;
  std::string target = is_openai_image_model(plan.model) ? defaults.default_model : plan.model;
  auto upstream = upstream_model_name(target);
  if (!upstream) return upstream.error();
  plan.upstream_model = std::move(*upstream);
  plan.imagen = plan.upstream_model.starts_with("imagen");

  if (const Value* n = field(doc, "n")) {
    auto count = detail::as_int(*n);
    if (!count) return detail::wrong_type("n", "an integer", *n);
    if (*count < 1 || *count > kMaxImagesPerRequest) {
      return detail::bad_value("n", "expected 1.." + std::to_string(kMaxImagesPerRequest) +
                                        " (the most Gemini's image models make per request).");
    }
    plan.n = static_cast<int>(*count);
  }
  auto size = optional_string(doc, "size");
  if (!size) return size.error();
  auto ratio = aspect_ratio(*size, plan.imagen);
  if (!ratio) return ratio.error();
  auto options = read_options(doc, plan.imagen);
  if (!options) return options.error();

  std::string base = "/v1beta/models/" + plan.upstream_model;
  if (plan.imagen) {
    plan.calls.push_back({base + ":predict", imagen_body(sv(*prompt), plan.n, *ratio, *options)});
  } else {
    std::string body = gemini_body(sv(*prompt), *ratio, *options);
    for (int i = 0; i < plan.n; ++i) plan.calls.push_back({base + ":generateContent", body});
  }
  return plan;
}

Expected<std::string> merge_images(const ImagePlan& plan, const std::vector<std::string>& replies,
                                   int64_t created) {
  if (replies.size() != plan.calls.size()) {
    return OpenAIError::bad_upstream("The image generation got the wrong number of replies.");
  }
  Collected c;
  for (const std::string& text : replies) {
    Document reply;
    std::string err;
    if (!detail::parse_json(text, reply, &err) || !reply.IsObject()) {
      return OpenAIError::bad_upstream(
          "The Gemini API sent an image reply that is not a JSON "
          "object.");
    }
    if (field(reply, "error")) return translate_gemini_error(200, text);
    if (plan.imagen) {
      collect_imagen(reply, c);
    } else {
      collect_gemini(reply, c);
    }
  }
  for (const Image& img : c.images) {
    if (!detail::is_whole_base64(img.b64)) {
      return OpenAIError::bad_upstream("The Gemini API sent image data that is not base64.");
    }
  }
  if (c.images.empty()) {
    std::string why = c.filtered_reason.empty() ? "" : " (" + c.filtered_reason + ")";
    OpenAIError e = OpenAIError::invalid(
        "No image was generated: the model's safety filters removed every image" + why +
            ". Try a different prompt.",
        std::string("prompt"), std::string("content_policy_violation"));
    return e;
  }
  Document out(rapidjson::kObjectType);
  Alloc& a = out.GetAllocator();
  Value data(rapidjson::kArrayType);
  for (const Image& img : c.images) {
    Value entry(rapidjson::kObjectType);
    detail::add(entry, "b64_json", img.b64, a);
    data.PushBack(std::move(entry), a);
  }
  detail::add(out, "created", Value(created), a);
  detail::add(out, "data", std::move(data), a);
  const std::string& mime = c.images.front().mime;
  detail::add(out, "output_format",
              mime == "image/jpeg"   ? "jpeg"
              : mime == "image/webp" ? "webp"
                                     : "png",
              a);
  if (c.usage) {
    Value usage(rapidjson::kObjectType);
    detail::add(usage, "input_tokens", Value(c.input_tokens), a);
    detail::add(usage, "output_tokens", Value(c.output_tokens), a);
    detail::add(usage, "total_tokens", Value(c.input_tokens + c.output_tokens), a);
    Value details(rapidjson::kObjectType);
    detail::add(details, "text_tokens", Value(c.input_tokens), a);
    detail::add(details, "image_tokens", Value(0), a);
    detail::add(usage, "input_tokens_details", std::move(details), a);
    detail::add(out, "usage", std::move(usage), a);
  }
  return detail::write_json(out);
}

}  // namespace gemgate::openai
