#include "transports/proxy_environment.h"

#include <initializer_list>

#include "core/text.h"

namespace gemgate::transport {

namespace {

// The first of `names` that is set and not empty, else "".
std::string first_set(const std::function<std::optional<std::string>(const std::string&)>& env,
                      std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (auto v = env(name); v && !v->empty()) return *v;
  }
  return "";
}

}  // namespace

const std::string& ProxyEnvironment::for_url(std::string_view url) const {
  static const std::string kDirect;
  if (url.starts_with("https://")) return https;
  if (url.starts_with("http://")) return http;
  return kDirect;
}

std::string ProxyEnvironment::describe() const {
  auto via = [](const std::string& proxy) {
    return proxy.empty() ? std::string("direct") : "via " + mask_proxy_credentials(proxy);
  };
  std::string out = "https:// " + via(https) + ", http:// " + via(http);
  if (!no_proxy.empty()) out += ", no_proxy=" + no_proxy;
  return out;
}

ProxyEnvironment read_proxy_environment(
    const std::function<std::optional<std::string>(const std::string&)>& env) {
  ProxyEnvironment p;
  std::string all = first_set(env, {"all_proxy", "ALL_PROXY"});
  p.https = first_set(env, {"https_proxy", "HTTPS_PROXY"});
  if (p.https.empty()) p.https = all;
  p.http = first_set(env, {"http_proxy", "HTTP_PROXY"});
  if (p.http.empty()) p.http = all;
  p.no_proxy = first_set(env, {"no_proxy", "NO_PROXY"});
  return p;
}

std::string mask_proxy_credentials(std::string_view url) {
  return text::mask_url_password(url);
}

}  // namespace gemgate::transport
