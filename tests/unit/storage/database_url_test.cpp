// DATABASE_URL parsing, open_store() behaviour and the small input validators.
#include "storage/database_url.h"

#include <doctest/doctest.h>
#include <functional>
#include <sys/stat.h>

#include "core/text.h"
#include "storage/open_store.h"
#include "storage/validate.h"
#include "test_support.h"

namespace gemgate::storage {
namespace {

std::string sqlite_path(std::string_view url) {
  auto parsed = parse_database_url(url);
  INFO(url);
  REQUIRE(parsed.ok());
  CHECK(parsed->kind == DatabaseKind::kSqlite);
  return parsed->path;
}

TEST_CASE("database_url: the accepted SQLite forms") {
  CHECK(sqlite_path("file:./data/gemgate.db") == "./data/gemgate.db");
  CHECK(sqlite_path("file:/abs/path.db") == "/abs/path.db");
  CHECK(sqlite_path("file:///abs/path.db") == "/abs/path.db");
  CHECK(sqlite_path("file://localhost/abs/path.db") == "/abs/path.db");
  CHECK(sqlite_path("sqlite:./x.db") == "./x.db");
  CHECK(sqlite_path("SQLite:./x.db") == "./x.db");
  CHECK(sqlite_path("sqlite:///abs/x.db") == "/abs/x.db");
  CHECK(sqlite_path("./data/gemgate.db") == "./data/gemgate.db");
  CHECK(sqlite_path("/var/lib/gemgate/db.sqlite") == "/var/lib/gemgate/db.sqlite");
  CHECK(sqlite_path("  gemgate.db \n") == "gemgate.db");
  CHECK(sqlite_path("file:/tmp/with%20space.db") == "/tmp/with space.db");
  CHECK(sqlite_path(":memory:") == ":memory:");
  CHECK(sqlite_path("sqlite::memory:") == ":memory:");
}

TEST_CASE("database_url: refusals are clear") {
  for (const char* bad : {"", "   ", "file:", "sqlite:", "file://otherhost/x.db",
                          "file:x.db?mode=ro", "file:/a%zzb.db", "file:/a%2", "file:/a%00b.db"}) {
    INFO(bad);
    auto parsed = parse_database_url(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
  }
  auto mysql = parse_database_url("mysql://admin:hunter2@db.internal/gemgate");
  REQUIRE_FALSE(mysql.ok());
  CHECK(mysql.error().message.find("'mysql'") != std::string::npos);
  CHECK(mysql.error().message.find("hunter2") == std::string::npos);
}

TEST_CASE("database_url: the PostgreSQL forms are recognised, and a password never echoed") {
  for (const char* url :
       {"postgres://gw:s3cretpw@db/gemgate", "postgresql://gw:s3cretpw@db/gemgate?sslmode=require",
        "POSTGRES://gw:s3cretpw@db/gemgate", "postgresql://gw:s3cr%40tpw@db:5433/gemgate",
        "host=db port=5432 dbname=gemgate user=gw password=s3cretpw sslmode=verify-full",
        "dbname = gemgate"}) {
    INFO(std::string(url));
    auto parsed = parse_database_url(url);
    REQUIRE(parsed.ok());
    CHECK(parsed->kind == DatabaseKind::kPostgres);
    CHECK(parsed->conninfo.size() == std::string_view(url).size());
    CHECK(text::istarts_with(parsed->conninfo, std::string_view(url).substr(0, 4)));
    CHECK(check_database_url(url).ok());
  }
  // libpq cannot parse these: refused by --check-config, without repeating them.
  for (const char* bad :
       {"postgres://gw:s3cretpw@db/gemgate?nosuchoption=1", "host=db password=s3cretpw bogus"}) {
    INFO(std::string(bad));
    auto checked = check_database_url(bad);
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.error().code == ErrorCode::kInvalidArgument);
    CHECK(checked.error().message.find("s3cretpw") == std::string::npos);
  }
  // A path that merely contains '=' stays a SQLite path.
  CHECK(parse_database_url("./data/a=b.db")->kind == DatabaseKind::kSqlite);
}

TEST_CASE("open_store: creates missing parent directories, private to the owner") {
  testing::TempDir dir;
  const std::string db = dir.file("nested/deeper/gemgate.db");
  auto store = open_store("file:" + db);
  INFO((store.ok() ? "" : store.error().message));
  REQUIRE(store.ok());
  auto version = (*store)->schema_version();
  REQUIRE(version.ok());
  CHECK(*version >= 1);
  struct stat st {};
  REQUIRE(::stat(db.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(dir.file("nested/deeper").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("open_store: a path that is a directory, or a symlinked file, is refused") {
  testing::TempDir dir;
  auto as_dir = open_store(dir.path());
  REQUIRE_FALSE(as_dir.ok());
  CHECK(as_dir.error().message.find("is a directory") != std::string::npos);

  { testing::open_sqlite(dir.file("real.db")); }
  std::filesystem::create_symlink(dir.file("real.db"), dir.file("link.db"));
  auto linked = open_store(dir.file("link.db"));
  CHECK_FALSE(linked.ok());
}

TEST_CASE("validate: key text") {
  CHECK(normalize_key_secret("  AIzaSyAbc123\t\n").value() == "AIzaSyAbc123");
  CHECK(normalize_key_secret(std::string(256, 'k')).ok());
  CHECK(normalize_key_secret("sk-anything_goes.~+/=").ok());
  struct Bad {
    std::string text;
    const char* reason;
  };
  for (const Bad& b : {Bad{"", "empty"}, Bad{" \t ", "empty"},
                       Bad{std::string(257, 'k'), "longer than 256"}, Bad{"AIza Sy", "whitespace"},
                       Bad{"AIza\x01Sy", "non-printable"}, Bad{"AIza\xc3\xa9Sy", "non-ASCII"}}) {
    auto r = normalize_key_secret(b.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find(b.reason) != std::string::npos);
  }
}

TEST_CASE("validate: status filter, paging and text clean-up") {
  LogFilter f;
  REQUIRE(parse_status_filter("429", f).ok());
  CHECK(f.status == 429);
  LogFilter g;
  REQUIRE(parse_status_filter("5xx", g).ok());
  CHECK(g.status_class == 5);
  CHECK_FALSE(g.status.has_value());
  LogFilter h;
  REQUIRE(parse_status_filter("", h).ok());
  CHECK_FALSE(h.status.has_value());
  for (const char* bad : {"6xx", "42", "abc", "4x", "4xxx"}) {
    LogFilter x;
    CHECK_FALSE(parse_status_filter(bad, x).ok());
  }

  CHECK(clamp_page({0, 0}).page == 1);
  CHECK(clamp_page({0, 0}).per_page == 1);
  CHECK(clamp_page({3, 100000}).per_page == kMaxPerPage);

  CHECK(strip_query("/v1beta/models/x:generateContent?key=AIzaSecret#frag") ==
        "/v1beta/models/x:generateContent");
  CHECK(clip_utf8("h\xc3\xa9llo", 2) == "h");  // never half a UTF-8 sequence
  CHECK(is_sha256_hex(testing::fake_sha256(1)));
  CHECK_FALSE(is_sha256_hex(std::string(64, 'A')));
  CHECK_FALSE(is_sha256_hex("abc"));
}

TEST_CASE("validate: a log row said to be clean is exactly what cleaning would store") {
  RequestLogRow base;
  base.time_ms = 1000;
  base.route = "gemini";
  base.method = "POST";
  base.path = "/v1beta/models/gemini-2.5-flash:generateContent";
  base.model = "gemini-2.5-flash";
  base.key_id = 2;
  base.token_id = 1;
  base.status = 200;
  base.latency_ms = 3;
  base.attempts = 2;
  base.prompt_tokens = 5;
  base.total_tokens = 5;
  base.request_id = "req-0123456789abcdef";
  base.instance_id = "gw-1";
  base.failed_key_ids = {1, 4};
  REQUIRE(is_clean_request_log_row(base));
  const RequestLogRow c = clean_request_log_row(base);
  CHECK(c.route == base.route);
  CHECK(c.method == base.method);
  CHECK(c.path == base.path);
  CHECK(c.model == base.model);
  CHECK(c.status == base.status);
  CHECK(c.error == base.error);
  CHECK(c.request_id == base.request_id);
  CHECK(c.instance_id == base.instance_id);
  CHECK(c.failed_key_ids == base.failed_key_ids);

  // Every way a row can need cleaning is seen, so such a row is never stored as it came.
  std::vector<std::function<void(RequestLogRow&)>> dirty = {
      [](RequestLogRow& r) { r.path += "?key=AIzaSecretSecretSecret"; },
      [](RequestLogRow& r) { r.path += "#frag"; },
      [](RequestLogRow& r) { r.path = "/" + std::string(kMaxPathText, 'p'); },
      [](RequestLogRow& r) { r.model = std::string(kMaxShortText + 1, 'm'); },
      [](RequestLogRow& r) { r.route = std::string(kMaxShortText + 1, 'r'); },
      [](RequestLogRow& r) { r.method = std::string(kMaxShortText + 1, 'M'); },
      [](RequestLogRow& r) { r.request_id = std::string(kMaxShortText + 1, 'i'); },
      [](RequestLogRow& r) { r.instance_id = std::string(kMaxShortText + 1, 'g'); },
      [](RequestLogRow& r) { r.error = "key=AIzaSecretSecretSecret rejected"; },
      [](RequestLogRow& r) { r.status = 1000; },
      [](RequestLogRow& r) { r.status = -1; },
      [](RequestLogRow& r) { r.latency_ms = -1; },
      [](RequestLogRow& r) { r.attempts = -1; },
      [](RequestLogRow& r) { r.prompt_tokens = -1; },
      [](RequestLogRow& r) { r.completion_tokens = -1; },
      [](RequestLogRow& r) { r.thoughts_tokens = -1; },
      [](RequestLogRow& r) { r.cached_tokens = -1; },
      [](RequestLogRow& r) { r.total_tokens = -1; },
      [](RequestLogRow& r) {
        r.failed_key_ids = {4, 1};
      },
      [](RequestLogRow& r) {
        r.failed_key_ids = {1, 1};
      },
      [](RequestLogRow& r) { r.failed_key_ids = std::vector<std::int64_t>(kMaxFailedKeys + 1); },
  };
  for (std::size_t i = 0; i < dirty.size(); ++i) {
    CAPTURE(i);
    RequestLogRow r = base;
    dirty[i](r);
    CHECK_FALSE(is_clean_request_log_row(r));
  }
}

}  // namespace
}  // namespace gemgate::storage
