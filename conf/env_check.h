// The start-up check of the environment: every variable gemgate reads at start (API_KEYS,
// ALLOWED_TOKENS, AUTH_TOKEN, GEMGATE_MASTER_KEY) is validated before anything is stored, so a
// start that fails changes nothing, and --check-config reports the same problems.
#pragma once

#include <string>
#include <vector>

#include "conf/yaml_loader.h"
#include "core/settings.h"

namespace gemgate::conf {

// The minimum lengths the checks enforce (also in --help and the README).
inline constexpr size_t kMinClientTokenChars = 8;  // ALLOWED_TOKENS items (max 256)
inline constexpr size_t kMinAdminTokenChars = 16;  // AUTH_TOKEN (the admin_token setting's rule)
inline constexpr size_t kMinApiKeyChars = 20;      // API_KEYS items (max 256)
inline constexpr size_t kMasterKeyHexChars = 64;   // GEMGATE_MASTER_KEY

// Returns one message per problem ("ALLOWED_TOKENS item 2 is 5 characters long; client tokens
// need 8 to 256"), never repeating a value. `schema` checks AUTH_TOKEN as the admin_token
// setting. Empty = the environment is fine.
std::vector<std::string> environment_problems(const EnvLookup& env, const SettingsSchema& schema);

}  // namespace gemgate::conf
