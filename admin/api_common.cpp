#include <exception>

#include "admin/api.h"
#include "core/chain.h"
#include "core/text.h"

namespace gemgate::admin {

Reply Reply::error(int status, std::string message, std::string field) {
  JsonOut out;
  out.begin_object().key("error").begin_object().field("message", message);
  if (!field.empty()) out.field("field", field);
  out.end_object().end_object();
  Reply r;
  r.status = status;
  r.body = out.take();
  r.error_field = std::move(field);
  return r;
}

void send_reply(TerminalCallbacks& x, Reply reply) {
  http::Response& r = x.response();
  r.status = reply.status;
  r.headers = std::move(reply.headers);
  r.headers.set("content-type", "application/json; charset=utf-8");
  r.headers.set("cache-control", "no-store");
  r.body = std::move(reply.body);
  x.deliver_head();
}

void send_error(TerminalCallbacks& x, int status, std::string message, std::string field) {
  send_reply(x, Reply::error(status, std::move(message), std::move(field)));
}

void run_storage_job(ApiCall& call, std::function<Reply(storage::Store&)> job) {
  TerminalRef ref = call.x.terminal_ref();
  bool queued = call.s.storage->submit([ref, job = std::move(job)](storage::Store& store) {
    Reply reply;
    try {
      reply = job(store);
    } catch (const std::exception& e) {
      // Never leave the client waiting: whatever broke, it gets an answer.
      reply = Reply::error(503, "storage failed: " + std::string(e.what()));
    }
    ref.post([reply = std::move(reply)](TerminalCallbacks& x) mutable {
      send_reply(x, std::move(reply));
    });
  });
  if (!queued) send_error(call.x, 503, "storage is shutting down");
}

std::string mask_secret(std::string_view secret) {
  return text::mask(secret);  // the one rule, shared with the log and stored log rows
}

std::string key_status(const pool::PoolKey& key, int64_t now) {
  if (key.disabled()) return "disabled";
  for (const auto& c : key.health().cooldowns) {
    if (c.until_ms > now) return "cooling";
  }
  return "active";
}

void write_key(JsonOut& out, const pool::PoolKey& key, int64_t now,
               const storage::UsageTotals* usage) {
  pool::KeyHealth h = key.health();
  std::string status = h.disabled ? "disabled" : "active";
  if (!h.disabled) {
    for (const auto& c : h.cooldowns) {
      if (c.until_ms > now) status = "cooling";
    }
  }
  out.begin_object()
      .field("id", key.id())
      .field("masked", mask_secret(key.secret()))
      .field("status", status)
      .field("reason", h.reason)
      .field("failures", h.failures);
  out.key("cooldowns").begin_array();
  for (const auto& c : h.cooldowns) {
    if (c.until_ms <= now) continue;
    // "quota": cooling after a 429; "circuit": the key x model breaker is open after failures.
    out.begin_object()
        .field("model", c.model)
        .field("until", c.until_ms)
        .field("kind", c.breaker ? "circuit" : "quota")
        .end_object();
  }
  out.end_array()
      .field("last_used_at", h.last_used_ms)
      .field("last_error", h.last_error)
      .field("last_checked_at", h.last_checked_ms)
      .field("created_at", h.created_ms)
      .field("calls_24h", usage ? usage->requests : 0)
      .field("tokens_24h", usage ? usage->total_tokens : 0);
  // The operator's policy; the proxy is write-only (it may carry a password): shown masked.
  auto policy = key.policy();
  out.field("weight", static_cast<int64_t>(policy->weight))
      .field("group", policy->group)
      .field("rpm", policy->rpm)
      .field("tpm", policy->tpm)
      .field("proxy", text::mask_url_password(policy->proxy))
      .field("note", policy->note);
  // This process's last 60 s against the key's own limits (0 = none).
  pool::UsageWindow::Totals minute = key.last_minute(now);
  out.key("last_minute")
      .begin_object()
      .field("requests", minute.requests)
      .field("tokens", minute.tokens)
      .field("rpm", policy->rpm)
      .field("tpm", policy->tpm)
      .end_object()
      .end_object();
}

std::optional<int64_t> parse_id(const std::string& segment) {
  if (segment.empty() || segment.size() > 18) return std::nullopt;
  int64_t v = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace gemgate::admin
