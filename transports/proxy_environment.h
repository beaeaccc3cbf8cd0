// ProxyEnvironment: the upstream proxy an operator behind a firewall set in the process
// environment, read once at start. It applies only to transfers whose request names no proxy of
// its own (the `upstream_proxy` setting empty), chosen by the URL's scheme as curl, wget and most
// HTTP clients do:
//   https:// URLs  https_proxy, else HTTPS_PROXY, else all_proxy, else ALL_PROXY
//   http://  URLs  http_proxy,  else HTTP_PROXY,  else all_proxy, else ALL_PROXY
// and no_proxy / NO_PROXY (comma-separated host names, domain suffixes, or "*") exempts hosts.
// An explicit `upstream_proxy` wins over all of these, NO_PROXY included.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gemgate::transport {

struct ProxyEnvironment {
  std::string http;      // proxy for http:// URLs, "" = direct
  std::string https;     // proxy for https:// URLs, "" = direct
  std::string no_proxy;  // hosts that go direct, in libcurl's CURLOPT_NOPROXY syntax

  bool empty() const { return http.empty() && https.empty(); }
  // The proxy for `url` by its scheme ("" = direct; no_proxy is applied by libcurl).
  const std::string& for_url(std::string_view url) const;
  // One line for the start-up log, credentials masked, e.g.
  // "https:// via http://user:***@proxy:3128, http:// direct, no_proxy=localhost".
  std::string describe() const;
};

// Reads the variables listed above through `env` (which returns nullopt for unset variables).
ProxyEnvironment read_proxy_environment(
    const std::function<std::optional<std::string>(const std::string&)>& env);

// Returns `url` with the password of its userinfo replaced by "***" (a user name alone is
// kept): "http://u:secret@p:3128" -> "http://u:***@p:3128". Text without userinfo is returned
// as it is.
std::string mask_proxy_credentials(std::string_view url);

}  // namespace gemgate::transport
