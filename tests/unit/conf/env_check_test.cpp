// environment_problems(): what start-up (and --check-config) refuses before anything is stored —
// each problem named by variable and item number, never by value.
#include "conf/env_check.h"

#include <doctest/doctest.h>
#include <map>

#include "conf/gateway.h"
#include "tests/unit/support/printers.h"

using namespace gemgate;
using namespace gemgate::conf;

namespace {

std::vector<std::string> problems(std::map<std::string, std::string> vars) {
  Registry registry;
  REQUIRE(register_everything(registry).ok());
  EnvLookup env = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return environment_problems(env, registry.settings_schema());
}

}  // namespace

TEST_CASE("a sound environment has no problems") {
  CHECK(problems({}).empty());
  CHECK(problems({{"API_KEYS", "AIzaSyA-0123456789abcdefghij,AIzaSyB-0123456789abcdefghij"},
                  {"ALLOWED_TOKENS", "client-token-1, client-token-2"},
                  {"AUTH_TOKEN", "admin-token-0123456789"},
                  {"GEMGATE_MASTER_KEY", std::string(64, 'a')}})
            .empty());
  CHECK(problems({{"AUTH_TOKEN", ""}, {"GEMGATE_MASTER_KEY", ""}}).empty());  // empty = unset
}

TEST_CASE("each bad item is named by its variable and position, its value never shown") {
  auto p = problems({{"API_KEYS", "AIzaSyA-0123456789abcdefghij,short"},
                     {"ALLOWED_TOKENS", "token1,token2-long-enough,abc"},
                     {"AUTH_TOKEN", "admin"},
                     {"GEMGATE_MASTER_KEY", "not-hex"}});
  REQUIRE(p.size() == 5);
  CHECK(p[0].starts_with("API_KEYS item 2 is not an API key: too short"));
  CHECK(p[1] ==
        "ALLOWED_TOKENS item 1 is 6 characters long; client tokens need 8 to 256 (shorter ones "
        "are guessable)");
  CHECK(p[2].starts_with("ALLOWED_TOKENS item 3 is 3 characters long"));
  CHECK(p[3] == "AUTH_TOKEN must be at least 16 characters long");
  CHECK(p[4].starts_with("GEMGATE_MASTER_KEY must be exactly 64 hexadecimal characters"));
  for (const std::string& line : p) {
    CHECK(line.find("short,") == std::string::npos);
    CHECK(line.find("token1") == std::string::npos);
    CHECK(line.find("admin'") == std::string::npos);
    CHECK(line.find("not-hex") == std::string::npos);
  }
}
