// The secrets conf registers with the log redactor at start: AUTH_TOKEN, CRON_SECRET and the
// password of a database URL, wherever they later appear in a line.
#include "conf/secrets.h"

#include <doctest/doctest.h>

#include "core/log.h"

using namespace gemgate;

TEST_CASE("database_url_passwords finds the userinfo password and password= parameters") {
  using V = std::vector<std::string>;
  CHECK(conf::database_url_passwords("file:./data/gemgate.db") == V{});
  CHECK(conf::database_url_passwords("postgres://gg:s3cr%40t-pw@db:5432/gg") ==
        V{"s3cr%40t-pw", "s3cr@t-pw"});
  CHECK(conf::database_url_passwords("postgresql://gg@db/gg?password=hunter2hunter&ssl=1") ==
        V{"hunter2hunter"});
  CHECK(conf::database_url_passwords("host=db user=gg password=kw-pass-77 dbname=gg") ==
        V{"kw-pass-77"});
  // libpq's quoting: a quoted value may hold spaces and escaped quotes; spaces around '='.
  CHECK(conf::database_url_passwords(R"(host=db password = 'two words\'q' dbname=gg)") ==
        (V{R"(two words\'q)", "two words'q"}));
  CHECK(conf::database_url_passwords(R"(password=a\ b user=gg)") == (V{R"(a\ b)", "a b"}));
  CHECK(conf::database_url_passwords("host=db user=gg") == V{});
}

TEST_CASE("register_configured_secrets masks AUTH_TOKEN, CRON_SECRET and the database password") {
  conf::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "AUTH_TOKEN") return "gga-admin-token-0123456789";
    if (name == "CRON_SECRET") return "cron-secret-abcdefgh";
    return std::nullopt;
  };
  conf::register_configured_secrets(env, "postgres://gg:db-password-xyz@db/gg");
  std::string line = log::redact(
      "GET /admin/gga-admin-token-0123456789 /api/cron/x=cron-secret-abcdefgh"
      " postgres://gg:db-password-xyz@db/gg");
  CHECK(line.find("gga-admin-token-0123456789") == std::string::npos);
  CHECK(line.find("cron-secret-abcdefgh") == std::string::npos);
  CHECK(line.find("db-password-xyz") == std::string::npos);
  log::forget_secret("gga-admin-token-0123456789");
  log::forget_secret("cron-secret-abcdefgh");
  log::forget_secret("db-password-xyz");
}

TEST_CASE("register_configured_secrets masks the password of a proxy URL from the environment") {
  conf::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "https_proxy") return "http://me:proxy-pass-4567@proxy:3128";
    return std::nullopt;
  };
  conf::register_configured_secrets(env, "file:./x.db");
  std::string line = log::redact("CONNECT via http://me:proxy-pass-4567@proxy:3128 failed");
  CHECK(line.find("proxy-pass-4567") == std::string::npos);
  log::forget_secret("proxy-pass-4567");
}
