// Content parts of OpenAI messages → Gemini parts: text, image_url (data URI,
// downloaded http(s) URL, Files-API/YouTube URI by reference), input_audio and file.
#include <algorithm>

#include "filters/openai/translate/detail/media.h"
#include "filters/openai/translate/detail/request_parts.h"

namespace gemgate::openai::detail {

namespace {

constexpr std::string_view kGeminiFilesBase = "https://generativelanguage.googleapis.com/v1beta/";

OpenAIError image_error(const std::string& param, const std::string& why) {
  return OpenAIError::invalid("Invalid image in '" + param + "': " + why, param,
                              "invalid_image_url");
}

// Counts inlined base64 against the request's budget.
Failure charge(RequestState& st, size_t b64_size, const std::string& param) {
  st.inline_bytes += b64_size;
  if (st.inline_bytes > st.options.max_inline_bytes) {
    return OpenAIError::invalid("Inline media in this request exceeds " +
                                    std::to_string(st.options.max_inline_bytes) + " bytes (at '" +
                                    param + "').",
                                param, "request_too_large");
  }
  return std::nullopt;
}

void push_inline(Value& parts, std::string_view mime, std::string_view b64, Alloc& a) {
  Value data(rapidjson::kObjectType);
  add(data, "mimeType", mime, a);
  add(data, "data", b64, a);
  Value part(rapidjson::kObjectType);
  add(part, "inlineData", std::move(data), a);
  parts.PushBack(std::move(part), a);
}

void push_file_data(Value& parts, std::string_view uri, std::string_view mime, Alloc& a) {
  Value data(rapidjson::kObjectType);
  if (!mime.empty()) add(data, "mimeType", mime, a);
  add(data, "fileUri", uri, a);
  Value part(rapidjson::kObjectType);
  add(part, "fileData", std::move(data), a);
  parts.PushBack(std::move(part), a);
}

// True when the URL is one the caller must download (http(s), not taken by reference).
bool needs_download(std::string_view url) {
  return is_http_url(url) && !is_gemini_file_uri(url) && !is_youtube_url(url);
}

Failure image_part(std::string_view url, const std::string& param, RequestState& st, Value& parts) {
  if (auto d = parse_data_uri(url)) {
    std::string mime = d->mime;
    if (mime.empty()) mime = sniff_mime(base64_decode_prefix(d->payload, 16));
    if (mime.empty()) return image_error(param, "the data URL names no MIME type.");
    if (d->payload.empty()) return image_error(param, "the data URL holds no data.");
    if (auto f = charge(st, d->payload.size(), param)) return f;
    push_inline(parts, mime, d->payload, st.a);
    return std::nullopt;
  }
  if (is_http_url(url) && !needs_download(url)) {
    push_file_data(parts, url, is_youtube_url(url) ? "" : mime_from_extension(url), st.a);
    return std::nullopt;
  }
  if (is_http_url(url)) {
    auto it = st.media.find(std::string(url));
    if (it == st.media.end()) return image_error(param, "the image could not be downloaded.");
    const FetchedMedia& m = it->second;
    if (m.bytes.empty()) return image_error(param, "the downloaded image is empty.");
    std::string mime(sniff_mime(m.bytes));
    if (mime.empty()) {
      std::string declared = normalize_mime(m.mime_type);
      if (!declared.empty() && declared != "application/octet-stream" &&
          declared != "binary/octet-stream") {
        mime = declared;
      }
    }
    if (mime.empty()) mime = mime_from_extension(url);
    if (mime.empty()) return image_error(param, "the type of the downloaded image is unknown.");
    std::string b64 = base64_encode(m.bytes);
    if (auto f = charge(st, b64.size(), param)) return f;
    push_inline(parts, mime, b64, st.a);
    return std::nullopt;
  }
  // Legacy leniency: bare base64 without a data: prefix, typed by its magic bytes.
  if (looks_like_base64(url)) {
    std::string_view mime = sniff_mime(base64_decode_prefix(url, 16));
    if (mime.empty()) return image_error(param, "bare base64 of an unknown image type.");
    if (auto f = charge(st, url.size(), param)) return f;
    push_inline(parts, mime, url, st.a);
    return std::nullopt;
  }
  return image_error(param, "expected a data: URL or an http(s) URL.");
}

Failure audio_part(const Value& audio, const std::string& param, RequestState& st, Value& parts) {
  if (!audio.IsObject()) return wrong_type(param, "an object", audio);
  const Value* data = field(audio, "data");
  const Value* format = field(audio, "format");
  if (!data) return missing_param(join(param, "data"));
  if (!data->IsString()) return wrong_type(join(param, "data"), "a string", *data);
  if (!format) return missing_param(join(param, "format"));
  if (!format->IsString()) return wrong_type(join(param, "format"), "a string", *format);
  auto mime = audio_format_mime(sv(*format));
  if (!mime) {
    return bad_value(join(param, "format"),
                     "supported formats are wav, mp3, flac, opus, ogg, aac, aiff, m4a and pcm16.");
  }
  if (data->GetStringLength() == 0) return bad_value(join(param, "data"), "empty audio.");
  if (auto f = charge(st, data->GetStringLength(), param)) return f;
  push_inline(parts, *mime, sv(*data), st.a);
  return std::nullopt;
}

// {"file_data": data URI or bare base64, "filename"?, "format"?} or {"file_id": "files/..."}.
Failure file_part(const Value& file, const std::string& param, RequestState& st, Value& parts) {
  if (!file.IsObject()) return wrong_type(param, "an object", file);
  std::string declared;  // `format` (LiteLLM's MIME field), else from the file name
  if (const Value* f = field(file, "format"); f && f->IsString()) declared = normalize_mime(sv(*f));
  if (const Value* n = field(file, "filename"); declared.empty() && n && n->IsString()) {
    declared = mime_from_extension(sv(*n));
  }
  if (const Value* data = field(file, "file_data")) {
    std::string p = join(param, "file_data");
    if (!data->IsString()) return wrong_type(p, "a string", *data);
    std::string_view payload = sv(*data);
    std::string mime = declared;
    if (auto d = parse_data_uri(payload)) {
      if (!d->mime.empty()) mime = d->mime;
      payload = d->payload;
    } else if (!looks_like_base64(payload)) {
      return bad_value(p, "expected a base64 data: URL.");
    }
    if (mime.empty()) mime = sniff_mime(base64_decode_prefix(payload, 16));
    if (mime.empty()) {
      return bad_value(p, "unable to determine the MIME type; use a data: URL or set filename.");
    }
    if (payload.empty()) return bad_value(p, "empty file.");
    if (auto f = charge(st, payload.size(), param)) return f;
    push_inline(parts, mime, payload, st.a);
    return std::nullopt;
  }
  if (const Value* id = field(file, "file_id")) {
    std::string p = join(param, "file_id");
    if (!id->IsString()) return wrong_type(p, "a string", *id);
    std::string_view v = sv(*id);
    if (is_gemini_file_uri(v)) {
      push_file_data(parts, v, declared, st.a);
    } else if (v.starts_with("files/") && v.size() > 6 &&
               v.find_first_of("/?#", 6) == std::string_view::npos) {
      push_file_data(parts, std::string(kGeminiFilesBase) + std::string(v), declared, st.a);
    } else {
      return bad_value(p,
                       "Gemini cannot read OpenAI file ids; upload the file with the Gemini Files "
                       "API and pass its name ('files/...') or URI.");
    }
    return std::nullopt;
  }
  return missing_param(join(param, "file_data"));
}

// image_url is {"url": "..."} per the spec; a bare string is accepted too.
const Value* image_url_of(const Value& part) {
  const Value* img = field(part, "image_url");
  if (img && img->IsObject()) return field(*img, "url");
  return img;
}

}  // namespace

Failure user_content_parts(const Value& content, const std::string& param, RequestState& st,
                           Value& parts) {
  Alloc& a = st.a;
  if (content.IsString()) {
    if (content.GetStringLength() > 0) {
      Value part(rapidjson::kObjectType);
      add(part, "text", Value(content, a), a);
      parts.PushBack(std::move(part), a);
    }
    return std::nullopt;
  }
  if (!content.IsArray())
    return wrong_type(param, "a string or an array of content parts", content);
  for (rapidjson::SizeType j = 0; j < content.Size(); ++j) {
    const Value& item = content[j];
    std::string p = join(param, j);
    if (!item.IsObject()) return wrong_type(p, "an object", item);
    const Value* type = field(item, "type");
    if (!type) return missing_param(join(p, "type"));
    if (!type->IsString()) return wrong_type(join(p, "type"), "a string", *type);
    std::string_view t = sv(*type);
    if (t == "text") {
      const Value* text = field(item, "text");
      if (!text) return missing_param(join(p, "text"));
      if (!text->IsString()) return wrong_type(join(p, "text"), "a string", *text);
      if (text->GetStringLength() == 0) continue;
      Value part(rapidjson::kObjectType);
      add(part, "text", Value(*text, a), a);
      parts.PushBack(std::move(part), a);
    } else if (t == "image_url") {
      const Value* url = image_url_of(item);
      std::string up = join(join(p, "image_url"), "url");
      if (!url) return missing_param(up);
      if (!url->IsString()) return wrong_type(up, "a string", *url);
      if (auto f = image_part(sv(*url), up, st, parts)) return f;
    } else if (t == "input_audio") {
      const Value* audio = field(item, "input_audio");
      if (!audio) return missing_param(join(p, "input_audio"));
      if (auto f = audio_part(*audio, join(p, "input_audio"), st, parts)) return f;
    } else if (t == "file") {
      const Value* file = field(item, "file");
      if (!file) return missing_param(join(p, "file"));
      if (auto f = file_part(*file, join(p, "file"), st, parts)) return f;
    } else {
      return bad_value(
          join(p, "type"),
          "'" + std::string(t) +
              "'. Supported values are: 'text', 'image_url', 'input_audio' and 'file'.");
    }
  }
  return std::nullopt;
}

Failure content_texts(const Value& content, const std::string& param, bool allow_refusal,
                      std::vector<std::string>* texts) {
  if (content.IsString()) {
    if (content.GetStringLength() > 0) texts->emplace_back(sv(content));
    return std::nullopt;
  }
  if (!content.IsArray()) return wrong_type(param, "a string or an array of text parts", content);
  for (rapidjson::SizeType j = 0; j < content.Size(); ++j) {
    const Value& item = content[j];
    std::string p = join(param, j);
    if (!item.IsObject()) return wrong_type(p, "an object", item);
    const Value* type = field(item, "type");
    if (!type) return missing_param(join(p, "type"));
    if (!type->IsString()) return wrong_type(join(p, "type"), "a string", *type);
    if (sv(*type) == "refusal" && allow_refusal) continue;
    if (sv(*type) != "text") {
      return bad_value(join(p, "type"),
                       "'" + std::string(sv(*type)) + "'. Only 'text' parts are supported here.");
    }
    const Value* text = field(item, "text");
    if (!text) return missing_param(join(p, "text"));
    if (!text->IsString()) return wrong_type(join(p, "text"), "a string", *text);
    if (text->GetStringLength() > 0) texts->emplace_back(sv(*text));
  }
  return std::nullopt;
}

void collect_remote_media(const Value& messages, std::vector<std::string>& urls) {
  if (!messages.IsArray()) return;
  for (const Value& m : messages.GetArray()) {
    const Value* content = field(m, "content");
    if (!content || !content->IsArray()) continue;
    for (const Value& part : content->GetArray()) {
      const Value* type = field(part, "type");
      if (!type || !type->IsString() || sv(*type) != "image_url") continue;
      const Value* url = image_url_of(part);
      if (!url || !url->IsString() || !needs_download(sv(*url))) continue;
      std::string u(sv(*url));
      if (std::find(urls.begin(), urls.end(), u) == urls.end()) urls.push_back(std::move(u));
    }
  }
}

}  // namespace gemgate::openai::detail
