// Process-wide libcurl initialisation; see curl_global.h.
#include "transports/curl_global.h"

#include <curl/curl.h>
#include <mutex>
#include <string>

#include "transports/h2_window.h"

namespace gemgate::transport {

Result<void> global_init() {
  static std::once_flag once;
  static CURLcode outcome = CURLE_OK;
  std::call_once(once, [] { outcome = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (outcome != CURLE_OK) {
    return Error::internal(std::string("curl_global_init failed: ") + curl_easy_strerror(outcome));
  }
  return {};
}

std::string curl_description() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  auto yes = [&](int bit) { return (info->features & bit) ? "yes" : "no"; };
  std::string out = "libcurl/";
  out += info->version;
  if (info->ssl_version) {
    out += ' ';
    out += info->ssl_version;
  }
  out += " (http2 ";
  out += yes(CURL_VERSION_HTTP2);
  out += ", zlib ";
  out += yes(CURL_VERSION_LIBZ);
  out += ", async-dns ";
  out += yes(CURL_VERSION_ASYNCHDNS);
  out += http2_window_capped()
             ? ", h2 stream window " + std::to_string(kHttp2StreamWindowBytes >> 10) + " KiB"
             : ", h2 stream window NOT capped (libcurl's 32 MiB)";
  out += ')';
  return out;
}

}  // namespace gemgate::transport
