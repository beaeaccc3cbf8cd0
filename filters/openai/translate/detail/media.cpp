#include "filters/openai/translate/detail/media.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace gemgate::openai::detail {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

// Host part of an http(s) URL, lower-cased ("" if not http(s)).
std::string host_of(std::string_view url) {
  size_t p = url.find("://");
  if (p == std::string_view::npos || !is_http_url(url)) return {};
  std::string_view rest = url.substr(p + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    authority = authority.substr(0, colon);
  }
  return lower(authority);
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::optional<DataUri> parse_data_uri(std::string_view url) {
  if (!starts_with_nocase(url, "data:")) return std::nullopt;
  size_t comma = url.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view meta = url.substr(5, comma - 5);
  // The last parameter must be ";base64".
  size_t semi = meta.rfind(';');
  if (semi == std::string_view::npos || lower(meta.substr(semi + 1)) != "base64") {
    return std::nullopt;
  }
  DataUri d;
  d.mime = normalize_mime(meta.substr(0, semi));
  d.payload = url.substr(comma + 1);
  return d;
}

bool is_http_url(std::string_view url) {
  return starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://");
}

bool is_gemini_file_uri(std::string_view url) {
  if (host_of(url) != "generativelanguage.googleapis.com") return false;
  return url.find("/files/") != std::string_view::npos;
}

bool is_youtube_url(std::string_view url) {
  std::string h = host_of(url);
  return h == "youtube.com" || h == "www.youtube.com" || h == "m.youtube.com" || h == "youtu.be";
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                 uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode_prefix(std::string_view b64, size_t max_out) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    int v = b64_value(c);
    if (v < 0) break;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
      if (out.size() >= max_out) break;
    }
  }
  return out;
}

bool looks_like_base64(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (b64_value(c) < 0 && c != '=') return false;
  }
  return true;
}

bool is_whole_base64(std::string_view s) {
  size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  std::string_view body = s.substr(0, s.size() - pad);
  if (body.empty() || body.size() % 4 == 1) return false;
  if (pad > 0 && (body.size() + pad) % 4 != 0) return false;
  for (char c : body) {
    if (b64_value(c) < 0) return false;
  }
  return true;
}

std::string_view sniff_mime(std::string_view b) {
  auto has = [&](size_t at, std::string_view magic) {
    return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
  };
  if (has(0, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (has(0, "\xFF\xD8\xFF")) return "image/jpeg";
  if (has(0, "GIF87a") || has(0, "GIF89a")) return "image/gif";
  if (has(0, "RIFF") && has(8, "WEBP")) return "image/webp";
  if (has(0, "RIFF") && has(8, "WAVE")) return "audio/wav";
  if (has(4, "ftypheic") || has(4, "ftypheix")) return "image/heic";
  if (has(4, "ftypheif") || has(4, "ftypmif1")) return "image/heif";
  if (has(0, "%PDF-")) return "application/pdf";
  if (has(0, "ID3") || has(0, "\xFF\xFB")) return "audio/mp3";
  if (has(0, "fLaC")) return "audio/flac";
  if (has(0, "OggS")) return "audio/ogg";
  return {};
}

std::string_view mime_from_extension(std::string_view name) {
  name = name.substr(0, name.find_first_of("?#"));
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || name.find('/', dot) != std::string_view::npos) return {};
  std::string ext = lower(name.substr(dot + 1));
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kTable{{
      {"png", "image/png"},   {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},   {"webp", "image/webp"},       {"heic", "image/heic"},
      {"heif", "image/heif"}, {"pdf", "application/pdf"},   {"txt", "text/plain"},
      {"md", "text/md"},      {"csv", "text/csv"},          {"html", "text/html"},
      {"xml", "text/xml"},    {"json", "application/json"}, {"wav", "audio/wav"},
      {"mp3", "audio/mp3"},   {"flac", "audio/flac"},       {"ogg", "audio/ogg"},
      {"aac", "audio/aac"},   {"mp4", "video/mp4"},         {"webm", "video/webm"},
      {"mov", "video/mov"},
  }};
  for (const auto& [e, m] : kTable) {
    if (e == ext) return m;
  }
  return {};
}

std::string normalize_mime(std::string_view mime) {
  std::string m = lower(mime.substr(0, mime.find(';')));
  while (!m.empty() && (m.back() == ' ' || m.back() == '\t')) m.pop_back();
  while (!m.empty() && (m.front() == ' ' || m.front() == '\t')) m.erase(m.begin());
  if (m == "image/jpg") m = "image/jpeg";
  return m;
}

std::optional<std::string_view> audio_format_mime(std::string_view format) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kTable{{
      {"wav", "audio/wav"},
      {"mp3", "audio/mp3"},
      {"flac", "audio/flac"},
      {"opus", "audio/ogg"},
      {"ogg", "audio/ogg"},
      {"aac", "audio/aac"},
      {"aiff", "audio/aiff"},
      {"pcm16", "audio/pcm"},
      {"pcm", "audio/pcm"},
      {"m4a", "audio/mp4"},
  }};
  std::string f = lower(format);
  for (const auto& [k, m] : kTable) {
    if (k == f) return m;
  }
  return std::nullopt;
}

}  // namespace gemgate::openai::detail
