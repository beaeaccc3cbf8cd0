#include "filters/builtin.h"

#include "filters/auth/auth_filter.h"
#include "filters/healthz/healthz_filter.h"
#include "filters/keys/keys_filter.h"
#include "filters/log/log_filter.h"
#include "filters/models/models_filter.h"
#include "filters/openai/openai_filter.h"
#include "filters/retry/retry_filter.h"
#include "filters/upstream/upstream_filter.h"

namespace gemgate {

// One include above and one entry here per filter, each on a line of its own, so that deleting a
// filter (its folder under filters/) deletes exactly those lines; tests/build/deletable_filter.sh
// checks that the rest still builds.
Result<void> register_builtin_filters(Registry& registry) {
  for (auto* add : {
           &logging::register_log_filter,
           &auth::register_auth_filter,
           &retry::register_retry_filter,
           &keys::register_keys_filter,
           &upstream::register_upstream_filter,
           &healthz::register_healthz_filter,
           &models::register_models_filter,
           &openai::register_openai_filter,
       }) {
    auto r = add(registry);
    if (!r.ok()) return r;
  }
  return {};
}

}  // namespace gemgate
