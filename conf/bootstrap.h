// First-start bootstrap from the environment: API_KEYS (pool keys) and ALLOWED_TOKENS (client
// tokens), comma, newline, semicolon or space separated, are added to storage when missing.
// Nothing is ever deleted or changed: once stored, the database is the source of truth and the
// admin API manages it (see README "Configuration precedence"). A key or token an admin deleted
// is not brought back by the environment (the store keeps its hash); adding it again through
// the admin API lifts that.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "conf/yaml_loader.h"
#include "core/result.h"
#include "storage/store.h"

namespace gemgate::conf {

// Splits a list written with commas, semicolons, newlines or spaces; drops empty items.
std::vector<std::string> split_list(std::string_view text);

struct BootstrapReport {
  size_t keys_added = 0;
  size_t tokens_added = 0;
  size_t rejected = 0;         // malformed keys, or tokens equal to a pool key
  size_t skipped_deleted = 0;  // keys and tokens an admin deleted earlier
};

// Adds the environment's keys and tokens to `store` where missing.
Result<BootstrapReport> bootstrap_from_env(storage::Store& store, const EnvLookup& env);

}  // namespace gemgate::conf
