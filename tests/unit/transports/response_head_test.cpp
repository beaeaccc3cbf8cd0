// Pure pieces of the transport: response-head assembly from libcurl's header lines, and the
// libcurl-error → Failure mapping (kinds feed retry decisions; messages must not leak the URL).
#include "transports/response_head.h"

#include <doctest/doctest.h>

#include "transports/curl_failure.h"

using namespace gemgate::transport;
using namespace gemgate::transport::detail;

TEST_CASE("response head: skips interim heads, lower-cases names, unfolds values") {
  ResponseHead h;
  h.reset(4096);
  CHECK(h.feed("HTTP/1.1 100 Continue\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("HTTP/1.1 103 Early Hints\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("Link: </style.css>\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("HTTP/1.1 429 Too Many Requests\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("Retry-After:  7 \r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("X-Folded: one\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("\t two\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("\r\n") == ResponseHead::Step::kComplete);
  CHECK(h.status() == 429);
  auto headers = h.take_headers();
  CHECK(headers.size() == 2);
  CHECK(headers.entries()[0].first == "retry-after");
  CHECK(headers.get_or("retry-after", "") == "7");
  CHECK(headers.get_or("x-folded", "") == "one two");
  CHECK_FALSE(headers.has("link"));  // belonged to the interim head
}

TEST_CASE("response head: HTTP/2 status lines and the byte cap") {
  CHECK(parse_status_line("HTTP/2 200 \r\n") == 200);
  CHECK(parse_status_line("HTTP/1.0 404 Not Found") == 404);
  CHECK(parse_status_line("HTTP/1.1 2000 OK") == 0);
  CHECK(parse_status_line("ICY 200 OK") == 0);

  ResponseHead h;
  h.reset(100);
  CHECK(h.feed("HTTP/1.1 200 OK\r\n") == ResponseHead::Step::kMore);
  CHECK(h.feed("X-Big: " + std::string(90, 'a') + "\r\n") == ResponseHead::Step::kTooLarge);

  h.reset(100);
  CHECK(h.feed("garbage\r\n") == ResponseHead::Step::kMalformed);
}

TEST_CASE("decoded body: content-encoding and content-length go, identity stays") {
  gemgate::http::HeaderMap m;
  m.add("content-encoding", "gzip");
  m.add("content-length", "10");
  m.add("transfer-encoding", "chunked");
  m.add("content-type", "application/json");
  strip_decoded_body_fields(m);
  CHECK(m.size() == 1);
  CHECK(m.has("content-type"));

  gemgate::http::HeaderMap plain;
  plain.add("content-length", "10");
  plain.add("content-encoding", "identity");
  strip_decoded_body_fields(plain);
  CHECK(plain.has("content-length"));
}

TEST_CASE("failure mapping: kinds") {
  auto kind = [](CURLcode code, bool started = false) {
    CurlFailureInput in;
    in.code = code;
    in.head_delivered = started;
    in.host = "h:1";
    return map_curl_failure(in);
  };
  CHECK(kind(CURLE_COULDNT_CONNECT).kind == FailureKind::kConnectFailed);
  CHECK(kind(CURLE_COULDNT_RESOLVE_HOST).kind == FailureKind::kConnectFailed);
  CHECK(kind(CURLE_SSL_CONNECT_ERROR).kind == FailureKind::kConnectFailed);
  CHECK(kind(CURLE_PEER_FAILED_VERIFICATION).kind == FailureKind::kConnectFailed);
  CHECK(kind(CURLE_OPERATION_TIMEDOUT).kind == FailureKind::kTimeout);
  CHECK(kind(CURLE_RECV_ERROR).kind == FailureKind::kReset);
  CHECK(kind(CURLE_SEND_ERROR).kind == FailureKind::kReset);
  CHECK(kind(CURLE_GOT_NOTHING).kind == FailureKind::kReset);
  Failure partial = kind(CURLE_PARTIAL_FILE, true);
  CHECK(partial.kind == FailureKind::kReset);
  CHECK(partial.response_started);
  CHECK(kind(CURLE_WEIRD_SERVER_REPLY).kind == FailureKind::kProtocol);
  CHECK(kind(CURLE_BAD_CONTENT_ENCODING).kind == FailureKind::kProtocol);
  CHECK(kind(CURLE_OUT_OF_MEMORY, true).kind == FailureKind::kInternal);
  CHECK(kind(CURLE_OUT_OF_MEMORY, false).kind == FailureKind::kProtocol);  // header line > 100 KiB

  CurlFailureInput proxy;
  proxy.code = CURLE_RECV_ERROR;
  proxy.proxy_connect_code = 407;
  proxy.host = "h:1";
  CHECK(map_curl_failure(proxy).kind == FailureKind::kConnectFailed);
}

TEST_CASE("a lost session or a refused stream may be resent; a stream's own reset may not") {
  using SF = SessionFailure;
  CHECK(session_failure(CURLE_RECV_ERROR, "", true) == SF::kConnectionLost);
  CHECK(session_failure(CURLE_SEND_ERROR, "", true) == SF::kConnectionLost);
  CHECK(session_failure(CURLE_GOT_NOTHING, "", true) == SF::kConnectionLost);
  CHECK(session_failure(CURLE_HTTP2, "", true) == SF::kConnectionLost);
  CHECK(session_failure(CURLE_PARTIAL_FILE,
                        "HTTP/2 stream 41 was not closed cleanly before end of the underlying "
                        "stream",
                        false) == SF::kConnectionLost);
  CHECK(session_failure(CURLE_HTTP2_STREAM,
                        "HTTP/2 stream 7 was not closed cleanly: ENHANCE_YOUR_CALM (err 11)",
                        false) == SF::kStreamRefused);
  CHECK(session_failure(CURLE_HTTP2_STREAM,
                        "HTTP/2 stream 7 was not closed cleanly: REFUSED_STREAM (err 7)",
                        true) == SF::kStreamRefused);
  // The server's answer about this request, like a 500: the retry filter decides.
  CHECK(session_failure(CURLE_HTTP2_STREAM,
                        "HTTP/2 stream 7 was not closed cleanly: INTERNAL_ERROR (err 2)",
                        true) == SF::kNone);
  CHECK(session_failure(CURLE_OPERATION_TIMEDOUT, "", true) == SF::kNone);
  CHECK(session_failure(CURLE_COULDNT_CONNECT, "", true) == SF::kNone);
  CHECK(session_failure(CURLE_SSL_CONNECT_ERROR, "", true) == SF::kNone);
  // HTTP/1.1: one connection, one request; nothing is resent by the transport.
  CHECK(session_failure(CURLE_RECV_ERROR, "Connection reset by peer", false) == SF::kNone);
  CHECK(session_failure(CURLE_GOT_NOTHING, "Empty reply from server", false) == SF::kNone);
}

TEST_CASE("an https transfer that failed before its version was known counts as HTTP/2") {
  // libcurl 7.88 reports version 0 until an answer's status arrives (found with a TCP reset of
  // the session: when the text named no HTTP/2 the transfer failed over and struck a healthy key).
  CHECK(ran_over_http2(CURL_HTTP_VERSION_2_0, "http://h/"));
  CHECK(ran_over_http2(0, "https://generativelanguage.googleapis.com/v1beta/x"));
  CHECK(ran_over_http2(0, "HTTPS://h/"));
  CHECK_FALSE(ran_over_http2(0, "http://127.0.0.1:8080/v1beta/x"));
  CHECK_FALSE(ran_over_http2(CURL_HTTP_VERSION_1_1, "https://h/"));
  CHECK_FALSE(ran_over_http2(0, "https:/"));
  CHECK(is_https_url("HtTpS://h"));
  CHECK_FALSE(is_https_url("http://h"));
}

TEST_CASE("failure messages name the host, never the path, query or userinfo") {
  CHECK(host_of_url("https://user:pw@example.com:8443/v1/x?key=AIzaSECRET#f") ==
        "example.com:8443");
  CHECK(host_of_url("http://[::1]:80/") == "[::1]:80");
  CHECK(host_of_url("nonsense") == "nonsense");

  std::string url = "https://example.com/v1beta/models/x:generate?key=AIzaSECRET";
  CurlFailureInput in;
  in.code = CURLE_COULDNT_CONNECT;
  in.host = "example.com";
  in.url = url;
  in.curl_detail = "Failed to connect to example.com port 443 after 3 ms: Connection refused";
  Failure f = map_curl_failure(in);
  CHECK(f.message.find("example.com") != std::string::npos);
  CHECK(f.message.find("Connection refused") != std::string::npos);

  // libcurl text that repeats the URL, or part of its path/query, is replaced by strerror.
  std::string leaky = "Malformed input: " + url;
  in.curl_detail = leaky;
  f = map_curl_failure(in);
  CHECK(f.message.find("AIzaSECRET") == std::string::npos);
  CHECK(f.message.find("v1beta") == std::string::npos);
  in.curl_detail = "bad part v1beta/models/x:generate";
  CHECK(map_curl_failure(in).message.find("generate") == std::string::npos);
}
