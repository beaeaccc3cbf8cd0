// The `models` filter: the operator's view of which models exist. Two live settings:
//   model_aliases: {"my-fast": "gemini-2.5-flash"}   requests for an alias go to its target, and
//                                                     the alias is listed like the target;
//   hidden_models: ["gemini-1.5-pro"]                 left out of model lists, and refused (404).
// Place it above `retry` (and below `openai`, so it sees Gemini paths either way).
#pragma once

#include <string_view>

#include "core/registry.h"

namespace gemgate::models {

inline constexpr Setting<JsonValue> kModelAliases{"model_aliases"};  // {"alias": "model"}
inline constexpr Setting<JsonValue> kHiddenModels{"hidden_models"};  // ["model", ...]

// The built-in aliases: Anthropic model names (what coding agents ask for) to Gemini models —
// haiku (the "small fast model" of background work) to a flash model, every other claude-*
// (opus, sonnet, names not yet known) to a pro model.
inline constexpr std::string_view kDefaultModelAliases =
    R"({"claude-*haiku*":"gemini-2.5-flash","claude-*":"gemini-2.5-pro"})";

// Registers the `models` filter and declares kModelAliases and kHiddenModels.
Result<void> register_models_filter(Registry& registry);

}  // namespace gemgate::models
