// libcurl result → Failure; see curl_failure.h.
#include "transports/curl_failure.h"

#include "core/http/headers.h"

namespace gemgate::transport::detail {

namespace {

FailureKind kind_of(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_PROXY:
      return FailureKind::kConnectFailed;
    case CURLE_OPERATION_TIMEDOUT:
      return FailureKind::kTimeout;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM:
      return FailureKind::kReset;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    // Schemes are checked before a transfer starts, so at run time this is libcurl's answer to
    // a reply that is not HTTP at all ("Received HTTP/0.9 when not allowed").
    case CURLE_UNSUPPORTED_PROTOCOL:
      return FailureKind::kProtocol;
    default:
      return FailureKind::kInternal;
  }
}

}  // namespace

std::string_view host_of_url(std::string_view url) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = rest.rfind('@');  // userinfo may hold a password
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (rest.empty()) return "upstream";
  return rest;
}

std::string safe_curl_detail(CURLcode code, std::string_view detail, std::string_view url) {
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r'))
    detail.remove_suffix(1);
  bool safe = !detail.empty() && detail.find("://") == std::string_view::npos &&
              detail.find('?') == std::string_view::npos &&
              detail.find('@') == std::string_view::npos;
  if (safe) {
    // Refuse text that repeats any piece of the path or query (a segment, a parameter name or
    // value), however libcurl quoted or cut it.
    size_t scheme = url.find("://");
    size_t path = url.find_first_of("/?#", scheme == std::string_view::npos ? 0 : scheme + 3);
    std::string_view tail = path == std::string_view::npos ? "" : url.substr(path);
    while (safe && !tail.empty()) {
      size_t end = tail.find_first_of("/?&=#;:");
      std::string_view piece = tail.substr(0, end);
      if (piece.size() >= 3 && detail.find(piece) != std::string_view::npos) safe = false;
      tail.remove_prefix(end == std::string_view::npos ? tail.size() : end + 1);
    }
  }
  for (char c : detail) {
    if (static_cast<unsigned char>(c) < 0x20) safe = false;
  }
  std::string out = safe ? std::string(detail) : std::string(curl_easy_strerror(code));
  if (out.size() > 200) out.resize(200);
  return out;
}

SessionFailure session_failure(CURLcode code, std::string_view curl_detail, bool http2) {
  if (!http2 && curl_detail.find("HTTP/2") == std::string_view::npos) return SessionFailure::kNone;
  switch (code) {
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    // 7.88's answer for an HTTP/2 stream whose connection ended under it ("HTTP/2 stream N was
    // not closed cleanly before end of the underlying stream"): a TCP reset, a FIN, a broken TLS
    // session. Without a head nothing of the answer was delivered, so nothing is partial yet.
    case CURLE_PARTIAL_FILE:
      return SessionFailure::kConnectionLost;
    case CURLE_HTTP2_STREAM:
      // libcurl 7.88 (http2.c) names the RST_STREAM code only in its text: "HTTP/2 stream N
      // was not closed cleanly: ENHANCE_YOUR_CALM (err 11)".
      if (curl_detail.find("REFUSED_STREAM") != std::string_view::npos ||
          curl_detail.find("ENHANCE_YOUR_CALM") != std::string_view::npos) {
        return SessionFailure::kStreamRefused;
      }
      return SessionFailure::kNone;
    default:
      return SessionFailure::kNone;
  }
}

namespace {

bool has_scheme(std::string_view url, std::string_view scheme) {
  return url.size() >= scheme.size() && http::iequals(url.substr(0, scheme.size()), scheme);
}

}  // namespace

bool is_https_url(std::string_view url) {
  return has_scheme(url, "https://");
}

bool is_cleartext_http(std::string_view url) {
  return has_scheme(url, "http://");
}

bool ran_over_http2(long curl_http_version, std::string_view url) {
  if (curl_http_version == CURL_HTTP_VERSION_2_0) return true;
  return curl_http_version == 0 && is_https_url(url);
}

Failure map_curl_failure(const CurlFailureInput& in) {
  Failure f;
  f.response_started = in.head_delivered;
  f.kind = kind_of(in.code);
  std::string detail = safe_curl_detail(in.code, in.curl_detail, in.url);
  std::string host(in.host);

  if (in.proxy_connect_code != 0 && in.proxy_connect_code / 100 != 2 && !in.head_delivered) {
    f.kind = FailureKind::kConnectFailed;
    f.message = "proxy refused the tunnel to " + host + " with status " +
                std::to_string(in.proxy_connect_code);
    return f;
  }
  if (in.code == CURLE_OUT_OF_MEMORY && !in.head_delivered) {
    // libcurl 7.88 reports a single header line over its 100 KiB line buffer (CURL_MAX_HTTP_
    // HEADER) as "out of memory"; our own max_header_bytes cap catches every smaller excess.
    // A real allocation failure at this point is far less likely than a hostile head.
    f.kind = FailureKind::kProtocol;
    f.message = "oversized response head from upstream " + host + " (libcurl: " + detail + ")";
    return f;
  }
  switch (f.kind) {
    case FailureKind::kConnectFailed:
      f.message = "cannot connect to upstream " + host + ": " + detail;
      break;
    case FailureKind::kTimeout:
      // We never set CURLOPT_TIMEOUT_MS (our own timers own the other deadlines), so libcurl
      // times out only on connect.
      f.message = "connect deadline of " + std::to_string(in.connect_timeout_ms) +
                  " ms passed for upstream " + host;
      break;
    case FailureKind::kReset:
      f.message = (in.head_delivered ? "upstream " + host + " broke off the response: "
                                     : "upstream " + host +
                                           " closed the connection before "
                                           "the response head: ") +
                  detail;
      break;
    case FailureKind::kProtocol:
      f.message = "malformed response from upstream " + host + ": " + detail;
      break;
    case FailureKind::kInternal:
      f.message = "transfer to upstream " + host + " failed: " + detail;
      break;
  }
  return f;
}

}  // namespace gemgate::transport::detail
