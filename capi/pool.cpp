// gemgate_pool_*: the gateway's KeyPool and outcome classification behind the C ABI. The pool is
// pool/'s own class, used through its public interface only; this file adds the C handles, the
// policy reader and the JSON health snapshot. See gemgate/gemgate.h for the contracts.
#include <mutex>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <set>
#include <string>
#include <vector>

#include "capi/internal.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "pool/classify.h"
#include "pool/key_pool.h"

using gemgate::capi::fail;
using gemgate::capi::guarded;
using gemgate::pool::KeyPool;
using gemgate::pool::Outcome;
using gemgate::pool::OutcomeKind;
using gemgate::pool::PoolPolicy;

struct gemgate_pool {
  KeyPool pool;
  PoolPolicy policy;
  std::mutex names_mu;
  std::set<std::string> names;  // interned outcome reasons, borrowed by gemgate_outcome.reason

  const char* intern(const std::string& name) {
    std::lock_guard<std::mutex> lock(names_mu);
    return names.insert(name).first->c_str();
  }
};

namespace gemgate::capi {
namespace {

int64_t clock_or(int64_t now_ms) {
  return now_ms < 0 ? now_unix_ms() : now_ms;
}

// Reads the policy object into *policy; "" when fine, else what is wrong.
std::string read_policy(std::string_view text, PoolPolicy* policy) {
  if (text.empty()) return "";
  rapidjson::Document doc;
  if (!json::parse(doc, text) || !doc.IsObject()) return "policy_json is not a JSON object";
  for (auto& m : doc.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    if (!m.value.IsInt64() || m.value.GetInt64() < 0) {
      return "policy field \"" + name + "\" must be a non-negative integer";
    }
    int64_t v = m.value.GetInt64();
    if (name == "breaker_threshold") {
      if (v > 1'000'000) return "policy field \"breaker_threshold\" is too large";
      policy->breaker_threshold = static_cast<int>(v);
    } else if (name == "breaker_base_ms") {
      policy->breaker_base_ms = v;
    } else if (name == "breaker_max_ms") {
      policy->breaker_max_ms = v;
    } else if (name == "cooldown_default_ms") {
      policy->cooldown_default_ms = v;
    } else if (name == "cooldown_max_ms") {
      policy->cooldown_max_ms = v;
    } else {
      return "unknown policy field \"" + name + "\"";
    }
  }
  return "";
}

gemgate_outcome_kind kind_of(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kSuccess:
      return GEMGATE_OUTCOME_SUCCESS;
    case OutcomeKind::kKeyInvalid:
      return GEMGATE_OUTCOME_KEY_INVALID;
    case OutcomeKind::kQuota:
      return GEMGATE_OUTCOME_QUOTA;
    case OutcomeKind::kTransient:
      return GEMGATE_OUTCOME_UPSTREAM_FAULT;
    case OutcomeKind::kUnreachable:
      return GEMGATE_OUTCOME_UNREACHABLE;
    case OutcomeKind::kClientError:
      return GEMGATE_OUTCOME_CLIENT_ERROR;
  }
  return GEMGATE_OUTCOME_UPSTREAM_FAULT;
}

// Applies `outcome` to key `key_id` and fills the C outcome.
gemgate_status record(gemgate_pool& p, int64_t key_id, const char* model, const Outcome& outcome,
                      int64_t now_ms, gemgate_outcome* out) {
  auto key = p.pool.find(key_id);
  if (!key) return fail(GEMGATE_NOT_FOUND, "no key with id " + std::to_string(key_id));
  int64_t now = clock_or(now_ms);
  p.pool.metrics().count_attempt(outcome);
  bool outage = p.pool.record(*key, model, outcome, p.policy, now);
  if (out != nullptr) {
    out->kind = kind_of(outcome.kind);
    out->http_status = outcome.status;
    out->retry_delay_ms = outcome.retry_delay_ms;
    out->outage = outage ? 1 : 0;
    out->reason = p.intern(outcome.reason.empty() ? outcome.kind_name : outcome.reason);
  }
  return GEMGATE_OK;
}

std::string health_json(gemgate_pool& p) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto keys = p.pool.keys();
  w.StartObject();
  w.Key("keys");
  w.StartArray();
  for (const auto& k : *keys) {
    pool::KeyHealth h = k->health();
    w.StartObject();
    w.Key("id");
    w.Int64(h.id);
    w.Key("key_mask");
    std::string masked = log::mask(k->secret());
    w.String(masked.c_str(), masked.size());
    w.Key("disabled");
    w.Bool(h.disabled);
    std::string reason = log::redact(h.reason);
    w.Key("reason");
    w.String(reason.c_str(), reason.size());
    w.Key("failures");
    w.Int(h.failures);
    w.Key("last_used_ms");
    w.Int64(h.last_used_ms);
    std::string last_error = log::redact(h.last_error);
    w.Key("last_error");
    w.String(last_error.c_str(), last_error.size());
    w.Key("cooldowns");
    w.StartArray();
    for (const auto& c : h.cooldowns) {
      w.StartObject();
      w.Key("model");
      w.String(c.model.c_str(), c.model.size());
      w.Key("until_ms");
      w.Int64(c.until_ms);
      w.Key("strikes");
      w.Int(c.strikes);
      w.Key("breaker");
      w.Bool(c.breaker);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("enabled");
  w.Int(p.pool.enabled_count());
  w.Key("size");
  w.Uint64(keys->size());
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

const char* why_text(KeyPool::Pick::Why why) {
  switch (why) {
    case KeyPool::Pick::Why::kNoKeys:
      return "the pool has no keys";
    case KeyPool::Pick::Why::kAllDisabled:
      return "every key is disabled";
    case KeyPool::Pick::Why::kAllCooling:
      return "every key is cooling down for this model";
    case KeyPool::Pick::Why::kAllTried:
      return "every usable key was already tried";
    case KeyPool::Pick::Why::kAllBusy:
      return "every key that could serve is busy at its own rpm/tpm limit";
    case KeyPool::Pick::Why::kOk:
      break;
  }
  return "no key can serve";
}

}  // namespace
}  // namespace gemgate::capi

extern "C" {

gemgate_status gemgate_pool_create(const char* const* keys, size_t n_keys, const char* policy_json,
                                   gemgate_pool** out) {
  return guarded("gemgate_pool_create", [&] {
    if (out == nullptr || (keys == nullptr && n_keys > 0)) {
      return fail(GEMGATE_INVALID_ARGUMENT, "keys or out is NULL");
    }
    PoolPolicy policy;
    std::string bad = gemgate::capi::read_policy(policy_json ? policy_json : "", &policy);
    if (!bad.empty()) return fail(GEMGATE_INVALID_ARGUMENT, bad);
    std::vector<std::pair<std::string, gemgate::pool::KeyHealth>> list;
    std::set<std::string_view> seen;
    for (size_t i = 0; i < n_keys; ++i) {
      std::string where = "key " + std::to_string(i + 1);
      if (keys[i] == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, where + " is NULL");
      std::string problem = gemgate::pool::key_format_problem(keys[i]);
      if (!problem.empty()) return fail(GEMGATE_INVALID_ARGUMENT, where + ": " + problem);
      if (!seen.insert(keys[i]).second) {
        return fail(GEMGATE_INVALID_ARGUMENT, where + " repeats an earlier key");
      }
    }
    for (size_t i = 0; i < n_keys; ++i) {
      // Any line the pool or its caller logs later masks the key wherever it appears.
      gemgate::log::register_secret(keys[i]);
      gemgate::pool::KeyHealth h;
      h.id = static_cast<int64_t>(i + 1);
      h.created_ms = gemgate::now_unix_ms();
      list.emplace_back(keys[i], std::move(h));
    }
    auto p = std::make_unique<gemgate_pool>();
    p->policy = policy;
    p->pool.set_keys(std::move(list));
    *out = p.release();
    return GEMGATE_OK;
  });
}

void gemgate_pool_destroy(gemgate_pool* pool) {
  delete pool;
}

gemgate_status gemgate_pool_pick(gemgate_pool* pool, const char* model, const int64_t* exclude,
                                 size_t n_exclude, int64_t now_ms, int64_t* key_id,
                                 const char** key, int64_t* retry_after_ms) {
  return guarded("gemgate_pool_pick", [&] {
    if (pool == nullptr || model == nullptr || key_id == nullptr || key == nullptr ||
        (exclude == nullptr && n_exclude > 0)) {
      return fail(GEMGATE_INVALID_ARGUMENT, "NULL argument");
    }
    std::vector<int64_t> tried(exclude, exclude + n_exclude);
    auto pick = pool->pool.pick(model, tried, gemgate::capi::clock_or(now_ms));
    if (!pick.key) {
      if (retry_after_ms != nullptr) {
        *retry_after_ms = pick.why == KeyPool::Pick::Why::kAllCooling ? pick.retry_after_ms : 0;
      }
      return fail(GEMGATE_NO_KEY,
                  std::string(gemgate::capi::why_text(pick.why)) + " (model " + model + ")");
    }
    *key_id = pick.key->id();
    *key = pick.key->secret().c_str();  // the list is never replaced: stable while the pool lives
    if (retry_after_ms != nullptr) *retry_after_ms = 0;
    return GEMGATE_OK;
  });
}

gemgate_status gemgate_pool_report(gemgate_pool* pool, int64_t key_id, const char* model,
                                   int http_status, const char* headers, size_t headers_len,
                                   const char* body, size_t body_len, int64_t now_ms,
                                   gemgate_outcome* outcome) {
  return guarded("gemgate_pool_report", [&] {
    if (pool == nullptr || model == nullptr || (body == nullptr && body_len > 0) ||
        (headers == nullptr && headers_len > 0)) {
      return fail(GEMGATE_INVALID_ARGUMENT, "NULL argument");
    }
    if (http_status < 100 || http_status > 599) {
      return fail(GEMGATE_INVALID_ARGUMENT,
                  "http_status " + std::to_string(http_status) +
                      " is not an HTTP status (use gemgate_pool_report_transport_failure)");
    }
    Outcome o =
        gemgate::pool::classify_response(http_status, std::string_view(body ? body : "", body_len));
    return gemgate::capi::record(*pool, key_id, model, o, now_ms, outcome);
  });
}

gemgate_status gemgate_pool_report_transport_failure(gemgate_pool* pool, int64_t key_id,
                                                     const char* model, int connected,
                                                     int64_t now_ms, gemgate_outcome* outcome) {
  return guarded("gemgate_pool_report_transport_failure", [&] {
    if (pool == nullptr || model == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, "NULL argument");
    using gemgate::transport::FailureKind;
    Outcome o = gemgate::pool::classify_transport_failure(
        connected ? FailureKind::kReset : FailureKind::kConnectFailed,
        connected ? "the connection broke" : "could not connect");
    return gemgate::capi::record(*pool, key_id, model, o, now_ms, outcome);
  });
}

gemgate_status gemgate_pool_health_json(gemgate_pool* pool, char** json, size_t* len) {
  return guarded("gemgate_pool_health_json", [&] {
    if (pool == nullptr || json == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, "NULL argument");
    return gemgate::capi::give(gemgate::capi::health_json(*pool), json, len);
  });
}

gemgate_status gemgate_pool_enable(gemgate_pool* pool, int64_t key_id) {
  return guarded("gemgate_pool_enable", [&] {
    if (pool == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, "pool is NULL");
    return pool->pool.enable(key_id)
               ? GEMGATE_OK
               : fail(GEMGATE_NOT_FOUND, "no key with id " + std::to_string(key_id));
  });
}

gemgate_status gemgate_pool_disable(gemgate_pool* pool, int64_t key_id, const char* reason) {
  return guarded("gemgate_pool_disable", [&] {
    if (pool == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, "pool is NULL");
    std::string why = reason != nullptr && *reason != '\0'
                          ? std::string(reason)
                          : std::string(gemgate::pool::kDisabledByAdmin);
    return pool->pool.disable(key_id, why)
               ? GEMGATE_OK
               : fail(GEMGATE_NOT_FOUND, "no key with id " + std::to_string(key_id));
  });
}

gemgate_status gemgate_pool_reset(gemgate_pool* pool, int64_t key_id) {
  return guarded("gemgate_pool_reset", [&] {
    if (pool == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, "pool is NULL");
    return pool->pool.reset(key_id)
               ? GEMGATE_OK
               : fail(GEMGATE_NOT_FOUND, "no key with id " + std::to_string(key_id));
  });
}

}  // extern "C"
