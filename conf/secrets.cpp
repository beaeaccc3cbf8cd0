#include "conf/secrets.h"

#include <cctype>

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

// libpq's key=value form: `key = value` pairs separated by spaces, a value either bare (up to
// the next space) or single-quoted with \\ and \' escapes, so a password may hold spaces. Both
// the value and its text as written are returned.
void add_conninfo_passwords(std::vector<std::string>& out, std::string_view text) {
  size_t i = 0;
  auto skip_spaces = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  while (true) {
    skip_spaces();
    size_t key_start = i;
    while (i < text.size() && text[i] != '=' && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    std::string_view key = text.substr(key_start, i - key_start);
    skip_spaces();
    if (i >= text.size() || text[i] != '=') return;  // not key=value: libpq refuses it anyway
    ++i;
    skip_spaces();
    std::string value;
    size_t raw_start = i;
    if (i < text.size() && text[i] == '\'') {
      raw_start = i + 1;
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i];
      }
      ++i;  // the closing quote
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i++];
      }
    }
    if (key != "password" || value.empty()) continue;
    // The text as written (escapes and all) too: a line may quote the string itself.
    std::string_view raw = text.substr(raw_start, std::min(i, text.size()) - raw_start);
    if (!raw.empty() && raw.back() == '\'') raw.remove_suffix(1);
    if (raw != value) out.emplace_back(raw);
    out.push_back(std::move(value));
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
  if (url.find("://") != std::string_view::npos) {
    // `password=` as a query parameter of a URL.
    for (size_t at = url.find("password="); at != std::string_view::npos;
         at = url.find("password=", at + 1)) {
      std::string_view value = url.substr(at + 9);
      add_with_decoded(out, value.substr(0, value.find_first_of("&#")));
    }
  } else {
    add_conninfo_passwords(out, url);
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
