// Turns a libcurl result into the transport's Failure (kind + message). The kind feeds the retry
// and key-health decisions upstream, so the mapping is deliberate; the message names the host and
// never the URL path, query (it may carry an API key) or any request header. Also what a failure
// of a session means (session_failure, ran_over_http2) and the URL pieces both read (host,
// scheme).
#pragma once

#include <cstdint>
#include <curl/curl.h>
#include <string>
#include <string_view>

#include "transports/transport.h"

namespace gemgate::transport::detail {

struct CurlFailureInput {
  CURLcode code = CURLE_OK;
  bool head_delivered = false;     // on_upstream_head had been called
  std::string_view host;           // "host[:port]", from host_of_url()
  std::string_view url;            // the request URL, only to keep its path/query out of messages
  std::string_view curl_detail;    // libcurl's CURLOPT_ERRORBUFFER text, may be empty
  long proxy_connect_code = 0;     // CURLINFO_HTTP_CONNECTCODE: the proxy's answer to CONNECT
  int64_t connect_timeout_ms = 0;  // for the message of a connect timeout
};

// Maps a failed transfer (code != CURLE_OK) to a Failure.
Failure map_curl_failure(const CurlFailureInput& in);

// What a transfer that failed before any answer byte may do about it.
enum class SessionFailure {
  kNone,            // the failure stands (connect failures, timeouts, a stream reset with any
                    // code but the two below: the server's answer about this one request)
  kConnectionLost,  // its connection or HTTP/2 session broke (recv/send error, nothing received,
                    // an HTTP/2 framing error such as a GOAWAY with an error code): the
                    // connection is gone, so sending again opens or joins a new one
  kStreamRefused,   // the server refused the stream (RST_STREAM REFUSED_STREAM or
                    // ENHANCE_YOUR_CALM): the session may still be open, so send on a new one
};

// Classifies a libcurl result of a transfer that received no response head. `curl_detail` is
// libcurl's CURLOPT_ERRORBUFFER text (libcurl 7.88 names the RST_STREAM code only there).
// `http2`: the transfer ran over HTTP/2 (ran_over_http2() below); the text naming "HTTP/2"
// counts as well. Only HTTP/2 failures are resendable: an HTTP/1.1 connection carries one
// request, whose loss the retry filter decides about (tests/unit/transports/fault_test.cpp).
SessionFailure session_failure(CURLcode code, std::string_view curl_detail, bool http2);

// Whether a transfer to `url` that failed before any answer ran over HTTP/2, for
// session_failure(): `curl_http_version` is CURLINFO_HTTP_VERSION. libcurl 7.88 fills that in
// only when an answer's status arrives, so before any answer it is 0 on every transfer, and its
// error text names HTTP/2 only for some failures (a TCP reset may read "Connection reset by
// peer"). An https:// transfer (CURL_HTTP_VERSION_2TLS, which Google always answers with h2)
// whose version is still unknown therefore counts as HTTP/2; an http:// one never does.
bool ran_over_http2(long curl_http_version, std::string_view url);

// Whether `url`'s scheme is https (any case).
bool is_https_url(std::string_view url);
// Whether `url`'s scheme is http (any case): a URL libcurl only ever speaks HTTP/1.1 to
// (CURL_HTTP_VERSION_2TLS: HTTP/2 needs TLS).
bool is_cleartext_http(std::string_view url);

// Returns "host[:port]" of an absolute URL, without scheme, userinfo, path, query or fragment;
// "upstream" when none can be found. A view into `url` (or a literal): copy it before `url` goes.
std::string_view host_of_url(std::string_view url);

// Returns libcurl's error text when it is safe to show (it does not repeat the URL's path or
// query and looks like plain prose), else curl_easy_strerror(code). At most 200 characters.
std::string safe_curl_detail(CURLcode code, std::string_view detail, std::string_view url);

}  // namespace gemgate::transport::detail
