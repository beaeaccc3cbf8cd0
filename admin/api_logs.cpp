// Admin API: request and error logs (filtered, paged, deletable) and usage statistics.
#include <algorithm>
#include <charconv>

#include "admin/api.h"

namespace gemgate::admin {

namespace {

std::optional<int64_t> int_value(const std::optional<std::string>& text) {
  if (!text || text->empty() || text->size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Fills `filter` from named text values (query parameters or a JSON object); returns the name of
// a malformed field, or "".
template <class Get>
std::string read_filter(Get&& get, storage::LogFilter& filter) {
  auto from = get("from"), to = get("to"), key = get("key"), model = get("model"),
       status = get("status"), instance = get("instance");
  if (from) {
    if (!(filter.from_ms = int_value(from))) return "from";
  }
  if (to) {
    if (!(filter.to_ms = int_value(to))) return "to";
  }
  if (key && !key->empty()) {
    if (!(filter.key_id = int_value(key))) return "key";
  }
  if (model && !model->empty()) filter.model = *model;
  if (instance && !instance->empty()) filter.instance_id = *instance;
  if (status && !status->empty()) {
    if (status->size() == 3 && (*status)[1] == 'x' && (*status)[2] == 'x' && (*status)[0] >= '1' &&
        (*status)[0] <= '5') {
      filter.status_class = (*status)[0] - '0';
    } else if (auto code = int_value(status); code && *code >= 100 && *code <= 599) {
      filter.status = static_cast<int>(*code);
    } else {
      return "status";
    }
  }
  return "";
}

void write_request_row(JsonOut& out, const storage::RequestLogRow& r) {
  out.begin_object()
      .field("id", r.id)
      .field("time", r.time_ms)
      .field("route", r.route)
      .field("method", r.method)
      .field("path", r.path)
      .field("model", r.model);
  out.key("key_id");
  r.key_id ? out.num(*r.key_id) : out.null();
  out.key("failed_key_ids").begin_array();
  for (std::int64_t id : r.failed_key_ids) out.num(id);
  out.end_array();
  out.key("token_id");
  r.token_id ? out.num(*r.token_id) : out.null();
  out.field("status", r.status)
      .field("latency_ms", r.latency_ms)
      .field("attempts", r.attempts)
      .field("stream", r.stream)
      .field("prompt_tokens", r.prompt_tokens)
      .field("completion_tokens", r.completion_tokens)
      .field("total_tokens", r.total_tokens)
      .field("error", r.error)
      .field("request_id", r.request_id)
      .field("instance_id", r.instance_id)
      .end_object();
}

void write_error_row(JsonOut& out, const storage::ErrorLogRow& r) {
  out.begin_object().field("id", r.id).field("time", r.time_ms);
  out.key("key_id");
  r.key_id ? out.num(*r.key_id) : out.null();
  out.field("model", r.model)
      .field("status", r.status)
      .field("kind", r.kind)
      .field("message", r.message)
      .field("route", r.route)
      .field("instance_id", r.instance_id)
      .end_object();
}

int64_t window_ms(std::string_view w) {
  if (w == "1m") return 60'000;
  if (w == "1h") return 3'600'000;
  if (w == "24h") return 86'400'000;
  if (w == "30d") return 30LL * 86'400'000;
  return 0;
}

}  // namespace

void handle_logs_get(ApiCall& call) {
  const http::Request& req = call.x.request();
  std::string kind = req.query_param("kind").value_or("request");
  if (kind != "request" && kind != "error")
    return send_error(call.x, 400, "kind must be request or error", "kind");
  storage::ErrorLogFilter filter;
  std::string bad = read_filter([&](const char* n) { return req.query_param(n); }, filter);
  if (!bad.empty()) return send_error(call.x, 400, "malformed '" + bad + "'", bad);
  storage::PageRequest page;
  page.page = static_cast<int>(
      std::min<int64_t>(int_value(req.query_param("page")).value_or(1), 1'000'000));
  page.per_page =
      static_cast<int>(std::min<int64_t>(int_value(req.query_param("per_page")).value_or(50), 500));
  run_storage_job(call, [kind, filter, page](storage::Store& store) {
    JsonOut out;
    out.begin_object().key("items").begin_array();
    int64_t total = 0;
    int p = page.page, pp = page.per_page;
    if (kind == "request") {
      auto rows = store.query_request_logs(filter, page);
      if (!rows.ok()) return Reply::error(503, "storage: " + rows.error().message);
      for (const auto& r : rows->items) write_request_row(out, r);
      total = rows->total, p = rows->page, pp = rows->per_page;
    } else {
      auto rows = store.query_error_logs(filter, page);
      if (!rows.ok()) return Reply::error(503, "storage: " + rows.error().message);
      for (const auto& r : rows->items) write_error_row(out, r);
      total = rows->total, p = rows->page, pp = rows->per_page;
    }
    out.end_array().field("total", total).field("page", p).field("per_page", pp).end_object();
    return Reply::json(out.take());
  });
}

void handle_logs_delete(ApiCall& call) {
  const rapidjson::Value& body = call.body;
  std::string kind = "request";
  if (auto it = body.FindMember("kind"); it != body.MemberEnd()) {
    if (!it->value.IsString())
      return send_error(call.x, 400, "kind must be request or error", "kind");
    kind = it->value.GetString();
  }
  if (kind != "request" && kind != "error")
    return send_error(call.x, 400, "kind must be request or error", "kind");
  std::vector<int64_t> ids;
  storage::ErrorLogFilter filter;
  bool by_ids = false;
  if (auto it = body.FindMember("ids"); it != body.MemberEnd()) {
    if (!it->value.IsArray())
      return send_error(call.x, 400, "'ids' must be a list of log ids", "ids");
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsInt64()) return send_error(call.x, 400, "'ids' must be a list of log ids", "ids");
      ids.push_back(v.GetInt64());
    }
    by_ids = true;
  } else if (auto f = body.FindMember("filter"); f != body.MemberEnd()) {
    if (!f->value.IsObject())
      return send_error(call.x, 400, "'filter' must be an object", "filter");
    const rapidjson::Value& obj = f->value;
    std::string bad = read_filter(
        [&](const char* n) -> std::optional<std::string> {
          auto m = obj.FindMember(n);
          if (m == obj.MemberEnd() || m->value.IsNull()) return std::nullopt;
          if (m->value.IsString()) return std::string(m->value.GetString());
          if (m->value.IsInt64()) return std::to_string(m->value.GetInt64());
          return std::string("?");
        },
        filter);
    if (!bad.empty()) return send_error(call.x, 400, "malformed '" + bad + "'", "filter." + bad);
  } else if (auto a = body.FindMember("all");
             a == body.MemberEnd() || !a->value.IsBool() || !a->value.GetBool()) {
    return send_error(call.x, 400, "send 'ids', a 'filter', or \"all\": true");
  }
  run_storage_job(call, [kind, ids, filter, by_ids](storage::Store& store) {
    Result<int64_t> n = int64_t{0};
    if (kind == "request") {
      n = by_ids ? store.delete_request_logs_by_ids(ids) : store.delete_request_logs(filter);
    } else {
      n = by_ids ? store.delete_error_logs_by_ids(ids) : store.delete_error_logs(filter);
    }
    if (!n.ok()) return Reply::error(503, "storage: " + n.error().message);
    return Reply::json("{\"deleted\":" + std::to_string(*n) + "}");
  });
}

void handle_stats(ApiCall& call) {
  std::string window = call.x.request().query_param("window").value_or("1h");
  int64_t span = window_ms(window);
  if (span == 0) return send_error(call.x, 400, "window must be 1m, 1h, 24h or 30d", "window");
  std::optional<int64_t> token_id;
  if (auto t = call.x.request().query_param("token_id"); t && !t->empty()) {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), id);
    if (ec != std::errc() || end != t->data() + t->size() || id < 0)
      return send_error(call.x, 400, "token_id must be a token's id", "token_id");
    token_id = id;
  }
  auto pool = call.s.pool;
  run_storage_job(call, [window, span, pool, token_id](storage::Store& store) {
    storage::StatsQuery q;
    q.now_ms = now_unix_ms();
    q.window_ms = span;
    q.max_buckets = 60;
    auto stats = token_id ? store.usage_stats_for_token(q, *token_id) : store.usage_stats(q);
    if (!stats.ok()) return Reply::error(503, "storage: " + stats.error().message);
    JsonOut out;
    auto totals = [&](const storage::UsageTotals& t) {
      out.field("requests", t.requests)
          .field("failures", t.failures)
          .field("prompt_tokens", t.prompt_tokens)
          .field("completion_tokens", t.completion_tokens)
          .field("total_tokens", t.total_tokens);
    };
    out.begin_object().field("window", window);
    if (token_id) out.field("token_id", *token_id);
    out.field("from", stats->from_ms)
        .field("to", stats->to_ms)
        .field("bucket_ms", stats->bucket_ms);
    out.key("totals").begin_object();
    totals(stats->totals);
    out.end_object().key("by_key").begin_array();
    for (const auto& k : stats->by_key) {
      auto key = pool->find(k.key_id);
      out.begin_object()
          .field("key_id", k.key_id)
          .field("masked", key ? mask_secret(key->secret()) : "(deleted)");
      totals(k.usage);
      out.end_object();
    }
    out.end_array().key("by_model").begin_array();
    for (const auto& m : stats->by_model) {
      out.begin_object().field("model", m.model);
      totals(m.usage);
      out.end_object();
    }
    out.end_array().key("series").begin_array();
    for (const auto& b : stats->series) {
      out.begin_object()
          .field("t", b.start_ms)
          .field("requests", b.usage.requests)
          .field("failures", b.usage.failures)
          .field("tokens", b.usage.total_tokens)
          .end_object();
    }
    int64_t counts[4] = {0, 0, 0, 0};
    const auto key_list = pool->keys();  // held: a range-for over *temporary dangles
    for (const auto& k : *key_list) {
      std::string st = key_status(*k, q.now_ms);
      ++counts[0];
      ++counts[st == "active" ? 1 : st == "cooling" ? 2 : 3];
    }
    out.end_array()
        .key("keys")
        .begin_object()
        .field("all", counts[0])
        .field("active", counts[1])
        .field("cooling", counts[2])
        .field("disabled", counts[3])
        .end_object()
        // Requests refused before authentication: counted, not logged, not in `totals`.
        .field("refused", stats->refused)
        .end_object();
    return Reply::json(out.take());
  });
}

}  // namespace gemgate::admin
