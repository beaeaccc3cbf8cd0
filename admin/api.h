// The admin JSON API's handlers and the helpers they share. Each handler gets an ApiCall (the
// exchange, the services, the parsed body and path) and answers exactly once, now or later:
// work that touches SQL runs as a storage-thread job and the answer is posted back to the
// exchange's loop (or dropped if the client left meanwhile).
#pragma once

#include <functional>
#include <optional>
#include <rapidjson/document.h>
#include <string>
#include <vector>

#include "admin/admin_services.h"
#include "admin/json_out.h"
#include "core/clock.h"
#include "core/exchange.h"

namespace gemgate::admin {

struct ApiCall {
  TerminalCallbacks& x;
  AdminServices& s;
  std::vector<std::string> segments;  // path after /admin/api/, split on '/'
  rapidjson::Document body;           // object when a JSON body was sent, else null
  std::string via;                    // "bearer" or "cookie"
  int64_t session_expires_at = 0;
};

// An answer computed off the loop (on the storage thread).
struct Reply {
  int status = 200;
  std::string body;  // JSON
  http::HeaderMap headers;
  std::string error_field;  // with status >= 400: the offending field, if any

  static Reply json(std::string body, int status = 200) {
    Reply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Reply error(int status, std::string message, std::string field = "");
};

// Sends `reply` on the exchange. Loop thread.
void send_reply(TerminalCallbacks& x, Reply reply);
// Sends {"error":{"message","field"?}} with `status`. Loop thread.
void send_error(TerminalCallbacks& x, int status, std::string message, std::string field = "");

// Runs `job` on the storage thread and sends its Reply back on the exchange's loop. Answers 503
// at once when storage is stopping.
void run_storage_job(ApiCall& call, std::function<Reply(storage::Store&)> job);

// First four and last four characters ("AIza…x7Qc"); shorter secrets are shown as "…".
std::string mask_secret(std::string_view secret);
// "active", "cooling" or "disabled" at `now`.
std::string key_status(const pool::PoolKey& key, int64_t now);
// Writes one key as the API's Key object (usage from `usage`, zero when absent).
void write_key(JsonOut& out, const pool::PoolKey& key, int64_t now,
               const storage::UsageTotals* usage_24h);
// Parses a non-negative id path segment; nullopt when it is not one.
std::optional<int64_t> parse_id(const std::string& segment);

// Handlers. Each answers the call (possibly later).
void handle_keys_list(ApiCall& call);
void handle_keys_add(ApiCall& call);
void handle_key_delete(ApiCall& call, int64_t id);
void handle_key_action(ApiCall& call, int64_t id, const std::string& action);
void handle_key_patch(ApiCall& call, int64_t id);
void handle_keys_bulk(ApiCall& call);
void handle_tokens_list(ApiCall& call);
void handle_tokens_create(ApiCall& call);
void handle_token_update(ApiCall& call, int64_t id);  // PATCH tokens/{id}: label and policy
void handle_token_delete(ApiCall& call, int64_t id);
void handle_settings_get(ApiCall& call);
void handle_settings_patch(ApiCall& call);
void handle_logs_get(ApiCall& call);
void handle_logs_delete(ApiCall& call);
void handle_stats(ApiCall& call);
void handle_reload(ApiCall& call);

// Renders every setting with value, default and description (secrets as {"set":bool}).
std::string settings_json(const Settings& settings);

}  // namespace gemgate::admin
