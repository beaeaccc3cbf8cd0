// The filters that ship with gemgate, registered by name into a Registry (explicitly, not through
// static initialisers, so tests and embedders can build their own registry).
#pragma once

#include "core/registry.h"

namespace gemgate {

// Registers log, auth, retry, keys, upstream, healthz, models and openai (and declares their
// settings and error formats).
Result<void> register_builtin_filters(Registry& registry);

}  // namespace gemgate
