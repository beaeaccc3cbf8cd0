#include "core/http/message.h"

#include <vector>

namespace gemgate::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Splits "a=b&c=d" into raw (still encoded) name/value pairs, calling f(name, value, begin, end)
// with the byte range of the whole pair inside `query`.
template <class F>
void for_each_param(std::string_view query, F&& f) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string_view name = pair.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      if (!f(name, value, pos, amp)) return;
    }
    pos = amp + 1;
  }
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::optional<std::string> found;
  for_each_param(query, [&](std::string_view n, std::string_view v, size_t, size_t) {
    auto decoded_name = percent_decode(n, true);
    if (decoded_name && *decoded_name == name) {
      found = percent_decode(v, true);
      if (!found) found = std::string(v);
      return false;
    }
    return true;
  });
  return found;
}

bool Request::remove_query_param(std::string_view name) {
  std::string kept;
  bool removed = false;
  for_each_param(query, [&](std::string_view n, std::string_view, size_t b, size_t e) {
    auto decoded_name = percent_decode(n, true);
    if (decoded_name && *decoded_name == name) {
      removed = true;
    } else {
      if (!kept.empty()) kept.push_back('&');
      kept.append(query, b, e - b);
    }
    return true;
  });
  if (removed) query = std::move(kept);
  return removed;
}

std::string Request::target() const {
  return query.empty() ? path : path + "?" + query;
}

namespace {

// True when normalising would return `raw` unchanged: no escape, backslash or NUL, no empty
// segment (a doubled slash) and no "." or ".." segment. Almost every request path is like this.
bool already_normal(std::string_view raw) {
  if (raw.find_first_of(std::string_view("%\\\0", 3)) != std::string_view::npos) return false;
  for (size_t pos = 1; pos < raw.size();) {
    size_t slash = raw.find('/', pos);
    if (slash == std::string_view::npos) slash = raw.size();
    std::string_view seg = raw.substr(pos, slash - pos);
    if ((seg.empty() && slash < raw.size()) || seg == "." || seg == "..") return false;
    pos = slash + 1;
  }
  return true;
}

}  // namespace

std::optional<std::string> normalize_path(std::string_view raw) {
  if (raw.empty() || raw[0] != '/') return std::nullopt;
  if (already_normal(raw)) return std::string(raw);
  // 1. Decode escapes of unreserved characters only; keep others (e.g. %20) encoded but
  //    upper-case them. Refuse encoded '/', '\\' and NUL outright.
  std::string decoded;
  decoded.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' || c == '\0') return std::nullopt;
    if (c != '%') {
      decoded.push_back(c);
      continue;
    }
    if (i + 2 >= raw.size()) return std::nullopt;
    int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    unsigned char v = static_cast<unsigned char>(hi * 16 + lo);
    if (v == '/' || v == '\\' || v == 0) return std::nullopt;
    if (is_unreserved(v)) {
      decoded.push_back(static_cast<char>(v));
    } else {
      static const char kHex[] = "0123456789ABCDEF";
      decoded.push_back('%');
      decoded.push_back(kHex[v >> 4]);
      decoded.push_back(kHex[v & 15]);
    }
    i += 2;
  }
  // 2. Split into segments, dropping empty ones and resolving dot segments.
  std::vector<std::string_view> segments;
  std::string_view view(decoded);
  size_t pos = 1;
  bool trailing_slash = decoded.size() > 1 && decoded.back() == '/';
  while (pos <= view.size()) {
    size_t slash = view.find('/', pos);
    if (slash == std::string_view::npos) slash = view.size();
    std::string_view seg = view.substr(pos, slash - pos);
    if (seg.empty() || seg == ".") {
      // merged slash or current directory
    } else if (seg == "..") {
      if (segments.empty()) return std::nullopt;
      segments.pop_back();
    } else {
      segments.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string out;
  out.reserve(decoded.size());
  for (std::string_view seg : segments) {
    out.push_back('/');
    out.append(seg);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace gemgate::http
