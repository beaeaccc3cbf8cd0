#include "core/server/request_parser.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <llhttp.h>

namespace gemgate::server {

struct RequestParser::Impl {
  llhttp_t parser{};

  static RequestParser* self(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }

  // Returns -1 (stop with HPE_USER) once the head grew beyond its limit.
  static int count_head(RequestParser* s, size_t n) {
    s->head_bytes_ += n;
    if (s->head_bytes_ > s->limits_.max_header_bytes) {
      s->fail(431, "request head is larger than " + std::to_string(s->limits_.max_header_bytes) +
                       " bytes");
      return -1;
    }
    return 0;
  }

  static int on_message_begin(llhttp_t* p) {
    RequestParser* s = self(p);
    s->started_ = true;
    s->head_bytes_ = 0;
    return 0;
  }

  static int on_url(llhttp_t* p, const char* at, size_t n) {
    RequestParser* s = self(p);
    s->raw_target_.append(at, n);
    if (s->raw_target_.size() > s->limits_.max_url_bytes) {
      s->fail(414, "request target is longer than " + std::to_string(s->limits_.max_url_bytes) +
                       " bytes");
      return -1;
    }
    return count_head(s, n);
  }

  static int on_header_field(llhttp_t* p, const char* at, size_t n) {
    RequestParser* s = self(p);
    s->field_.append(at, n);
    return count_head(s, n);
  }

  static int on_header_value(llhttp_t* p, const char* at, size_t n) {
    RequestParser* s = self(p);
    s->value_.append(at, n);
    return count_head(s, n);
  }

  static int on_header_value_complete(llhttp_t* p) {
    RequestParser* s = self(p);
    if (s->head_done_) {
      // A chunked trailer field: never merged into the headers (a smuggled Host, credential
      // or framing field would otherwise appear as if the client had sent it in the head).
      s->field_.clear();
      s->value_.clear();
      return count_head(s, 4);
    }
    if (s->request_.headers.size() >= s->limits_.max_headers) {
      s->fail(431, "request has more than " + std::to_string(s->limits_.max_headers) + " headers");
      return -1;
    }
    if (s->request_.headers.empty()) s->request_.headers.reserve(s->expected_fields());
    s->request_.headers.add(std::move(s->field_), std::move(s->value_));
    s->field_.clear();
    s->value_.clear();
    return count_head(s, 4);  // ": " and CRLF
  }

  static int on_headers_complete(llhttp_t* p) {
    RequestParser* s = self(p);
    if (!s->finish_head(static_cast<void*>(p))) return -1;
    if (!s->stop_at_heads_) return 0;
    s->head_pending_ = true;
    return HPE_PAUSED;  // llhttp resumes with the body (or the end of the message) next feed
  }

  static int on_body(llhttp_t* p, const char* at, size_t n) {
    RequestParser* s = self(p);
    if (s->body_total_ + n > s->body_limit_) {
      s->fail(413, "request body is larger than " + std::to_string(s->body_limit_) + " bytes");
      return -1;
    }
    s->body_total_ += n;
    std::string& body = s->request_.body;
    size_t need = body.size() + n;
    if (need > body.capacity() && s->has_length_) {
      // Grown as append would (doubling), but never past the announced length (llhttp never
      // hands more): a body of known length ends in a string of its size, not up to twice it.
      // Into a new string: reserve() on a non-empty one rounds up to twice its capacity.
      std::string grown;
      grown.reserve(static_cast<size_t>(
          std::min<uint64_t>(s->content_length_, std::max(need, 2 * body.capacity()))));
      grown.append(body);
      body.swap(grown);
    }
    body.append(at, n);
    return 0;
  }

  static int on_chunk_header(llhttp_t* p) {
    self(p)->chunk_ext_bytes_ = 0;
    return 0;
  }

  static int on_chunk_extension(llhttp_t* p, const char*, size_t n) {
    RequestParser* s = self(p);
    s->chunk_ext_bytes_ += n;
    if (s->chunk_ext_bytes_ > s->limits_.max_chunk_extension_bytes) {
      s->fail(400, "chunk extensions are too long");
      return -1;
    }
    return 0;
  }

  static int on_message_complete(llhttp_t* p) {
    RequestParser* s = self(p);
    s->complete_ = true;
    // We never switch protocols: after an Upgrade request the connection ends with its answer
    // (llhttp would otherwise hand back a phantom request on the next feed).
    s->keep_alive_ = llhttp_should_keep_alive(p) != 0 && !p->upgrade;
    return HPE_PAUSED;
  }

  static const llhttp_settings_t* settings() {
    static const llhttp_settings_t kSettings = [] {
      llhttp_settings_t st;
      llhttp_settings_init(&st);
      st.on_message_begin = &on_message_begin;
      st.on_url = &on_url;
      st.on_header_field = &on_header_field;
      st.on_header_value = &on_header_value;
      st.on_header_value_complete = &on_header_value_complete;
      st.on_headers_complete = &on_headers_complete;
      st.on_body = &on_body;
      st.on_chunk_header = &on_chunk_header;
      st.on_chunk_extension_name = &on_chunk_extension;
      st.on_chunk_extension_value = &on_chunk_extension;
      st.on_message_complete = &on_message_complete;
      return st;
    }();
    return &kSettings;
  }
};

RequestParser::RequestParser(const ServerLimits& limits)
    : limits_(limits), impl_(std::make_unique<Impl>()), body_limit_(limits.max_body_bytes) {
  llhttp_init(&impl_->parser, HTTP_REQUEST, Impl::settings());
  impl_->parser.data = this;
}

RequestParser::~RequestParser() = default;

size_t RequestParser::expected_fields() const {
  // scan_head() runs over each piece of input before llhttp does: when this piece held the
  // whole head, its line count is known and the field list gets its size plus one (it lives as
  // long as the request, which for a stream may be minutes: 10 000 of them add up). The one
  // spare is for the field a gateway chain adds (the pool key): without it that one field
  // doubled the list, a second allocation of twice the size.
  if (scan_done_ && scan_lines_ > 1) return scan_lines_;  // less the request line, plus one
  return http::HeaderMap::kTypicalFields;
}

RequestParser::State RequestParser::fail(int status, std::string message) {
  if (error_status_ == 0) {
    error_status_ = status;
    error_message_ = std::move(message);
  }
  return State::kError;
}

bool RequestParser::scan_head(const char* data, size_t size) {
  const char* const end = data + size;
  size_t i = 0;
  while (i < size && !scan_done_) {
    char c = data[i];
    if (scan_prev_ == '\r' && c != '\n') {
      fail(400, "malformed HTTP request: CR not followed by LF");
      return false;
    }
    if (c == '\n') {
      if (scan_prev_ != '\r') {
        fail(400, "malformed HTTP request: line ended by a bare LF");
        return false;
      }
      if (scan_line_len_ == 0 && scan_lines_ > 0) scan_done_ = true;  // the empty line
      if (scan_line_len_ > 0) ++scan_lines_;
      scan_line_len_ = 0;
      scan_prev_ = c;
      ++i;
      continue;
    }
    if (c == '\r') {
      scan_prev_ = c;
      ++i;
      continue;
    }
    if (scan_line_len_ == 0 && scan_lines_ > 0) {
      // First byte of a header line: a continuation (obs-fold) or a field without a name.
      if (c == ' ' || c == '\t') {
        fail(400, "malformed HTTP request: folded or indented header line");
        return false;
      }
      if (c == ':') {
        fail(400, "malformed HTTP request: header field without a name");
        return false;
      }
    }
    // The rest of the line's content up to its CR or LF, found with memchr instead of byte by
    // byte (the bytes in between need no check of their own).
    const char* from = data + i + 1;
    const char* lf = static_cast<const char*>(std::memchr(from, '\n', end - from));
    const char* limit = lf ? lf : end;
    const char* cr = static_cast<const char*>(std::memchr(from, '\r', limit - from));
    const char* stop = cr ? cr : limit;
    scan_line_len_ += static_cast<size_t>(stop - (data + i));
    scan_prev_ = stop[-1];
    i = static_cast<size_t>(stop - data);
  }
  return true;
}

RequestParser::State RequestParser::feed(const char* data, size_t size, size_t* consumed) {
  *consumed = 0;
  if (error_status_ != 0) return State::kError;
  if (head_pending_) return State::kHead;  // take_head() first
  if (!scan_head(data, size)) return State::kError;
  // llhttp runs pending steps (e.g. the end of a body-less request after a head stop) even
  // for empty input, but wants a valid pointer.
  static const char kNothing = 0;
  llhttp_errno_t err = llhttp_execute(&impl_->parser, size ? data : &kNothing, size);
  if (err == HPE_OK) {
    *consumed = size;
    return State::kNeedMore;
  }
  if (err == HPE_PAUSED && head_pending_) {
    const char* pos = llhttp_get_error_pos(&impl_->parser);
    *consumed = pos && size ? static_cast<size_t>(pos - data) : 0;
    return State::kHead;
  }
  if ((err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) && !complete_) {
    return fail(400, "protocol upgrades are not supported");
  }
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    const char* pos = llhttp_get_error_pos(&impl_->parser);
    *consumed = pos ? static_cast<size_t>(pos - data) : size;
    if (err == HPE_PAUSED_UPGRADE) keep_alive_ = false;  // we never switch protocols
    return State::kComplete;
  }
  if (error_status_ != 0) return State::kError;
  const char* reason = llhttp_get_error_reason(&impl_->parser);
  return fail(400,
              std::string("malformed HTTP request: ") + (reason ? reason : llhttp_errno_name(err)));
}

bool RequestParser::finish_head(void* opaque) {
  llhttp_t* p = static_cast<llhttp_t*>(opaque);
  head_done_ = true;
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  request_.version_minor = p->http_minor;
  if (p->http_major != 1) {
    fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
    return false;
  }
  if (request_.method == "CONNECT") {
    fail(501, "CONNECT is not supported");
    return false;
  }
  // Request target: origin-form "/path?query", or absolute-form "http://host/path?query".
  std::string_view target(raw_target_);
  std::string authority;
  if (target.size() > 7 &&
      (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://")) {
    size_t scheme_end = target.find("://") + 3;
    size_t path_start = target.find('/', scheme_end);
    authority = std::string(target.substr(scheme_end, path_start - scheme_end));
    target =
        path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
  }
  // A fragment is the client's own business (RFC 9110 §4.2.4): it never belongs in a request
  // target. Accepted, "#" would end up in the upstream URL, where it cuts off everything behind
  // it, the query included (e.g. "alt=sse", which changes the answer's format).
  if (raw_target_.find('#') != std::string::npos) {
    fail(400, "request target must not contain a fragment ('#')");
    return false;
  }
  if (target.empty() || target[0] != '/') {
    fail(400, "request target must be an absolute path");
    return false;
  }
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  if (q != std::string_view::npos) request_.query = std::string(target.substr(q + 1));
  auto normalized = http::normalize_path(raw_path);
  if (!normalized) {
    fail(400, "request path is malformed");
    return false;
  }
  request_.path = std::move(*normalized);
  // Host: exactly one on HTTP/1.1, and it must agree with an absolute-form target.
  size_t hosts = request_.headers.count("host");
  if (hosts > 1) {
    fail(400, "request has more than one Host header");
    return false;
  }
  if (hosts == 0 && request_.version_minor >= 1) {
    fail(400, "HTTP/1.1 request without a Host header");
    return false;
  }
  if (!authority.empty() && hosts == 1 &&
      !http::iequals(*request_.headers.get("host"), authority)) {
    fail(400, "Host header does not match the request target");
    return false;
  }
  if (request_.version_minor == 0 && request_.headers.has("transfer-encoding")) {
    fail(400, "Transfer-Encoding is not allowed in HTTP/1.0");
    return false;
  }
  has_length_ = (p->flags & F_CONTENT_LENGTH) != 0;
  content_length_ = has_length_ ? p->content_length : 0;
  // With stop_at_heads the caller judges the length against the route's limit (set_body_limit).
  if (!stop_at_heads_ && content_length_exceeds_limit()) {
    fail(413, "request body is larger than " + std::to_string(body_limit_) + " bytes");
    return false;
  }
  // Known from the head already; refined when the message is complete.
  keep_alive_ = llhttp_should_keep_alive(p) != 0 && !(p->flags & F_UPGRADE);
  body_expected_ =
      (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
  const std::string* expect = request_.headers.get("expect");
  if (expect && http::iequals(*expect, "100-continue")) {
    wants_continue_ = body_expected_;
  }
  return true;
}

http::Request RequestParser::take_head() {
  http::Request head;
  head.method = std::move(request_.method);
  head.path = std::move(request_.path);
  head.query = std::move(request_.query);
  head.version_minor = request_.version_minor;
  head.headers = std::move(request_.headers);
  request_.method.clear();
  request_.path.clear();
  request_.query.clear();
  request_.headers = http::HeaderMap{};
  head_pending_ = false;
  llhttp_resume(&impl_->parser);
  return head;
}

http::Request RequestParser::take_request() {
  http::Request out = std::move(request_);
  request_ = http::Request{};
  raw_target_.clear();
  field_.clear();
  value_.clear();
  head_bytes_ = 0;
  started_ = false;
  head_done_ = false;
  complete_ = false;
  wants_continue_ = false;
  head_pending_ = false;
  body_expected_ = false;
  has_length_ = false;
  content_length_ = 0;
  body_total_ = 0;
  body_limit_ = limits_.max_body_bytes;
  scan_prev_ = 0;
  scan_line_len_ = 0;
  scan_lines_ = 0;
  scan_done_ = false;
  llhttp_resume(&impl_->parser);
  return out;
}

}  // namespace gemgate::server
