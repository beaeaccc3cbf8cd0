// crypto (SHA-256 against FIPS 180-2 vectors, constant-time compare, random tokens) and the
// log redaction every line passes through (keys, key= values, Bearer tokens, registered secrets,
// registered key shapes).
#include <doctest/doctest.h>
#include <initializer_list>
#include <set>

#include "core/crypto.h"
#include "core/log.h"
#include "tests/unit/support/gemini_dialect.h"

using namespace gemgate;

TEST_CASE("sha256 known vectors") {
  CHECK(crypto::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(crypto::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(crypto::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(crypto::sha256_hex(std::string(1'000'000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Lengths around the padding boundary (55/56/64 bytes) must all differ and be stable.
  std::set<std::string> seen;
  for (size_t n : {55, 56, 57, 63, 64, 65}) seen.insert(crypto::sha256_hex(std::string(n, 'x')));
  CHECK(seen.size() == 6);
  CHECK(crypto::sha256_hex(std::string(64, 'a')) ==
        "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("sha256: the CPU-accelerated digest equals the portable one at every length") {
  // Lengths 0..300 cover one to six blocks and every padding case; the bytes are varied so a
  // wrong word order or schedule cannot hide.
  std::string data;
  uint32_t x = 12345;
  for (size_t n = 0; n <= 300; ++n) {
    CHECK(crypto::sha256(data) == crypto::detail::sha256_portable(data));
    x = x * 1103515245u + 12345u;
    data.push_back(static_cast<char>(x >> 16));
  }
  std::string big(100'003, 'q');
  CHECK(crypto::sha256(big) == crypto::detail::sha256_portable(big));
}

TEST_CASE("constant_time_equals") {
  CHECK(crypto::constant_time_equals("secret", "secret"));
  CHECK_FALSE(crypto::constant_time_equals("secret", "secreT"));
  CHECK_FALSE(crypto::constant_time_equals("secret", "secret2"));
  CHECK(crypto::constant_time_equals("", ""));
}

TEST_CASE("random_token: prefix, base62 alphabet, length for the entropy, unique") {
  std::string t = crypto::random_token("gg_");
  CHECK(t.starts_with("gg_"));
  CHECK(t.size() == 3 + 32);  // 24 bytes = 192 bits → 32 characters of ~6 bits
  for (char c : t.substr(3)) {
    CAPTURE(c);
    CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')));
  }
  CHECK(crypto::random_token("", 3).size() == 4);
  std::set<std::string> many;
  for (int i = 0; i < 1000; ++i) many.insert(crypto::random_token("", 16));
  CHECK(many.size() == 1000);
}

TEST_CASE("redact masks Google keys, key= and token= values, Bearer and x-goog-api-key values") {
  test::use_gemini_redaction();  // what conf registers at start
  std::string key = "AIzaSyA1234567890abcdefghijklmnopqrstuv";
  std::string out = log::redact("calling with " + key + " now");
  CHECK(out.find(key) == std::string::npos);
  CHECK(out == "calling with AIza…stuv now");  // the one masking rule (text::mask)

  out = log::redact("GET /v1beta/models?key=mysecretclienttoken&alt=sse");
  CHECK(out.find("mysecretclienttoken") == std::string::npos);
  CHECK(out == "GET /v1beta/models?key=myse…oken&alt=sse");
  CHECK(out.find("alt=sse") != std::string::npos);

  out = log::redact("Authorization: Bearer sk-abcdefghijklmnop");
  CHECK(out.find("abcdefghijklmnop") == std::string::npos);
  CHECK(out.find("Bearer ") != std::string::npos);

  out = log::redact("x-goog-api-key: zzzzzzzzzzzzzzzzzzzz");
  CHECK(out.find("zzzzzzzzzzzzzzzzzzzz") == std::string::npos);

  out = log::redact("token=abcdefghijklmnopq session=0123456789abcdef");
  CHECK(out.find("abcdefghijklmnopq") == std::string::npos);
  CHECK(out.find("0123456789abcdef") == std::string::npos);

  CHECK(log::redact("an ordinary line with 42 words") == "an ordinary line with 42 words");
}

TEST_CASE("registered prefixes and labels teach redact a shape of secret; core knows none") {
  // Made-up shapes, so what another test registered cannot interfere.
  std::string key = "Zqx9Rk0123456789abcdef";
  CHECK(log::redact("calling with " + key) == "calling with " + key);
  CHECK(log::redact("x-acme-secret: plainvalue1234") == "x-acme-secret: plainvalue1234");
  log::register_secret_prefix("zqx9");  // ASCII case-insensitive
  log::register_secret_prefix("zqx9");  // again: no change
  log::register_secret_prefix("");      // ignored: it would mask every word
  log::register_secret_label("x-acme-secret");
  CHECK(log::redact("calling with " + key) == "calling with Zqx9…cdef");
  CHECK(log::redact("x-acme-secret: plainvalue1234") == "x-acme-secret: plai…1234");
  CHECK(log::redact("an ordinary line with 42 words") == "an ordinary line with 42 words");
}

TEST_CASE("registered secrets are masked wherever they appear, until forgotten") {
  std::string secret = "plainsecretvalue77";
  CHECK(log::redact("x " + secret + " y") == "x " + secret + " y");
  log::register_secret(secret);
  CHECK(log::redact("x " + secret + " y").find(secret) == std::string::npos);
  CHECK(log::redact("(" + secret + ")").find(secret) == std::string::npos);
  log::forget_secret(secret);
  CHECK(log::redact("x " + secret + " y") == "x " + secret + " y");
  log::register_secret("abc");  // too short to be a secret: would mask ordinary words
  CHECK(log::redact("abc") == "abc");
}

TEST_CASE("registered secrets are found as substrings, inside paths and URLs") {
  std::string token = "gga-pathtoken-0123456789";
  std::string password = "p@ss:w0rd!x";
  log::register_secret(token);
  log::register_secret(password);
  // '/' and '=' used to count as word characters, so a secret inside a path was never matched.
  std::string out = log::redact("GET /v1beta/models/" + token + " 404 model=" + token);
  CHECK(out.find(token) == std::string::npos);
  CHECK(out == "GET /v1beta/models/gga-…6789 404 model=gga-…6789");
  out = log::redact("/admin/" + token + "x/y");
  CHECK(out == "/admin/gga-…6789x/y");
  // Non-word characters inside the secret itself.
  out = log::redact("postgres://user:" + password + "@db/x");
  CHECK(out.find(password) == std::string::npos);
  CHECK(out == "postgres://user:…@db/x");
  // The longest registered secret wins where two share a beginning.
  log::register_secret(token + "-longer");
  CHECK(log::redact(token + "-longer!") == "gga-…nger!");
  log::forget_secret(token + "-longer");
  log::forget_secret(token);
  log::forget_secret(password);
  CHECK(log::redact("/admin/" + token) == "/admin/" + token);
}

TEST_CASE("redact with per-call values masks them anywhere, ignoring too short ones") {
  std::string_view presented[] = {"wrong-token-abcdefgh", "abc"};
  std::string out = log::redact("GET /v1beta/models/wrong-token-abcdefgh:x abc", presented);
  CHECK(out == "GET /v1beta/models/wron…efgh:x abc");
}

TEST_CASE(
    "redact finds a secret at every position, the very end included, and keeps finding "
    "one whose first bytes another secret shared after that one is forgotten") {
  // Two secrets sharing their first two bytes (the index of which positions may start one),
  // and a per-call value: each placed at every offset of a line, up to its last byte.
  const std::string a = "Qz-pair-secret-one-0001";
  const std::string b = "Qz-pair-secret-two-0002";
  const std::string presented = "presented-credential-77";
  log::register_secret(a);
  log::register_secret(b);
  log::forget_secret(a);  // b must stay found: the shared pair is still some secret's start
  const std::string_view also[] = {presented};
  for (const std::string& secret : {b, presented}) {
    for (std::size_t at = 0; at <= 40; ++at) {
      const std::string line = std::string(at, '.') + secret;
      CAPTURE(line);
      const std::string out = log::redact(line, also);
      CHECK(out.find(secret) == std::string::npos);
      CHECK(out.find(log::mask(secret)) != std::string::npos);
    }
  }
  // The forgotten one is text again.
  CHECK(log::redact("x " + a, also) == "x " + a);
  log::forget_secret(b);
  CHECK(log::redact("x " + b) == "x " + b);
}

TEST_CASE("redact_append appends exactly what redact returns, whatever the text before it") {
  test::use_gemini_redaction();
  const std::string_view presented[] = {"presented-credential-99"};
  const std::string secret = "registered-secret-append-1";
  log::register_secret(secret);
  // Separator runs, words, a label whose next word is masked, key= values, both kinds of secret
  // at the edges, and texts shorter than a secret.
  for (const std::string& text : std::initializer_list<std::string>{
           "", "a", "/v1beta/models/x:generateContent", "  ::  //  ", "Bearer abcdefghijklmnop",
           "k key=abcdefghijkl&alt=sse", "presented-credential-99",
           "x " + secret + "/presented-credential-99",
           "AIzaSyA1234567890abcdefghijklmnopqrstuv!"}) {
    CAPTURE(text);
    // A "Bearer" ending the text before does not mask this text's first word: each piece is
    // redacted on its own.
    std::string out = "before Bearer";
    log::redact_append(out, text, presented);
    CHECK(out == "before Bearer" + log::redact(text, presented));
  }
  std::string out;
  for (int i = 0; i < 100; ++i) log::redact_append(out, "x " + secret, presented);
  CHECK(out.find(secret) == std::string::npos);
  CHECK(out.size() == 100 * log::redact("x " + secret).size());
  log::forget_secret(secret);
}

TEST_CASE("mask shows the first and last four characters, or nothing when too short") {
  CHECK(log::mask("AIzaSyA1234567890abcdefghijklmnopqrstuv") == "AIza…stuv");
  CHECK(log::mask("short") == "…");
  CHECK(log::mask("exactly12chr") == "exac…2chr");
}

TEST_CASE("parse_level") {
  log::Level l = log::Level::kInfo;
  CHECK(log::parse_level("debug", &l));
  CHECK(l == log::Level::kDebug);
  CHECK(log::parse_level("warning", &l));
  CHECK(l == log::Level::kWarn);
  CHECK_FALSE(log::parse_level("loud", &l));
  CHECK(l == log::Level::kWarn);
}

TEST_CASE("LineLimiter: one line per key per interval, with the count of the suppressed ones") {
  log::LineLimiter limiter(10'000, 2);
  CHECK(limiter.admit("a", 1000) == 0);
  CHECK(limiter.admit("a", 1001) == -1);
  CHECK(limiter.admit("a", 5000) == -1);
  CHECK(limiter.admit("b", 5000) == 0);  // keys are independent
  CHECK(limiter.admit("a", 11'000) == 2);
  CHECK(limiter.admit("a", 11'001) == -1);
  // Past max_keys, a new key shares the catch-all entry, so a spray of addresses stays bounded.
  CHECK(limiter.admit("c", 12'000) == 0);
  CHECK(limiter.admit("d", 12'001) == -1);
}
