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

Result<BootstrapReport> bootstrap_from_env(storage::Store& store, const EnvLookup& env) {
  BootstrapReport report;
  int64_t now = now_unix_ms();
  std::set<std::string> pool_secrets;
  // The admin token must never double as a pool key or a client token.
  std::string admin_hash;
  const std::string token_setting(admin::kAdminToken.name());
  if (auto settings = store.load_settings(); settings.ok() && settings->count(token_setting)) {
    std::string stored = settings->at(token_setting);  // a JSON string: "\"<hex>\""
    if (stored.size() > 2) admin_hash = stored.substr(1, stored.size() - 2);
  } else if (auto admin = env("AUTH_TOKEN"); admin && !admin->empty()) {
    admin_hash = crypto::sha256_hex(*admin);
  }
  if (auto keys = env("API_KEYS")) {
    std::vector<std::string> secrets;
    std::vector<size_t> items;  // secrets[i] is API_KEYS item items[i] (1-based)
    size_t item = 0;
    for (std::string& s : split_list(*keys)) {
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
    for (const auto& r : added->rejected) {
      log::warn("an API_KEYS item was not added: " + r.reason);
    }
  }
  auto stored_keys = store.load_keys();
  if (!stored_keys.ok()) return stored_keys.error();
  for (const auto& k : *stored_keys) pool_secrets.insert(k.secret);

  if (auto tokens = env("ALLOWED_TOKENS")) {
    for (const std::string& token : split_list(*tokens)) {
      log::register_secret(token);
      if (token.size() < 8) {
        log::warn(
            "an ALLOWED_TOKENS item shorter than 8 characters was ignored: it would be guessable");
        ++report.rejected;
        continue;
      }
      if (!admin_hash.empty() && crypto::sha256_hex(token) == admin_hash) {
        log::warn("an ALLOWED_TOKENS item equals the admin token and was ignored");
        ++report.rejected;
        continue;
      }
      if (pool_secrets.count(token)) {
        log::warn(
            "an ALLOWED_TOKENS item equals a pool key and was ignored: a pool key is never a "
            "client token");
        ++report.rejected;
        continue;
      }
      std::string hash = crypto::sha256_hex(token);
      auto existing = store.find_token_by_hash(hash);
      if (!existing.ok()) return existing.error();
      if (*existing) continue;
      auto deleted = store.token_was_deleted(hash);
      if (!deleted.ok()) return deleted.error();
      if (*deleted) {
        log::info(
            "an ALLOWED_TOKENS item was not added: an admin deleted that token (add it through "
            "the admin API to bring it back)");
        ++report.skipped_deleted;
        continue;
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
    }
  }
  return report;
}

}  // namespace gemgate::conf
