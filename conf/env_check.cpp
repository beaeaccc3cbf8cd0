#include "conf/env_check.h"

#include <rapidjson/document.h>

#include "admin/admin_filter.h"
#include "core/text.h"
#include "pool/key_pool.h"

namespace gemgate::conf {

namespace {

void check_api_keys(const std::string& list, std::vector<std::string>& out) {
  size_t item = 0;
  for (const std::string& key : text::split_list(list)) {
    ++item;
    if (std::string why = pool::key_format_problem(key); !why.empty()) {
      out.push_back("API_KEYS item " + std::to_string(item) + " is not an API key: " + why +
                    " (keys are " + std::to_string(kMinApiKeyChars) +
                    " to 256 characters of A-Z a-z 0-9 - _ .)");
    }
  }
}

void check_client_tokens(const std::string& list, std::vector<std::string>& out) {
  size_t item = 0;
  for (const std::string& token : text::split_list(list)) {
    ++item;
    if (token.size() < kMinClientTokenChars || token.size() > 256) {
      out.push_back("ALLOWED_TOKENS item " + std::to_string(item) + " is " +
                    std::to_string(token.size()) + " characters long; client tokens need " +
                    std::to_string(kMinClientTokenChars) + " to 256 (shorter ones are guessable)");
    }
  }
}

void check_master_key(const std::string& value, std::vector<std::string>& out) {
  bool hex = value.size() == kMasterKeyHexChars;
  for (char c : value) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  if (!hex) {
    out.push_back("GEMGATE_MASTER_KEY must be exactly " + std::to_string(kMasterKeyHexChars) +
                  " hexadecimal characters (32 random bytes, e.g. from `openssl rand -hex 32`)");
  }
}

}  // namespace

std::vector<std::string> environment_problems(const EnvLookup& env, const SettingsSchema& schema) {
  std::vector<std::string> out;
  if (auto keys = env("API_KEYS")) check_api_keys(*keys, out);
  if (auto tokens = env("ALLOWED_TOKENS")) check_client_tokens(*tokens, out);
  if (auto admin = env("AUTH_TOKEN"); admin && !admin->empty()) {
    rapidjson::Value v(admin->c_str(), static_cast<rapidjson::SizeType>(admin->size()));
    if (auto checked = schema.convert(admin::kAdminToken.name(), v); !checked.ok()) {
      // "admin_token: must be ..." -> "AUTH_TOKEN must be ..."
      std::string why = checked.error().message.substr(admin::kAdminToken.name().size());
      if (why.starts_with(":")) why.erase(0, 1);
      out.push_back("AUTH_TOKEN" + why);
    }
  }
  if (auto master = env("GEMGATE_MASTER_KEY"); master && !master->empty()) {
    check_master_key(*master, out);
  }
  return out;
}

}  // namespace gemgate::conf
