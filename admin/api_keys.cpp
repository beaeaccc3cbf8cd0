// Admin API: the key pool — list with paging/search/status, add, delete, verify, reset, enable,
// disable, and bulk actions. Live health comes from the in-memory pool; usage from storage.
#include <algorithm>
#include <tuple>
#include <unordered_map>

#include "admin/admin_filter.h"
#include "admin/api.h"
#include "admin/health_check.h"
#include "admin/key_policy.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/text.h"

namespace gemgate::admin {

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr size_t kMinKeySearch = 10;

// Usage of `ids` over the last 24 hours, by id.
std::unordered_map<int64_t, storage::UsageTotals> usage_24h(storage::Store& store,
                                                            const std::vector<int64_t>& ids,
                                                            int64_t now) {
  std::unordered_map<int64_t, storage::UsageTotals> out;
  if (ids.empty()) return out;
  auto usage = store.key_usage(ids, now - kDayMs, now + 1);
  if (usage.ok()) {
    for (const auto& u : *usage) out[u.key_id] = u.usage;
  }
  return out;
}

std::string key_json(pool::KeyPool& pool, storage::Store& store, int64_t id) {
  auto key = pool.find(id);
  if (!key) return "null";
  int64_t now = now_unix_ms();
  auto usage = usage_24h(store, {id}, now);
  JsonOut out;
  write_key(out, *key, now, usage.count(id) ? &usage[id] : nullptr);
  return out.take();
}

// Reads a query parameter as an integer within [lo, hi], or `fallback`.
int64_t int_param(const http::Request& req, std::string_view name, int64_t fallback, int64_t lo,
                  int64_t hi) {
  auto v = req.query_param(name);
  if (!v || v->empty() || v->size() > 18) return fallback;
  int64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return fallback;
    n = n * 10 + (c - '0');
  }
  return std::clamp(n, lo, hi);
}

// Collects the ids of a bulk call: a list of ids, or "all".
std::optional<std::vector<int64_t>> bulk_ids(const rapidjson::Value& body, pool::KeyPool& pool,
                                             std::string* error) {
  auto it = body.FindMember("ids");
  if (it == body.MemberEnd()) {
    *error = "'ids' is required: a list of key ids or \"all\"";
    return std::nullopt;
  }
  std::vector<int64_t> ids;
  if (it->value.IsString() && std::string_view(it->value.GetString()) == "all") {
    const auto key_list = pool.keys();  // held: a range-for over *temporary dangles
    for (const auto& k : *key_list) ids.push_back(k->id());
    return ids;
  }
  if (!it->value.IsArray()) {
    *error = "'ids' must be a list of key ids or \"all\"";
    return std::nullopt;
  }
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsInt64() || v.GetInt64() < 0) {
      *error = "'ids' must contain key ids (whole numbers)";
      return std::nullopt;
    }
    ids.push_back(v.GetInt64());
  }
  if (ids.size() > 100'000) {
    *error = "too many ids in one call";
    return std::nullopt;
  }
  return ids;
}

void write_results(JsonOut& out, const std::string& action,
                   const std::vector<std::pair<int64_t, std::string>>& results) {
  int64_t ok = 0;
  out.begin_object().field("action", action).key("results").begin_array();
  for (const auto& [id, reason] : results) {
    out.begin_object().field("id", id).field("ok", reason.empty());
    if (!reason.empty()) out.field("reason", reason);
    out.end_object();
    ok += reason.empty() ? 1 : 0;
  }
  out.end_array()
      .field("succeeded", ok)
      .field("failed", static_cast<int64_t>(results.size()) - ok)
      .end_object();
}

// The status of a failed one-key action: 503 when storage failed (the database is down; nothing
// changed, the pool included), else 404 (the key went meanwhile).
int failure_status(const std::string& reason) {
  return reason.rfind("storage: ", 0) == 0 ? 503 : 404;
}

// Applies reset/enable/disable/delete to `ids` in storage, then to the live pool.
std::vector<std::pair<int64_t, std::string>> apply_action(storage::Store& store,
                                                          pool::KeyPool& pool,
                                                          const std::string& action,
                                                          const std::vector<int64_t>& ids) {
  std::vector<std::pair<int64_t, std::string>> results;
  for (int64_t id : ids) {
    auto key = pool.find(id);
    if (!key) {
      results.emplace_back(id, "no such key");
      continue;
    }
    Result<int64_t> r = int64_t{0};
    if (action == "reset")
      r = store.reset_key_health({id});
    else if (action == "enable")
      r = store.set_keys_disabled({id}, false, "");
    else if (action == "disable")
      r = store.set_keys_disabled({id}, true, "disabled by admin");
    else if (action == "delete")
      r = store.delete_keys({id});
    if (!r.ok()) {
      results.emplace_back(id, "storage: " + r.error().message);
      continue;
    }
    if (action == "reset")
      pool.reset(id);
    else if (action == "enable")
      pool.enable(id);
    else if (action == "disable")
      pool.disable(id, "disabled by admin");
    else if (action == "delete") {
      log::forget_secret(key->secret());
      pool.remove_key(id);
    }
    results.emplace_back(id, "");
  }
  return results;
}

}  // namespace

void handle_keys_list(ApiCall& call) {
  const http::Request& req = call.x.request();
  std::string status = req.query_param("status").value_or("all");
  if (status != "all" && status != "active" && status != "cooling" && status != "disabled") {
    send_error(call.x, 400, "status must be active, cooling, disabled or all", "status");
    return;
  }
  std::string q = req.query_param("q").value_or("");
  std::optional<std::string> group = req.query_param("group");  // present and "" = no group
  int64_t page = int_param(req, "page", 1, 1, 1'000'000);
  int64_t per_page = int_param(req, "per_page", 50, 1, 500);
  int64_t now = now_unix_ms();
  auto list = call.s.pool->keys();
  std::vector<std::shared_ptr<pool::PoolKey>> matching;
  int64_t counts[4] = {0, 0, 0, 0};  // all, active, cooling, disabled
  for (const auto& key : *list) {
    std::string st = key_status(*key, now);
    ++counts[0];
    ++counts[st == "active" ? 1 : st == "cooling" ? 2 : 3];
    if (status != "all" && st != status) continue;
    if (group && key->policy()->group != *group) continue;
    // Search by id, by the masked form, or by a piece of the key of at least kMinKeySearch
    // characters. Shorter pieces would be an oracle: a caller could recover a masked key one
    // character at a time; with 10 characters, at least 6 of them unknown, guessing is out of
    // reach.
    if (!q.empty() && std::to_string(key->id()) != q &&
        mask_secret(key->secret()).find(q) == std::string::npos &&
        (q.size() < kMinKeySearch || key->secret().find(q) == std::string::npos)) {
      continue;
    }
    matching.push_back(key);
  }
  std::sort(matching.begin(), matching.end(),
            [](const auto& a, const auto& b) { return a->id() < b->id(); });
  size_t first = static_cast<size_t>((page - 1) * per_page);
  std::vector<std::shared_ptr<pool::PoolKey>> page_keys;
  for (size_t i = first; i < matching.size() && page_keys.size() < static_cast<size_t>(per_page);
       ++i) {
    page_keys.push_back(matching[i]);
  }
  int64_t total = static_cast<int64_t>(matching.size());
  run_storage_job(call, [page_keys, total, page, per_page, now,
                         c = std::vector<int64_t>(counts, counts + 4)](storage::Store& store) {
    std::vector<int64_t> ids;
    for (const auto& k : page_keys) ids.push_back(k->id());
    auto usage = usage_24h(store, ids, now);
    JsonOut out;
    out.begin_object().key("items").begin_array();
    for (const auto& k : page_keys) {
      auto it = usage.find(k->id());
      write_key(out, *k, now, it == usage.end() ? nullptr : &it->second);
    }
    out.end_array().field("total", total).field("page", page).field("per_page", per_page);
    out.key("counts")
        .begin_object()
        .field("all", c[0])
        .field("active", c[1])
        .field("cooling", c[2])
        .field("disabled", c[3])
        .end_object()
        .end_object();
    return Reply::json(out.take());
  });
}

namespace {

// One key to add, with the options of its import line or object (none = the defaults).
struct NewKey {
  std::string secret;
  KeyPolicyPatch patch;
  size_t line = 0;  // 1-based line of the text import, 0 for the list form
};

// Reads {"keys":[...]} (strings, or objects {"key", weight, group, rpm, tpm, proxy, note}) or
// {"text":"..."} (one key per line with options "key,weight=2,group=paid,...", or plain lists
// of keys). Returns "" or the problem, with *field set.
std::string read_new_keys(const rapidjson::Value& body, std::vector<NewKey>& out,
                          std::string* field) {
  *field = "keys";
  if (auto it = body.FindMember("keys"); it != body.MemberEnd()) {
    if (!it->value.IsArray()) return "'keys' must be a list of keys (strings or objects)";
    size_t i = 0;
    for (const auto& v : it->value.GetArray()) {
      NewKey k;
      if (v.IsString()) {
        k.secret.assign(v.GetString(), v.GetStringLength());
      } else if (v.IsObject()) {
        auto key = v.FindMember("key");
        if (key == v.MemberEnd() || !key->value.IsString()) {
          return "keys[" + std::to_string(i) + "]: 'key' must be the key (a string)";
        }
        k.secret.assign(key->value.GetString(), key->value.GetStringLength());
        if (auto p = read_policy_json(v, k.patch, {"key"})) {
          *field = p->field;
          return "keys[" + std::to_string(i) + "]: " + p->field + ": " + p->message;
        }
      } else {
        return "'keys' must be a list of keys (strings or objects)";
      }
      out.push_back(std::move(k));
      ++i;
    }
    return "";
  }
  auto t = body.FindMember("text");
  if (t == body.MemberEnd()) return "send {\"keys\":[...]} or {\"text\":\"...\"}";
  *field = "text";
  if (!t->value.IsString()) return "'text' must be a string";
  std::string_view text(t->value.GetString(), t->value.GetStringLength());
  size_t line_no = 0;
  while (!text.empty() || line_no == 0) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (has_key_options(line)) {
      KeyLine parsed;
      if (auto p = parse_key_line(line, parsed)) {
        return "line " + std::to_string(line_no) + ": " + p->field + ": " + p->message;
      }
      out.push_back({std::move(parsed.secret), std::move(parsed.patch), line_no});
    } else {
      for (std::string& secret : text::split_list(line))
        out.push_back({std::move(secret), {}, line_no});
    }
    if (nl == std::string_view::npos) break;
  }
  return "";
}

}  // namespace

void handle_keys_add(ApiCall& call) {
  std::vector<NewKey> new_keys;
  std::string field;
  if (std::string why = read_new_keys(call.body, new_keys, &field); !why.empty()) {
    return send_error(call.x, 400, why, field);
  }
  if (new_keys.empty()) return send_error(call.x, 400, "no keys given", "keys");
  if (new_keys.size() > 50'000) return send_error(call.x, 400, "too many keys in one call", field);
  std::vector<std::string> secrets;
  for (const NewKey& k : new_keys) {
    log::register_secret(k.secret);
    if (k.patch.proxy) register_proxy_secret(*k.patch.proxy);
    secrets.push_back(k.secret);
  }
  auto pool = call.s.pool;
  auto credentials = call.s.credentials;
  auto settings = call.s.settings;
  run_storage_job(call, [new_keys, secrets, pool, credentials, settings](storage::Store& store) {
    int64_t now = now_unix_ms();
    // A client token must never work as a pool key and the other way round.
    auto creds = credentials->load();
    const std::string admin_hash = settings->load()->get(kAdminToken);
    std::vector<std::string> accepted;
    std::vector<size_t> origin;  // accepted[i] came from secrets[origin[i]]
    std::vector<storage::RejectedKey> rejected;
    for (size_t i = 0; i < secrets.size(); ++i) {
      if (std::string why = pool::key_format_problem(secrets[i]); !why.empty()) {
        rejected.push_back({i, why});
      } else if (creds->find(crypto::sha256_hex(secrets[i]))) {
        rejected.push_back({i, "equals a client token"});
      } else if (crypto::constant_time_equals(crypto::sha256_hex(secrets[i]), admin_hash)) {
        rejected.push_back({i, "equals the admin token"});
      } else {
        accepted.push_back(secrets[i]);
        origin.push_back(i);
      }
    }
    auto added = store.add_keys(accepted, now);
    if (!added.ok()) return Reply::error(503, "storage: " + added.error().message);
    for (auto r : added->rejected) rejected.push_back({origin[r.index], r.reason});
    if (!added->added_ids.empty()) {
      auto stored = store.load_keys();
      if (!stored.ok()) return Reply::error(503, "storage: " + stored.error().message);
      std::unordered_map<std::string, size_t> by_secret;  // first input of each secret
      for (size_t i = 0; i < new_keys.size(); ++i) by_secret.emplace(new_keys[i].secret, i);
      std::vector<std::pair<int64_t, storage::KeyPolicyRow>> policies;
      std::vector<std::tuple<std::string, pool::KeyHealth, pool::KeyPolicy>> to_pool;
      for (int64_t id : added->added_ids) {
        for (const auto& k : *stored) {
          if (k.id != id) continue;
          pool::KeyHealth h;
          h.id = id;
          h.created_ms = k.created_at;
          pool::KeyPolicy policy;
          if (auto it = by_secret.find(k.secret); it != by_secret.end()) {
            policy = new_keys[it->second].patch.applied_to(policy);
          }
          if (!(policy == pool::KeyPolicy{})) policies.emplace_back(id, to_stored(policy));
          to_pool.emplace_back(k.secret, h, policy);
        }
      }
      if (!policies.empty()) {
        auto saved = store.set_key_policies(policies);
        if (!saved.ok()) {
          return Reply::error(503,
                              "storage: the keys were added but their options were not "
                              "saved: " +
                                  saved.error().message);
        }
      }
      for (auto& [secret, h, policy] : to_pool) pool->add_key(secret, h, policy);
    }
    std::sort(rejected.begin(), rejected.end(),
              [](const auto& a, const auto& b) { return a.index < b.index; });
    JsonOut out;
    out.begin_object()
        .field("added", added->added_ids.size())
        .field("duplicates", added->duplicates)
        .field("rejected", rejected.size())
        .key("added_ids")
        .begin_array();
    for (int64_t id : added->added_ids) out.num(id);
    out.end_array().key("rejected_items").begin_array();
    for (const auto& r : rejected) {
      out.begin_object().field("index", r.index).field("reason", r.reason);
      if (new_keys[r.index].line > 0) out.field("line", new_keys[r.index].line);
      out.end_object();
    }
    out.end_array().end_object();
    if (!added->added_ids.empty()) {
      log::info("admin: added " + std::to_string(added->added_ids.size()) + " key(s)");
    }
    return Reply::json(out.take(), added->added_ids.empty() ? 200 : 201);
  });
}

void handle_key_patch(ApiCall& call, int64_t id) {
  auto pool = call.s.pool;
  if (!pool->find(id)) return send_error(call.x, 404, "no key with id " + std::to_string(id));
  KeyPolicyPatch patch;
  if (!call.body.IsObject() || call.body.MemberCount() == 0) {
    return send_error(call.x, 400,
                      "send an object with any of weight, group, rpm, tpm, proxy, note");
  }
  if (auto p = read_policy_json(call.body, patch, {})) {
    return send_error(call.x, 400, p->field + ": " + p->message, p->field);
  }
  if (patch.proxy) register_proxy_secret(*patch.proxy);
  run_storage_job(call, [pool, id, patch](storage::Store& store) {
    // Jobs run one at a time: two PATCHes of one key cannot interleave here.
    auto key = pool->find(id);
    if (!key) return Reply::error(404, "no key with id " + std::to_string(id));
    pool::KeyPolicy policy = patch.applied_to(*key->policy());
    auto saved = store.set_key_policies({{id, to_stored(policy)}});
    if (!saved.ok()) return Reply::error(503, "storage: " + saved.error().message);
    if (*saved == 0) return Reply::error(404, "no key with id " + std::to_string(id));
    pool->set_policy(id, policy);
    log::info("admin: changed the policy of key " + std::to_string(id));
    return Reply::json(key_json(*pool, store, id));
  });
}

void handle_key_delete(ApiCall& call, int64_t id) {
  auto pool = call.s.pool;
  if (!pool->find(id)) return send_error(call.x, 404, "no key with id " + std::to_string(id));
  run_storage_job(call, [pool, id](storage::Store& store) {
    auto results = apply_action(store, *pool, "delete", {id});
    if (!results.front().second.empty())
      return Reply::error(failure_status(results.front().second), results.front().second);
    log::info("admin: deleted key " + std::to_string(id));
    return Reply::json("{\"deleted\":true}");
  });
}

void handle_key_action(ApiCall& call, int64_t id, const std::string& action) {
  auto pool = call.s.pool;
  if (!pool->find(id)) return send_error(call.x, 404, "no key with id " + std::to_string(id));
  if (action == "verify") {
    auto settings = call.s.settings->load();
    HealthCheckOptions options = health_check_options(*settings, call.s.upstream_base_url);
    options.ids = {id};
    storage::StorageThread* storage = call.s.storage;
    run_health_check(
        call.x.worker(), pool, options,
        [ref = call.x.terminal_ref(), storage, pool, id](HealthCheckResult result) {
          std::string reason =
              result.still_failing.empty() ? "" : result.still_failing.front().reason;
          bool queued = storage->submit([ref, pool, id, reason](storage::Store& store) {
            JsonOut out;
            out.begin_object().field("id", id).field("ok", reason.empty());
            if (!reason.empty()) out.field("reason", reason);
            out.key("key").raw(key_json(*pool, store, id)).end_object();
            ref.post(
                [body = out.take()](TerminalCallbacks& x) { send_reply(x, Reply::json(body)); });
          });
          if (!queued)
            ref.post([](TerminalCallbacks& x) { send_error(x, 503, "storage is shutting down"); });
        });
    return;
  }
  if (action != "reset" && action != "enable" && action != "disable") {
    return send_error(call.x, 404, "unknown key action '" + action + "'");
  }
  run_storage_job(call, [pool, id, action](storage::Store& store) {
    auto results = apply_action(store, *pool, action, {id});
    if (!results.front().second.empty())
      return Reply::error(failure_status(results.front().second), results.front().second);
    log::info("admin: " + action + " key " + std::to_string(id));
    return Reply::json(key_json(*pool, store, id));
  });
}

void handle_keys_bulk(ApiCall& call) {
  const rapidjson::Value& body = call.body;
  auto a = body.FindMember("action");
  if (a == body.MemberEnd() || !a->value.IsString()) {
    return send_error(call.x, 400, "'action' must be verify, reset, enable, disable or delete",
                      "action");
  }
  std::string action = a->value.GetString();
  if (action != "verify" && action != "reset" && action != "enable" && action != "disable" &&
      action != "delete") {
    return send_error(call.x, 400, "'action' must be verify, reset, enable, disable or delete",
                      "action");
  }
  std::string why;
  auto ids = bulk_ids(body, *call.s.pool, &why);
  if (!ids) return send_error(call.x, 400, why, "ids");
  auto pool = call.s.pool;
  if (action == "verify") {
    auto settings = call.s.settings->load();
    HealthCheckOptions options = health_check_options(*settings, call.s.upstream_base_url);
    std::vector<std::pair<int64_t, std::string>> unknown;
    for (int64_t id : *ids) {
      if (pool->find(id))
        options.ids.push_back(id);
      else
        unknown.emplace_back(id, "no such key");
    }
    if (options.ids.empty()) {
      JsonOut out;
      write_results(out, action, unknown);
      return send_reply(call.x, Reply::json(out.take()));
    }
    run_health_check(
        call.x.worker(), pool, options,
        [ref = call.x.terminal_ref(), checked = options.ids, unknown](HealthCheckResult r) {
          std::vector<std::pair<int64_t, std::string>> results = unknown;
          for (int64_t id : checked) {
            std::string reason;
            for (const auto& f : r.still_failing) {
              if (f.id == id) reason = f.reason.empty() ? "failed" : f.reason;
            }
            results.emplace_back(id, reason);
          }
          JsonOut out;
          write_results(out, "verify", results);
          ref.post([body = out.take()](TerminalCallbacks& x) { send_reply(x, Reply::json(body)); });
        });
    return;
  }
  run_storage_job(call, [pool, action, ids = std::move(*ids)](storage::Store& store) {
    auto results = apply_action(store, *pool, action, ids);
    JsonOut out;
    write_results(out, action, results);
    log::info("admin: bulk " + action + " on " + std::to_string(ids.size()) + " key(s)");
    return Reply::json(out.take());
  });
}

}  // namespace gemgate::admin
