#include "filters/common/gemini_dialect.h"

#include "core/chain.h"
#include "core/json.h"
#include "core/log.h"

namespace gemgate::gemini {

// Written out here rather than delegated to core's render_json_error, although the two agree
// today: this one is a promise to Gemini's clients, core's is free to change.
std::string render_google_error(const http::LocalError& e) {
  std::string code = e.code.empty() ? "UNKNOWN" : e.code;
  return "{\"error\":{\"code\":" + std::to_string(e.status) +
         ",\"message\":" + json_quote(e.message) + ",\"status\":" + json_quote(code) + "}}";
}

Result<void> register_google_error_format(Registry& registry) {
  if (auto r = registry.add_error_format("google", &render_google_error); !r.ok()) return r;
  return registry.set_default_error_format("google");
}

void register_gemini_redaction() {
  log::register_secret_prefix("AIza");
  log::register_secret_label("x-goog-api-key");
}

}  // namespace gemgate::gemini
