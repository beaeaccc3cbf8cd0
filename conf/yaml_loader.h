// Turns YAML text into a ConfigNode tree: every node keeps its file:line:column, `${VAR}` and
// `${VAR:-fallback}` in scalars are replaced from the environment, and duplicate map keys are
// errors (YAML parsers usually keep the last one silently).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/config_node.h"

namespace gemgate::conf {

// Reads an environment variable; returns nullopt when unset. Replaceable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
std::optional<std::string> process_env(const std::string& name);

// Parses `text` (named `file` in messages). Returns nullopt and fills `errors` on a syntax
// error; substitution problems are reported too, but the tree is still returned.
std::optional<ConfigNode> load_yaml(std::string_view text, const std::string& file,
                                    const EnvLookup& env, ConfigErrors& errors);

// Replaces ${VAR} / ${VAR:-fallback} in `text`. Unset variables without a fallback are errors.
// When `from_env` is given, the names of the variables whose values were used are appended to
// it (", " between them); a fallback that was used names nothing.
std::string substitute_env(std::string_view text, const Mark& at, const EnvLookup& env,
                           ConfigErrors& errors, std::string* from_env = nullptr);

}  // namespace gemgate::conf
