#include "conf/secrets.h"

#include "core/http/message.h"
#include "core/log.h"

namespace gemgate::conf {

namespace {

void add_with_decoded(std::vector<std::string>& out, std::string_view value) {
  if (value.empty()) return;
  out.emplace_back(value);
  if (auto decoded = http::percent_decode(value, false); decoded && *decoded != value) {
    out.push_back(std::move(*decoded));
  }
}

}  // namespace

std::vector<std::string> database_url_passwords(std::string_view url) {
  std::vector<std::string> out;
  if (size_t scheme = url.find("://"); scheme != std::string_view::npos) {
    std::string_view authority = url.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      if (size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
        add_with_decoded(out, userinfo.substr(colon + 1));
      }
    }
  }
  // `password=` as a query parameter or in a key=value connection string.
  for (size_t at = url.find("password="); at != std::string_view::npos;
       at = url.find("password=", at + 1)) {
    std::string_view value = url.substr(at + 9);
    add_with_decoded(out, value.substr(0, value.find_first_of("& ;")));
  }
  return out;
}

void register_configured_secrets(const EnvLookup& env, std::string_view database_url) {
  for (const char* name : {"AUTH_TOKEN", "CRON_SECRET"}) {
    if (auto value = env(name); value && !value->empty()) log::register_secret(*value);
  }
  for (const std::string& password : database_url_passwords(database_url)) {
    log::register_secret(password);
  }
  // A proxy URL from the environment may carry user:password@ (the start log masks it; this
  // covers any other line that might repeat it).
  for (const char* name :
       {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"}) {
    if (auto url = env(name)) {
      for (const std::string& password : database_url_passwords(*url)) {
        log::register_secret(password);
      }
    }
  }
  // DATABASE_URL itself may differ from the configured URL (a YAML that does not use it).
  if (auto url = env("DATABASE_URL")) {
    for (const std::string& password : database_url_passwords(*url)) log::register_secret(password);
  }
}

}  // namespace gemgate::conf
