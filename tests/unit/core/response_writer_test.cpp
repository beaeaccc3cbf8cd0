// ResponseWriter: the exact bytes of each framing case (Content-Length, chunked, the HTTP/1.0
// stream, HEAD, the no-body statuses, keep-alive vs close, fields we replace), with a fixed date.
#include "core/server/response_writer.h"

#include <doctest/doctest.h>
#include <string>

using namespace gemgate;
using namespace gemgate::server;

namespace {

const std::string& fixed_date() {
  static const std::string date = "Thu, 26 Nov 2026 06:00:00 GMT";
  return date;
}

http::Response json_response(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.set("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

std::string joined(const WireBytes& w) {
  return w.head + w.body + w.tail;
}

}  // namespace

TEST_CASE("a whole response is framed by content-length; keep-alive or close") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  WireBytes keep = writer.whole(json_response(200, "{}"), true);
  CHECK(keep.head ==
        "HTTP/1.1 200 OK\r\n"
        "content-type: application/json\r\n"
        "content-length: 2\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: keep-alive\r\n\r\n");
  CHECK(keep.body == "{}");
  CHECK(keep.tail.empty());

  WireBytes close = writer.whole(json_response(404, "{\"e\":1}"), false);
  CHECK(close.head ==
        "HTTP/1.1 404 Not Found\r\n"
        "content-type: application/json\r\n"
        "content-length: 7\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: close\r\n\r\n");
  CHECK(close.body == "{\"e\":1}");
}

TEST_CASE("an empty whole body still says content-length: 0") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  http::Response r;
  r.status = 200;
  WireBytes w = writer.whole(r, true);
  CHECK(joined(w) ==
        "HTTP/1.1 200 OK\r\n"
        "content-length: 0\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: keep-alive\r\n\r\n");
}

TEST_CASE("HEAD: the length of the body it stands for, without the body") {
  ResponseWriter writer(&fixed_date);
  writer.begin(true);
  WireBytes w = writer.whole(json_response(200, "hello"), true);
  CHECK(w.head ==
        "HTTP/1.1 200 OK\r\n"
        "content-type: application/json\r\n"
        "content-length: 5\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: keep-alive\r\n\r\n");
  CHECK(w.body.empty());
  CHECK(w.tail.empty());
}

TEST_CASE("set_head_only(false): the connection's own error answer to HEAD carries its body") {
  ResponseWriter writer(&fixed_date);
  writer.begin(true);
  writer.set_head_only(false);
  WireBytes w = writer.whole(json_response(408, "late"), false);
  CHECK(w.head ==
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        "content-length: 4\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: close\r\n\r\n");
  CHECK(w.body == "late");
}

TEST_CASE("1xx, 204 and 304 carry neither content-length nor a body") {
  for (int status : {101, 204, 304}) {
    CAPTURE(status);
    ResponseWriter writer(&fixed_date);
    writer.begin(false);
    WireBytes w = writer.whole(json_response(status, "ignored"), true);
    CHECK(w.head == "HTTP/1.1 " + std::to_string(status) + " " +
                        std::string(http::reason_phrase(status)) +
                        "\r\n"
                        "content-type: application/json\r\n"
                        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
                        "connection: keep-alive\r\n\r\n");
    CHECK(w.body.empty());
  }
}

TEST_CASE(
    "hop-by-hop fields and a date of the response are replaced by ours; others kept in order") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  http::Response r;
  r.status = 200;
  r.headers.add("x-b", "2");
  r.headers.add("Connection", "upgrade");
  r.headers.add("Transfer-Encoding", "chunked");
  r.headers.add("Content-Length", "99");
  r.headers.add("Keep-Alive", "timeout=5");
  r.headers.add("Date", "Mon, 01 Jan 2001 00:00:00 GMT");
  r.headers.add("x-a", "1");
  r.body = "abc";
  CHECK(joined(writer.whole(r, true)) ==
        "HTTP/1.1 200 OK\r\n"
        "x-b: 2\r\n"
        "x-a: 1\r\n"
        "content-length: 3\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: keep-alive\r\n\r\n"
        "abc");
}

TEST_CASE("a chunked stream: head, hex-sized chunks, the last chunk") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  http::Response r;
  r.status = 200;
  r.headers.set("content-type", "text/event-stream");
  CHECK(writer.stream_head(r, true, true) ==
        "HTTP/1.1 200 OK\r\n"
        "content-type: text/event-stream\r\n"
        "transfer-encoding: chunked\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: keep-alive\r\n\r\n");
  WireBytes small = writer.chunk("hello");
  CHECK(small.head == "5\r\n");
  CHECK(small.body == "hello");
  CHECK(small.tail == "\r\n");
  CHECK(joined(writer.chunk(std::string(26, 'x'))) == "1a\r\n" + std::string(26, 'x') + "\r\n");
  CHECK(writer.chunk("").empty());  // an empty chunk would be the last-chunk: never sent
  CHECK(writer.end_of_stream() == "0\r\n\r\n");
}

TEST_CASE("owned_chunk: the same bytes as chunk, in the chunk's own memory") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  http::Response r;
  r.status = 200;
  writer.stream_head(r, true, true);
  std::string data(100, 'd');
  const char* memory = data.data();
  WireBytes w = writer.owned_chunk(std::move(data));
  CHECK(joined(w) == joined(writer.chunk(std::string(100, 'd'))));
  CHECK(w.body.data() == memory);  // moved, not copied
  CHECK(writer.owned_chunk(std::string()).empty());

  writer.begin(false);
  writer.stream_head(r, false, true);  // HTTP/1.0: raw bytes
  std::string raw(50, 'r');
  memory = raw.data();
  WireBytes plain = writer.owned_chunk(std::move(raw));
  CHECK(plain.head == std::string(50, 'r'));
  CHECK(plain.head.data() == memory);
  CHECK(plain.body.empty());

  writer.begin(true);  // HEAD: nothing
  writer.stream_head(r, true, true);
  CHECK(writer.owned_chunk(std::string(10, 'h')).empty());
}

TEST_CASE("a chunked stream that must close says so in its head") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  http::Response r;
  r.status = 200;
  CHECK(writer.stream_head(r, true, false) ==
        "HTTP/1.1 200 OK\r\n"
        "transfer-encoding: chunked\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: close\r\n\r\n");
}

TEST_CASE("an unchunked stream (HTTP/1.0): raw bytes, no framing field, connection: close") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  http::Response r;
  r.status = 200;
  CHECK(writer.stream_head(r, false, true) ==
        "HTTP/1.1 200 OK\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: close\r\n\r\n");
  WireBytes w = writer.chunk("data: 1\n\n");
  CHECK(w.head == "data: 1\n\n");
  CHECK(w.body.empty());
  CHECK(w.tail.empty());
  CHECK(writer.end_of_stream().empty());  // the close ends the body
}

TEST_CASE("a streamed answer to HEAD: the head only, no chunks, no last chunk") {
  ResponseWriter writer(&fixed_date);
  writer.begin(true);
  http::Response r;
  r.status = 200;
  CHECK(writer.stream_head(r, true, true) ==
        "HTTP/1.1 200 OK\r\n"
        "transfer-encoding: chunked\r\n"
        "date: Thu, 26 Nov 2026 06:00:00 GMT\r\n"
        "connection: keep-alive\r\n\r\n");
  CHECK(writer.chunk("hello").empty());
  CHECK(writer.end_of_stream().empty());
}

TEST_CASE("begin() forgets the previous stream's chunked framing") {
  ResponseWriter writer(&fixed_date);
  writer.begin(false);
  http::Response r;
  r.status = 200;
  writer.stream_head(r, true, true);
  writer.begin(false);
  CHECK(writer.end_of_stream().empty());
  CHECK(writer.chunk("x").head == "x");
}

TEST_CASE("the 100-continue interim line") {
  CHECK(ResponseWriter::continue_line() == "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST_CASE("http_date is an IMF-fixdate in GMT") {
  const std::string& date = http_date();
  CHECK(date.size() == 29);  // "Thu, 26 Nov 2026 06:00:00 GMT"
  CHECK(date.substr(3, 2) == ", ");
  CHECK(date.substr(25) == " GMT");
}
