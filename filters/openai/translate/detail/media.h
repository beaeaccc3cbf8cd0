// Internal: data URIs, base64, MIME types of images/audio/files, and which URLs Gemini can take by
// reference. Not part of the public API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gemgate::openai::detail {

// "data:<mime>[;params];base64,<payload>". Only base64 payloads are accepted (Gemini wants base64).
struct DataUri {
  std::string mime;          // lower-cased, parameters stripped; may be empty
  std::string_view payload;  // base64 text, not validated here
};
std::optional<DataUri> parse_data_uri(std::string_view url);

bool is_http_url(std::string_view url);  // http:// or https:// (case-insensitive scheme)

// URLs Gemini fetches itself and that therefore go as fileData instead of being downloaded:
// Gemini Files API URIs and YouTube videos.
bool is_gemini_file_uri(std::string_view url);
bool is_youtube_url(std::string_view url);

std::string base64_encode(std::string_view bytes);
// Decodes at most `max_out` bytes from the front of a base64 text (for sniffing). Stops quietly at
// the first non-base64 character.
std::string base64_decode_prefix(std::string_view b64, size_t max_out);
// True when `s` is non-empty and made only of base64 characters (standard or URL-safe, padding).
bool looks_like_base64(std::string_view s);
// True when `s` is a whole base64 text (standard or URL-safe): non-empty, base64 characters, at
// most two '=' and only at the end, and a length that whole bytes can have (not 4k+1). A reply's
// inlineData must be one before the gateway hands it on as a file.
bool is_whole_base64(std::string_view s);

// "image/png", ... from the leading bytes of a file; empty when unknown.
std::string_view sniff_mime(std::string_view bytes);
// MIME type from a URL's or file name's extension (query and fragment ignored); empty if unknown.
std::string_view mime_from_extension(std::string_view name);
// Lower-cases, drops parameters ("image/PNG; x=y" → "image/png"), maps image/jpg → image/jpeg.
std::string normalize_mime(std::string_view mime);
// OpenAI input_audio.format → MIME ("wav" → "audio/wav", "opus" → "audio/ogg", ...).
std::optional<std::string_view> audio_format_mime(std::string_view format);

}  // namespace gemgate::openai::detail
