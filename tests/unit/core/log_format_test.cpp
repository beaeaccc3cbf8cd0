// Log formats: text lines with name=value fields, json lines (one object, stable names, escaped
// so any bytes stay valid JSON), masked secrets in fields; json_quote_utf8; request ids.
#include <cstdio>
#include <ctime>
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <unistd.h>

#include "core/json.h"
#include "core/log.h"
#include "core/request_id.h"

using namespace gemgate;

namespace {

// Captures what the logger writes to stderr while `fn` runs.
template <class Fn>
std::string capture_stderr(Fn fn) {
  std::fflush(stderr);
  char path[] = "/tmp/gemgate-log-test-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  int saved = dup(2);
  dup2(fd, 2);
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string out;
  lseek(fd, 0, SEEK_SET);
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  unlink(path);
  return out;
}

// Restores the text format when a test case ends.
struct FormatGuard {
  ~FormatGuard() { log::set_format(log::Format::kText); }
};

}  // namespace

TEST_CASE("json_quote_utf8: valid JSON whatever the bytes") {
  CHECK(json_quote_utf8("plain") == "\"plain\"");
  CHECK(json_quote_utf8("q\"\\\n\x01") == "\"q\\\"\\\\\\n\\u0001\"");
  CHECK(json_quote_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");  // well-formed UTF-8 kept
  CHECK(json_quote_utf8("a\xff"
                        "b") == "\"a\\ufffdb\"");
  CHECK(json_quote_utf8("\xc3") == "\"\\ufffd\"");                        // truncated sequence
  CHECK(json_quote_utf8("\xc0\xaf") == "\"\\ufffd\\ufffd\"");             // overlong
  CHECK(json_quote_utf8("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  rapidjson::Document d;
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string quoted = "[" + json_quote_utf8(all) + "]";
  d.Parse<rapidjson::kParseValidateEncodingFlag>(quoted.c_str());
  CHECK_FALSE(d.HasParseError());
}

TEST_CASE("text format: message then name=value, odd values quoted, secrets masked") {
  FormatGuard guard;
  log::set_format(log::Format::kText);
  std::string secret = "AIzaSyLOGTESTxxxxxxxxxxxxxxxxxxxxxxxx99";
  std::string out = capture_stderr([&] {
    log::Field f[] = {log::Field::num("key_id", 7), log::Field::masked("key_mask", secret),
                      log::Field::str("reason", "two words"), log::Field::flag("ok", true)};
    log::write_fields(log::Level::kWarn, "key disabled", f);
  });
  CHECK(out.find(" WARN  key disabled key_id=7 key_mask=AIza\xe2\x80\xa6xx99 reason=\"two words\" "
                 "ok=true\n") != std::string::npos);
  CHECK(out.find(secret) == std::string::npos);
}

TEST_CASE("json format: one object per line with ts, level, msg and the fields") {
  FormatGuard guard;
  log::set_format(log::Format::kJson);
  std::string out = capture_stderr([] {
    log::info("plain \"line\"\nwith a newline");
    log::Field f[] = {log::Field::str("path", "/a\"b\x01\xff"), log::Field::num("status", 200),
                      log::Field::flag("stream", false)};
    log::write_fields(log::Level::kInfo, "access", f);
  });
  size_t nl = out.find('\n');
  REQUIRE(nl != std::string::npos);
  std::string first = out.substr(0, nl), second = out.substr(nl + 1);
  CHECK(second.find('\n') == second.size() - 1);  // exactly two lines
  rapidjson::Document a, b;
  a.Parse(first.c_str());
  REQUIRE_FALSE(a.HasParseError());
  CHECK(std::string(a["level"].GetString()) == "info");
  CHECK(std::string(a["msg"].GetString()) == "plain \"line\"\nwith a newline");
  CHECK(std::string(a["ts"].GetString()).size() == 24);
  b.Parse<rapidjson::kParseValidateEncodingFlag>(second.c_str());
  REQUIRE_FALSE(b.HasParseError());
  CHECK(std::string(b["path"].GetString()) == "/a\"b\x01\xef\xbf\xbd");
  CHECK(b["status"].GetInt() == 200);
  CHECK(b["stream"].IsFalse());
}

TEST_CASE("json format: registered secrets are masked in the message and in fields") {
  FormatGuard guard;
  log::set_format(log::Format::kJson);
  std::string secret = "sekrit-for-the-log-format-test-123";
  log::register_secret(secret);
  std::string out = capture_stderr([&] {
    log::Field f[] = {log::Field::str("error", "bad " + secret)};
    log::write_fields(log::Level::kError, "token " + secret, f);
  });
  CHECK(out.find(secret) == std::string::npos);
  CHECK(out.find("\"level\":\"error\"") != std::string::npos);
}

TEST_CASE("parse_format accepts text and json only") {
  log::Format f = log::Format::kText;
  CHECK(log::parse_format("json", &f));
  CHECK(f == log::Format::kJson);
  CHECK(log::parse_format("text", &f));
  CHECK(f == log::Format::kText);
  CHECK_FALSE(log::parse_format("JSON", &f));
  CHECK_FALSE(log::parse_format("", &f));
}

TEST_CASE("request ids: plain client tokens kept, anything else replaced, new ones unique") {
  CHECK(valid_request_id("abcd-1234"));
  CHECK(valid_request_id(std::string(64, 'a')));
  CHECK_FALSE(valid_request_id("short"));
  CHECK_FALSE(valid_request_id(std::string(65, 'a')));
  CHECK_FALSE(valid_request_id("has space1"));
  CHECK_FALSE(valid_request_id("crlf\r\nx-injected: 1"));
  std::string given = "client-id-42";
  CHECK(adopt_request_id(&given) == given);
  std::string bad = "<script>alert(1)</script>";
  CHECK(adopt_request_id(&bad) != bad);
  CHECK(valid_request_id(adopt_request_id(nullptr)));
  std::string a = new_request_id(), b = new_request_id();
  CHECK(a != b);
  CHECK(a.size() == 20);
  CHECK(a.rfind("req-", 0) == 0);
}

TEST_CASE("utc_time: RFC 3339 with milliseconds, the same within a second and across seconds") {
  CHECK(log::utc_time(0) == "1970-01-01T00:00:00.000Z");
  CHECK(log::utc_time(1'765'065'600'007) == "2025-12-07T00:00:00.007Z");
  CHECK(log::utc_time(1'765'065'599'999) == "2025-12-06T23:59:59.999Z");  // back a day
  CHECK(log::utc_time(1'765'065'600'450) == "2025-12-07T00:00:00.450Z");
  // Every millisecond step around a year's end, against the full formatting done here.
  for (int64_t ms = 1'767'225'598'000; ms < 1'767'225'602'000; ms += 37) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char want[40];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    CAPTURE(ms);
    CHECK(log::utc_time(ms) == want);
  }
}
