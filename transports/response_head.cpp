// Response-head assembly from libcurl header lines; see response_head.h.
#include "transports/response_head.h"

#include <string>

namespace gemgate::transport::detail {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

}  // namespace

int parse_status_line(std::string_view line) {
  if (line.substr(0, 5) != "HTTP/") return 0;
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos || line.size() < sp + 4) return 0;
  int code = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    char c = line[i];
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
  }
  // A fourth digit would make this something other than a three-digit status code.
  if (line.size() > sp + 4 && line[sp + 4] != ' ' && line[sp + 4] != '\r' && line[sp + 4] != '\n')
    return 0;
  return code >= 100 ? code : 0;
}

void ResponseHead::reset(size_t max_bytes) {
  max_bytes_ = max_bytes;
  bytes_ = 0;
  status_ = 0;
  in_head_ = false;
  fields_.clear();
}

http::HeaderMap ResponseHead::take_headers() {
  http::HeaderMap map(std::move(fields_));
  fields_ = {};
  return map;
}

ResponseHead::Step ResponseHead::feed(std::string_view line) {
  // The cap counts every head, interim ones included: 1xx heads are dropped, but a server
  // sending them without end must not keep us busy forever.
  bytes_ += line.size();
  if (max_bytes_ > 0 && bytes_ > max_bytes_) return Step::kTooLarge;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);

  if (line.empty()) {
    if (!in_head_) return Step::kMalformed;
    if (status_ >= 100 && status_ < 200 && status_ != 101) {
      in_head_ = false;  // interim head (100 Continue, 103 Early Hints): wait for the real one
      status_ = 0;
      fields_.clear();
      return Step::kMore;
    }
    return Step::kComplete;
  }
  if (line.substr(0, 5) == "HTTP/") {
    status_ = parse_status_line(line);
    if (status_ == 0) return Step::kMalformed;
    in_head_ = true;
    fields_.clear();
    return Step::kMore;
  }
  if (!in_head_) return Step::kMalformed;
  if (line.front() == ' ' || line.front() == '\t') {
    // obs-fold (RFC 9112 §5.2): a proxy replaces it with a space before passing the value on.
    if (!fields_.empty()) {
      std::string& value = fields_.back().second;
      std::string_view more = trim(line);
      if (!more.empty()) {
        if (!value.empty()) value += ' ';
        value.append(more);
      }
    }
    return Step::kMore;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return Step::kMore;  // not a field: skip
  std::string_view name = trim(line.substr(0, colon));
  if (name.empty()) return Step::kMore;
  if (fields_.empty()) fields_.reserve(http::HeaderMap::kTypicalFields);
  fields_.emplace_back(lower(name), std::string(trim(line.substr(colon + 1))));
  return Step::kMore;
}

void strip_decoded_body_fields(http::HeaderMap& headers) {
  const std::string* coding = headers.get("content-encoding");
  if (coding && !http::iequals(*coding, "identity")) {
    headers.remove("content-encoding");
    headers.remove("content-length");
  }
  headers.remove("transfer-encoding");
}

}  // namespace gemgate::transport::detail
