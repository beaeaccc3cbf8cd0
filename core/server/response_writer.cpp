#include "core/server/response_writer.h"

#include <cstdio>
#include <ctime>

#include "core/http/buffer_pool.h"
#include "core/http/headers.h"

namespace gemgate::server {

namespace {

// RFC 9112 §6.3: these never have a body, so they carry no length either.
bool status_has_body(int status) {
  return !(status < 200 || status == 204 || status == 304);
}

}  // namespace

const std::string& http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_at = now;
  }
  return cached;
}

std::string ResponseWriter::head(const http::Response& r, std::string_view framing,
                                 bool keep_alive) const {
  std::string out = http::take_buffer();  // recycled by the connection once written
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += http::reason_phrase(r.status);
  out += "\r\n";
  // Framing, connection management and the date are ours: a filter's (or the upstream's)
  // values would contradict the bytes that follow.
  for (const auto& [name, value] : r.headers.entries()) {
    if (http::is_hop_by_hop(name) || http::iequals(name, "date")) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!framing.empty()) {
    out += framing;
    out += "\r\n";
  }
  out += "date: ";
  out += date_();
  out += "\r\n";
  out += keep_alive ? "connection: keep-alive\r\n\r\n" : "connection: close\r\n\r\n";
  return out;
}

WireBytes ResponseWriter::whole(const http::Response& r, bool keep_alive) const {
  WireBytes out;
  bool body_allowed = status_has_body(r.status);
  char framing[48];  // formatted here: a std::string of it would be an allocation per answer
  int n = body_allowed
              ? std::snprintf(framing, sizeof framing, "content-length: %zu", r.body.size())
              : 0;
  out.head = head(r, std::string_view(framing, static_cast<size_t>(n)), keep_alive);
  if (body_allowed && !head_only_) out.body = http::take_buffer(r.body);
  return out;
}

std::string ResponseWriter::stream_head(const http::Response& r, bool chunked, bool keep_alive) {
  chunked_ = chunked;
  return head(r, chunked_ ? "transfer-encoding: chunked" : "", keep_alive && chunked_);
}

WireBytes ResponseWriter::chunk(std::string_view data) const {
  WireBytes out;
  if (data.empty() || head_only_) return out;
  if (!chunked_) {
    out.head = std::string(data);
    return out;
  }
  char size_line[24];
  int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  out.head.assign(size_line, static_cast<size_t>(n));
  out.body = std::string(data);
  out.tail = "\r\n";
  return out;
}

WireBytes ResponseWriter::owned_chunk(std::string&& data) const {
  WireBytes out;
  if (data.empty() || head_only_) return out;
  if (!chunked_) {
    out.head = std::move(data);
    return out;
  }
  char size_line[24];
  int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  out.head.assign(size_line, static_cast<size_t>(n));
  out.body = std::move(data);
  out.tail = "\r\n";
  return out;
}

std::string ResponseWriter::end_of_stream() const {
  return chunked_ && !head_only_ ? "0\r\n\r\n" : "";
}

}  // namespace gemgate::server
