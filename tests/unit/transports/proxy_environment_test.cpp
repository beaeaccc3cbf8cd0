// ProxyEnvironment: which variable applies to which upstream scheme, lower case first, ALL_PROXY
// as the fallback, NO_PROXY carried; credentials masked in what is logged.
#include "transports/proxy_environment.h"

#include <doctest/doctest.h>
#include <map>

using namespace gemgate::transport;

namespace {

ProxyEnvironment read(std::map<std::string, std::string> vars) {
  return read_proxy_environment([vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

}  // namespace

TEST_CASE("no variables: direct for every scheme") {
  ProxyEnvironment p = read({});
  CHECK(p.empty());
  CHECK(p.for_url("https://generativelanguage.googleapis.com/v1beta/models") == "");
  CHECK(p.for_url("http://127.0.0.1:9/x") == "");
}

TEST_CASE("https:// URLs use HTTPS_PROXY, http:// URLs HTTP_PROXY, ALL_PROXY fills the gaps") {
  ProxyEnvironment p = read({{"HTTPS_PROXY", "http://secure:3128"},
                             {"ALL_PROXY", "http://all:3128"},
                             {"NO_PROXY", "localhost,.internal"}});
  CHECK(p.for_url("https://generativelanguage.googleapis.com/") == "http://secure:3128");
  CHECK(p.for_url("http://127.0.0.1:9/") == "http://all:3128");
  CHECK(p.for_url("ftp://x/") == "");
  CHECK(p.no_proxy == "localhost,.internal");
  ProxyEnvironment q = read({{"http_proxy", "http://lower:1"}, {"HTTP_PROXY", "http://upper:2"}});
  CHECK(q.for_url("http://x/") == "http://lower:1");  // lower case wins, as in curl and wget
  CHECK(q.for_url("https://x/") == "");
  CHECK(read({{"https_proxy", ""}, {"HTTPS_PROXY", "http://u:3"}}).https == "http://u:3");
}

TEST_CASE("passwords in proxy URLs are masked in what is logged") {
  CHECK(mask_proxy_credentials("http://user:s3cret@proxy:3128") == "http://user:***@proxy:3128");
  CHECK(mask_proxy_credentials("http://user@proxy:3128") == "http://user@proxy:3128");
  CHECK(mask_proxy_credentials("http://proxy:3128/p@th") == "http://proxy:3128/p@th");
  CHECK(mask_proxy_credentials("proxy:3128") == "proxy:3128");
  ProxyEnvironment p = read({{"HTTPS_PROXY", "http://me:hunter2@proxy:3128"}});
  CHECK(p.describe() == "https:// via http://me:***@proxy:3128, http:// direct");
}
