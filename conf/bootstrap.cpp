#include "conf/bootstrap.h"

#include <set>

#include "admin/admin_filter.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"
#include "pool/key_pool.h"

namespace gemgate::conf {

std::vector<std::string> split_list(std::string_view text) {
  return text::split_list(text);
}

namespace {

// The stored admin token's hash, else that of AUTH_TOKEN; "" when there is none. The admin token
// must never double as a pool key or a client token.
std::string admin_token_hash(storage::Store& store, const EnvLookup& env) {
  const std::string token_setting(admin::kAdminToken.name());
  if (auto settings = store.load_settings(); settings.ok() && settings->count(token_setting)) {
    const std::string& stored = settings->at(token_setting);  // a JSON string: "\"<hex>\""
    return stored.size() > 2 ? stored.substr(1, stored.size() - 2) : "";
  }
  if (auto admin = env("AUTH_TOKEN"); admin && !admin->empty()) return crypto::sha256_hex(*admin);
  return "";
}

// Adds the API_KEYS items that are well-formed, not the admin token and not deleted by an admin.
Result<void> add_env_keys(storage::Store& store, std::string_view list,
                          const std::string& admin_hash, int64_t now, BootstrapReport& report) {
  std::vector<std::string> secrets;
  std::vector<size_t> items;  // secrets[i] is API_KEYS item items[i] (1-based)
  size_t item = 0;
  for (std::string& s : split_list(list)) {
    ++item;
    log::register_secret(s);
    std::string why = pool::key_format_problem(s);
    if (why.empty() && !admin_hash.empty() && crypto::sha256_hex(s) == admin_hash) {
      why = "it equals the admin token";
    }
    if (!why.empty()) {
      log::warn("API_KEYS item " + std::to_string(item) + " was not added: " + why);
      ++report.rejected;
      continue;
    }
    secrets.push_back(std::move(s));
    items.push_back(item);
  }
  // kEnvironment: a key an admin deleted stays deleted (README "Configuration precedence").
  auto added = store.add_keys(secrets, now, storage::KeyOrigin::kEnvironment);
  if (!added.ok()) return added.error();
  report.keys_added = added->added_ids.size();
  report.skipped_deleted += added->skipped_deleted.size();
  for (size_t index : added->skipped_deleted) {
    log::info("API_KEYS item " + std::to_string(items[index]) +
              " was not added: an admin deleted that key (add it through the admin API to "
              "bring it back)");
  }
  report.rejected += added->rejected.size();
  for (const auto& r : added->rejected) log::warn("an API_KEYS item was not added: " + r.reason);
  return {};
}

// Why an ALLOWED_TOKENS item may not become a client token, or "" when it may.
std::string token_problem(const std::string& token, const std::string& admin_hash,
                          const std::set<std::string>& pool_secrets) {
  if (token.size() < 8) {
    return "an ALLOWED_TOKENS item shorter than 8 characters was ignored: it would be guessable";
  }
  if (!admin_hash.empty() && crypto::sha256_hex(token) == admin_hash) {
    return "an ALLOWED_TOKENS item equals the admin token and was ignored";
  }
  if (pool_secrets.count(token)) {
    return "an ALLOWED_TOKENS item equals a pool key and was ignored: a pool key is never a "
           "client token";
  }
  return "";
}

// Adds one ALLOWED_TOKENS item unless it is stored already or an admin deleted it.
Result<void> add_env_token(storage::Store& store, const std::string& token, int64_t now,
                           BootstrapReport& report) {
  std::string hash = crypto::sha256_hex(token);
  auto existing = store.find_token_by_hash(hash);
  if (!existing.ok()) return existing.error();
  if (*existing) return {};
  auto deleted = store.token_was_deleted(hash);
  if (!deleted.ok()) return deleted.error();
  if (*deleted) {
    log::info(
        "an ALLOWED_TOKENS item was not added: an admin deleted that token (add it through the "
        "admin API to bring it back)");
    ++report.skipped_deleted;
    return {};
  }
  storage::NewClientToken t;
  t.label = "from ALLOWED_TOKENS";
  t.token_sha256 = hash;
  text::MaskParts parts = text::mask_parts(token);
  t.prefix = parts.prefix;
  t.suffix = parts.suffix;
  t.created_at = now;
  auto id = store.add_token(t);
  if (!id.ok()) return id.error();
  ++report.tokens_added;
  return {};
}

}  // namespace

Result<BootstrapReport> bootstrap_from_env(storage::Store& store, const EnvLookup& env) {
  BootstrapReport report;
  int64_t now = now_unix_ms();
  const std::string admin_hash = admin_token_hash(store, env);
  if (auto keys = env("API_KEYS")) {
    if (auto r = add_env_keys(store, *keys, admin_hash, now, report); !r.ok()) return r.error();
  }
  auto stored_keys = store.load_keys();
  if (!stored_keys.ok()) return stored_keys.error();
  std::set<std::string> pool_secrets;
  for (const auto& k : *stored_keys) pool_secrets.insert(k.secret);

  if (auto tokens = env("ALLOWED_TOKENS")) {
    for (const std::string& token : split_list(*tokens)) {
      log::register_secret(token);
      if (std::string why = token_problem(token, admin_hash, pool_secrets); !why.empty()) {
        log::warn(why);
        ++report.rejected;
        continue;
      }
      if (auto r = add_env_token(store, token, now, report); !r.ok()) return r.error();
    }
  }
  return report;
}

}  // namespace gemgate::conf
