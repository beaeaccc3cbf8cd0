// The translator's hot-path internals: the per-thread scratch arena and writer (detail/scratch.h),
// the nesting pre-scan of parse_json, and the SSE decoder's in-place lines and kept buffers.
#include "filters/openai/translate/detail/scratch.h"

#include <doctest/doctest.h>
#include <string>
#include <vector>

#include "filters/openai/translate/detail/sse_decoder.h"

namespace gemgate::openai::test {

using detail::Scratch;
using detail::ScratchWriter;

TEST_CASE("scratch: a nested scratch gets its own pool, the outer one's values stay intact") {
  Scratch outer;
  std::string err;
  REQUIRE(detail::parse_json(R"({"a":"outer value","n":[1,2,3]})", outer.doc(), &err));
  {
    Scratch inner;  // e.g. an error translated while an event's DOM is alive
    REQUIRE(
        detail::parse_json(R"({"a":"inner value, longer than the first one"})", inner.doc(), &err));
    detail::Value v(rapidjson::kObjectType);
    detail::add(v, "k", std::string(100000, 'x'), inner.allocator());
    CHECK(detail::write_json(v).size() == 100008);
    CHECK(detail::sv(inner.doc()["a"]) == "inner value, longer than the first one");
  }
  CHECK(detail::sv(outer.doc()["a"]) == "outer value");
  CHECK(detail::write_json(outer.doc()) == R"({"a":"outer value","n":[1,2,3]})");
}

TEST_CASE("scratch: documents far larger than the arena parse and write, again and again") {
  std::string big = "{\"t\":\"" + std::string(3u << 20, 'y') + "\",\"x\":[";
  for (int i = 0; i < 20000; ++i) big += std::to_string(i) + ",";
  big += "0]}";
  for (int round = 0; round < 3; ++round) {
    Scratch s;
    std::string err;
    REQUIRE(detail::parse_json(big, s.doc(), &err));
    CHECK(detail::write_json(s.doc()) == big);
  }
  Scratch small;  // the arena still works for small documents after the spill
  std::string err;
  REQUIRE(detail::parse_json("[true]", small.doc(), &err));
  CHECK(detail::write_json(small.doc()) == "[true]");
}

TEST_CASE("scratch: a parse error leaves a reason, and the next parse works") {
  Scratch s;
  std::string err;
  CHECK_FALSE(detail::parse_json("{\"a\":", s.doc(), &err));
  CHECK(err.find("at byte") != std::string::npos);
  CHECK_FALSE(detail::parse_json("{\"a\":\"\xff\"}", s.doc(), &err));  // invalid UTF-8
  REQUIRE(detail::parse_json("{\"a\":1}", s.doc(), &err));
  CHECK(s.doc()["a"].GetInt() == 1);
}

TEST_CASE("scratch writer: nested writers do not mix their output") {
  ScratchWriter outer;
  outer.writer().String("outer");
  {
    ScratchWriter inner;
    inner.writer().String("inner");
    CHECK(inner.text() == "\"inner\"");
  }
  outer.writer().Int(7);  // a second root value after the first
  CHECK(outer.text() == "\"outer\"7");
}

namespace {

// RapidJSON's own Writer on `v`.
std::string rapidjson_written(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

TEST_CASE("FastWriter writes strings byte for byte as RapidJSON's Writer does") {
  rapidjson::Document d;
  auto& a = d.GetAllocator();
  auto same = [&](const std::string& s) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember(detail::str(s, a), detail::str(s, a), a);
    REQUIRE_MESSAGE(detail::write_json(v) == rapidjson_written(v), "string of " << s.size());
  };
  for (int c = 0; c < 256; ++c) same(std::string(1, static_cast<char>(c)));
  // Every byte at every offset of a run longer than the eight-byte blocks.
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 19; ++at) {
      std::string s(19, 'a');
      s[at] = static_cast<char>(c);
      same(s);
    }
  }
  uint64_t x = 88172645463325252ull;  // xorshift: random bytes, lengths 0..63
  for (int n = 0; n < 3000; ++n) {
    std::string s;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t len = x % 64;
    for (size_t i = 0; i < len; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      s.push_back(static_cast<char>(x % 4 == 0 ? x >> 8 : 'a' + x % 26));
    }
    same(s);
  }
  same("");
  same(std::string(100000, 'q') + "\"\n\x01");
}

TEST_CASE("parse_json: the depth limit counts brackets outside strings only, escapes included") {
  Scratch s;
  std::string err;
  std::string deep_in_string =
      "{\"a\":\"" + std::string(500, '[') + "\\\"" + std::string(500, '{') + "\\\\\"}";
  CHECK(detail::parse_json(deep_in_string, s.doc(), &err));
  // An escaped backslash ends right before the closing quote: what follows is outside again.
  std::string deep_after = "[\"x\\\\\"," + std::string(200, '[') + std::string(200, ']') + "]";
  CHECK_FALSE(detail::parse_json(deep_after, s.doc(), &err));
  CHECK(err.find("nested deeper than 128") != std::string::npos);
  // An escaped quote does not end the string: the brackets after it are inside.
  std::string escaped_quote = "[\"\\\"" + std::string(200, '[') + "\"]";
  CHECK(detail::parse_json(escaped_quote, s.doc(), &err));
  std::string at_limit = std::string(128, '[') + std::string(128, ']');
  CHECK(detail::parse_json(at_limit, s.doc(), &err));
  std::string over = std::string(129, '[') + std::string(129, ']');
  CHECK_FALSE(detail::parse_json(over, s.doc(), &err));
  // Many escapes in one long string (the scan stays linear; this finishes at once).
  std::string escapes = "[\"";
  for (int i = 0; i < 200000; ++i) escapes += "\\\\\\\"";
  escapes += "\"]";
  CHECK(detail::parse_json(escapes, s.doc(), &err));
}

namespace {

// What RapidJSON's own validation says of `bytes` inside a JSON string.
bool rapidjson_accepts(const std::string& bytes) {
  std::string text = "\"" + bytes + "\"";
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !d.HasParseError();
}

}  // namespace

TEST_CASE("is_utf8 accepts exactly what RapidJSON's encoding validation accepts") {
  const unsigned char tails[] = {0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
  size_t checked = 0, valid = 0;
  for (int lead = 0x80; lead <= 0xff; ++lead) {
    std::string one(1, static_cast<char>(lead));
    CHECK(detail::is_utf8(one) == rapidjson_accepts(one));
    for (int second = 0x20; second <= 0xff; ++second) {
      if (second == '"' || second == '\\') continue;
      std::string two = one + static_cast<char>(second);
      REQUIRE_MESSAGE(detail::is_utf8(two) == rapidjson_accepts(two), lead << " " << second);
      for (unsigned char third : tails) {
        std::string three = two + static_cast<char>(third);
        REQUIRE_MESSAGE(detail::is_utf8(three) == rapidjson_accepts(three),
                        lead << " " << second << " " << int(third));
        if (lead < 0xf0) continue;
        for (unsigned char fourth : tails) {
          std::string four = three + static_cast<char>(fourth);
          bool ok = detail::is_utf8(four);
          REQUIRE_MESSAGE(ok == rapidjson_accepts(four),
                          lead << " " << second << " " << int(third) << " " << int(fourth));
          ++checked;
          valid += ok;
        }
      }
    }
  }
  CHECK(checked > 100000);
  CHECK(valid > 0);
  // Long ASCII runs around a multi-byte character (the eight-byte fast path and its edges).
  std::string ascii(37, 'a');
  for (size_t at = 0; at <= ascii.size(); ++at) {
    std::string s = ascii.substr(0, at) + "\xe2\x82\xac" + ascii.substr(at);
    CHECK(detail::is_utf8(s));
    CHECK_FALSE(detail::is_utf8(s.substr(0, at + 2)));  // cut inside the character
  }
}

namespace {

std::vector<std::string> decode(const std::vector<std::string>& pieces, size_t limit = 1 << 20) {
  detail::SseDecoder d(limit);
  std::vector<std::string> events;
  auto on = [&](std::string_view e) {
    events.emplace_back(e);
    return true;
  };
  for (const auto& p : pieces) {
    if (d.feed(p, on) != detail::SseDecoder::Status::kOk) events.emplace_back("<stop>");
  }
  d.finish(on);
  return events;
}

}  // namespace

TEST_CASE("sse decoder: lines whole in a feed, split across feeds, and every line ending") {
  std::vector<std::string> want = {"one", "two\nlines", "three"};
  CHECK(decode({"data: one\r\n\r\ndata: two\ndata: lines\n\ndata:three\r\r"}) == want);
  CHECK(decode({"data: o", "ne\r", "\n\r\nda", "ta: two\ndata: lin", "es\n", "\ndata:three\r",
                "\r"}) == want);
  // An unterminated last event is delivered at finish().
  CHECK(decode({"data: one\n\ndata: two\ndata: lines\n\ndata:three"}) == want);
  // Comments and other fields are ignored, in place and split alike.
  CHECK(decode({": ping\nevent: x\nid: 1\ndata: one\n\n", ": pi", "ng\n"}) ==
        std::vector<std::string>{"one"});
  // A short event after a long one (the kept buffer holds no leftovers).
  std::string long_data(100000, 'z');
  CHECK(decode({"data: " + long_data + "\n\n", "data: s\n\n"}) ==
        std::vector<std::string>{long_data, "s"});
}

TEST_CASE("sse decoder: the event size limit holds for in-place and split lines") {
  CHECK(decode({"data: " + std::string(2000, 'a') + "\n\n"}, 1000).front() == "<stop>");
  std::vector<std::string> split = {"data: " + std::string(600, 'a'), std::string(600, 'a')};
  CHECK(decode(split, 1000).front() == "<stop>");
  std::vector<std::string> lines = {"data: " + std::string(600, 'a') + "\n",
                                    "data: " + std::string(600, 'a') + "\n\n"};
  CHECK(decode(lines, 1000).front() == "<stop>");
}

}  // namespace gemgate::openai::test
