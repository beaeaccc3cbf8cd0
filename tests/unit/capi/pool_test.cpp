// gemgate_pool_*: the gateway's key pool through the C ABI — round-robin, exclusion for
// retries, classification of reported answers (invalid key, quota with retry delay, upstream
// fault, client error, transport failures), the health snapshot (never a whole key), the
// caller's clock, operator actions, and refused input.
#include <atomic>
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/capi/capi_util.h"

namespace gemgate::capi::test {
namespace {

const char* kKeyA = "AIzaSyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const char* kKeyB = "AIzaSyBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
const char* kKeyC = "AIzaSyCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
const char* kModel = "gemini-2.5-flash";
const int64_t kNow = 1'800'000'000'000;

const std::string kInvalidKeyBody =
    R"({"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT",)"
    R"("details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}})";
const std::string kQuotaBody =
    R"({"error":{"code":429,"message":"exhausted","status":"RESOURCE_EXHAUSTED",)"
    R"("details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}})";

Pool make_pool(std::vector<const char*> keys, const char* policy = nullptr) {
  gemgate_pool* p = nullptr;
  REQUIRE(gemgate_pool_create(keys.data(), keys.size(), policy, &p) == GEMGATE_OK);
  return Pool(p);
}

int64_t pick(gemgate_pool* p, std::vector<int64_t> exclude = {}, int64_t now = kNow) {
  int64_t id = 0;
  const char* key = nullptr;
  int64_t retry = -5;
  gemgate_status st =
      gemgate_pool_pick(p, kModel, exclude.data(), exclude.size(), now, &id, &key, &retry);
  if (st != GEMGATE_OK) return -static_cast<int64_t>(st);
  CHECK(key != nullptr);
  return id;
}

gemgate_outcome report(gemgate_pool* p, int64_t id, int status, const std::string& body,
                       int64_t now = kNow) {
  gemgate_outcome o{};
  REQUIRE(gemgate_pool_report(p, id, kModel, status, nullptr, 0, body.data(), body.size(), now,
                              &o) == GEMGATE_OK);
  return o;
}

std::string health(gemgate_pool* p) {
  char* buf = nullptr;
  size_t len = 0;
  REQUIRE(gemgate_pool_health_json(p, &buf, &len) == GEMGATE_OK);
  return take(buf, len);
}

}  // namespace

TEST_CASE("round-robin over the keys, exclusion for retries, the secret handed out") {
  Pool p = make_pool({kKeyA, kKeyB, kKeyC});
  std::vector<int64_t> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(pick(p.get()));
  CHECK(seen[0] != seen[1]);
  CHECK(seen[1] != seen[2]);
  CHECK(seen[0] == seen[3]);
  CHECK(pick(p.get(), {1, 2}) == 3);
  CHECK(pick(p.get(), {1, 2, 3}) == -GEMGATE_NO_KEY);
  CHECK(std::string(gemgate_last_error()).find("already tried") != std::string::npos);

  int64_t id = 0;
  const char* key = nullptr;
  REQUIRE(gemgate_pool_pick(p.get(), kModel, nullptr, 0, kNow, &id, &key, nullptr) == GEMGATE_OK);
  CHECK(std::string(key) == std::vector<const char*>{kKeyA, kKeyB, kKeyC}[id - 1]);
}

TEST_CASE("an invalid key is disabled at once; the next pick skips it") {
  Pool p = make_pool({kKeyA, kKeyB});
  gemgate_outcome o = report(p.get(), 1, 400, kInvalidKeyBody);
  CHECK(o.kind == GEMGATE_OUTCOME_KEY_INVALID);
  CHECK(o.http_status == 400);
  CHECK(o.outage == 0);
  CHECK(std::string(o.reason) == "API_KEY_INVALID");
  for (int i = 0; i < 4; ++i) CHECK(pick(p.get()) == 2);
  std::string h = health(p.get());
  rapidjson::Document d;
  d.Parse(h.c_str());
  REQUIRE(d.IsObject());
  CHECK(d["keys"][0]["disabled"].GetBool());
  CHECK(d["enabled"].GetInt() == 1);
  CHECK(d["size"].GetInt() == 2);
  // Never a whole key in the snapshot.
  CHECK(h.find(kKeyA) == std::string::npos);
  CHECK(h.find(kKeyB) == std::string::npos);
  CHECK(std::string(d["keys"][0]["key_mask"].GetString()).find("AIza") == 0);

  report(p.get(), 2, 401, "{}");
  CHECK(pick(p.get()) == -GEMGATE_NO_KEY);
  CHECK(std::string(gemgate_last_error()).find("disabled") != std::string::npos);
  REQUIRE(gemgate_pool_enable(p.get(), 1) == GEMGATE_OK);
  CHECK(pick(p.get()) == 1);
}

TEST_CASE("quota: the key cools down for Google's retry delay, on the caller's clock") {
  Pool p = make_pool({kKeyA});
  gemgate_outcome o = report(p.get(), 1, 429, kQuotaBody);
  CHECK(o.kind == GEMGATE_OUTCOME_QUOTA);
  CHECK(o.retry_delay_ms == 37000);
  int64_t id = 0, retry = 0;
  const char* key = nullptr;
  CHECK(gemgate_pool_pick(p.get(), kModel, nullptr, 0, kNow + 1000, &id, &key, &retry) ==
        GEMGATE_NO_KEY);
  CHECK(retry > 0);
  CHECK(retry <= 37000);
  CHECK(std::string(gemgate_last_error()).find("cooling") != std::string::npos);
  // Another model is not affected; after the delay the key is back.
  CHECK(gemgate_pool_pick(p.get(), "gemini-2.5-pro", nullptr, 0, kNow + 1000, &id, &key, nullptr) ==
        GEMGATE_OK);
  CHECK(pick(p.get(), {}, kNow + 40'000) == 1);
  CHECK(health(p.get()).find(R"("model":"gemini-2.5-flash")") != std::string::npos);
}

TEST_CASE("upstream faults and client errors: classified, key stays enabled") {
  Pool p = make_pool({kKeyA, kKeyB, kKeyC}, R"({"breaker_threshold":0})");
  gemgate_outcome o = report(p.get(), 1, 503, R"({"error":{"code":503,"status":"UNAVAILABLE"}})");
  CHECK(o.kind == GEMGATE_OUTCOME_UPSTREAM_FAULT);
  o = report(p.get(), 2, 400,
             R"({"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}})");
  CHECK(o.kind == GEMGATE_OUTCOME_CLIENT_ERROR);
  o = report(p.get(), 3, 200, "");
  CHECK(o.kind == GEMGATE_OUTCOME_SUCCESS);
  CHECK(o.retry_delay_ms == -1);
  std::string h = health(p.get());
  CHECK(h.find(R"("disabled":true)") == std::string::npos);
}

TEST_CASE("transport failures: unreachable is the upstream's fault, a reset the key's attempt") {
  Pool p = make_pool({kKeyA, kKeyB});
  gemgate_outcome o{};
  REQUIRE(gemgate_pool_report_transport_failure(p.get(), 1, kModel, 0, kNow, &o) == GEMGATE_OK);
  CHECK(o.kind == GEMGATE_OUTCOME_UNREACHABLE);
  CHECK(o.outage == 1);
  CHECK(o.http_status == 0);
  REQUIRE(gemgate_pool_report_transport_failure(p.get(), 2, kModel, 1, kNow, &o) == GEMGATE_OK);
  CHECK(o.kind == GEMGATE_OUTCOME_UPSTREAM_FAULT);
}

TEST_CASE("a transient failure strikes the key x model breaker after the threshold") {
  Pool p = make_pool({kKeyA, kKeyB, kKeyC, "AIzaSyDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"},
                     R"({"breaker_threshold":1,"breaker_base_ms":10000})");
  report(p.get(), 1, 500, R"({"error":{"code":500,"status":"INTERNAL"}})");
  // Key 1 is open for this model: it is skipped (the others still serve).
  for (int i = 0; i < 6; ++i) CHECK(pick(p.get(), {}, kNow + 100) != 1);
  CHECK(health(p.get()).find(R"("breaker":true)") != std::string::npos);
}

TEST_CASE("operator actions and unknown ids") {
  Pool p = make_pool({kKeyA});
  CHECK(gemgate_pool_disable(p.get(), 1, nullptr) == GEMGATE_OK);
  CHECK(health(p.get()).find("disabled by admin") != std::string::npos);
  CHECK(pick(p.get()) == -GEMGATE_NO_KEY);
  CHECK(gemgate_pool_reset(p.get(), 1) == GEMGATE_OK);
  CHECK(pick(p.get()) == 1);
  CHECK(gemgate_pool_enable(p.get(), 9) == GEMGATE_NOT_FOUND);
  CHECK(gemgate_pool_disable(p.get(), 9, "x") == GEMGATE_NOT_FOUND);
  CHECK(gemgate_pool_reset(p.get(), 9) == GEMGATE_NOT_FOUND);
  gemgate_outcome o{};
  CHECK(gemgate_pool_report(p.get(), 9, kModel, 200, nullptr, 0, nullptr, 0, kNow, &o) ==
        GEMGATE_NOT_FOUND);
  CHECK(gemgate_pool_report(p.get(), 1, kModel, 0, nullptr, 0, nullptr, 0, kNow, &o) ==
        GEMGATE_INVALID_ARGUMENT);
  CHECK(gemgate_pool_report(p.get(), 1, nullptr, 200, nullptr, 0, nullptr, 0, kNow, &o) ==
        GEMGATE_INVALID_ARGUMENT);
  // The pool's own clock (negative now): works, and the pick stamps last use.
  CHECK(pick(p.get(), {}, -1) == 1);
  CHECK(health(p.get()).find(R"("last_used_ms":0)") == std::string::npos);
}

TEST_CASE("refused pools: bad keys (never echoed), duplicates, bad policies") {
  gemgate_pool* p = nullptr;
  const char* short_key[] = {kKeyA, "sk-secret-word"};
  CHECK(gemgate_pool_create(short_key, 2, nullptr, &p) == GEMGATE_INVALID_ARGUMENT);
  CHECK(std::string(gemgate_last_error()).find("key 2") != std::string::npos);
  CHECK(std::string(gemgate_last_error()).find("sk-secret-word") == std::string::npos);
  const char* dup[] = {kKeyA, kKeyA};
  CHECK(gemgate_pool_create(dup, 2, nullptr, &p) == GEMGATE_INVALID_ARGUMENT);
  CHECK(std::string(gemgate_last_error()).find(kKeyA) == std::string::npos);
  const char* null_key[] = {nullptr};
  CHECK(gemgate_pool_create(null_key, 1, nullptr, &p) == GEMGATE_INVALID_ARGUMENT);
  const char* one[] = {kKeyA};
  for (const char* policy : {"[]", "{", R"({"breaker_threshold":-1})", R"({"nope":1})",
                             R"({"cooldown_max_ms":"1"})", R"({"breaker_base_ms":1.5})"}) {
    CAPTURE(policy);
    CHECK(gemgate_pool_create(one, 1, policy, &p) == GEMGATE_INVALID_ARGUMENT);
  }
  CHECK(std::string(gemgate_last_error()).find("breaker_base_ms") != std::string::npos);
  CHECK(p == nullptr);
  CHECK(gemgate_pool_create(nullptr, 0, "", &p) == GEMGATE_OK);  // an empty pool is allowed
  Pool empty(p);
  CHECK(pick(empty.get()) == -GEMGATE_NO_KEY);
  CHECK(std::string(gemgate_last_error()).find("no keys") != std::string::npos);
  gemgate_pool_destroy(nullptr);
}

TEST_CASE("one pool shared by threads") {
  Pool p = make_pool({kKeyA, kKeyB, kKeyC});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        int64_t id = 0;
        const char* key = nullptr;
        if (gemgate_pool_pick(p.get(), kModel, nullptr, 0, -1, &id, &key, nullptr) != GEMGATE_OK)
          continue;
        gemgate_outcome o{};
        if (gemgate_pool_report(p.get(), id, kModel, 200, nullptr, 0, nullptr, 0, -1, &o) ==
            GEMGATE_OK)
          ok.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok.load() == 2000);
}

}  // namespace gemgate::capi::test
