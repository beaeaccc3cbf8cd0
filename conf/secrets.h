// The secrets that come from the environment and the configuration, registered with the log
// redactor at start so no log line and no stored log text ever carries them: the admin token
// (AUTH_TOKEN), the cron secret (CRON_SECRET), a database password inside DATABASE_URL and a
// proxy password inside HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (either case). Pool
// keys and client tokens are registered where they are loaded (bootstrap, load_state, admin).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "conf/yaml_loader.h"

namespace gemgate::conf {

// Returns the passwords written in a database URL or connection string: the password of the
// userinfo (`scheme://user:PASSWORD@host/...`) and any `password=VALUE` parameter, each as
// written and percent-decoded. Empty when there is none.
std::vector<std::string> database_url_passwords(std::string_view url);

// Registers AUTH_TOKEN, CRON_SECRET, the passwords of `database_url` and of the proxy variables
// with log::register_secret.
// Call first thing at start, before anything may log them.
void register_configured_secrets(const EnvLookup& env, std::string_view database_url);

}  // namespace gemgate::conf
