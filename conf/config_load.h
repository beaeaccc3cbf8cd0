// One reading of gemgate's configuration, the same at start-up, for --check-config and at every
// reload: the file (or the built-in text), YAML with ${VAR} substitution, the top level, the
// --listen override, the log level and the `settings:` block. Every problem is collected, none
// hides another. Chains are built afterwards by build_routes(), with the services at hand.
#pragma once

#include <optional>
#include <string>

#include "conf/config.h"
#include "conf/yaml_loader.h"
#include "core/config_node.h"
#include "core/log.h"
#include "core/settings.h"

namespace gemgate::conf {

// Where the configuration comes from, as the command line said.
struct ConfigSource {
  std::string path;    // --config FILE; "" = the built-in text
  std::string listen;  // --listen HOST:PORT; "" = as the file says
};

// The text of the configuration and the name messages give it. Returns an error (naming the
// file and the system's reason) when the file cannot be read.
Result<void> read_config_text(const ConfigSource& source, std::string* text, std::string* file);

// Reads the configuration of `source` and applies its `settings:` as the defaults of `schema`.
// Returns the config when the document was a map, even with problems (then `errors` is not
// empty); *level gets the parsed log level when it is valid.
std::optional<GatewayConfig> read_config(const ConfigSource& source, const EnvLookup& env,
                                         SettingsSchema& schema, log::Level* level,
                                         ConfigErrors& errors);

}  // namespace gemgate::conf
