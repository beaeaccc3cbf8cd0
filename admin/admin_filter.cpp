#include "admin/admin_filter.h"

#include <cstring>
#include <rapidjson/error/en.h>

#include "admin/api.h"
#include "admin/api_routes.h"
#include "admin/web_assets.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/json_surrogates.h"
#include "core/log.h"
#include "core/worker.h"

namespace gemgate::admin {

namespace {

constexpr size_t kMaxBody = 1024 * 1024;
constexpr uint64_t kFailedLoginDelayMs = 1000;
constexpr std::string_view kApiPrefix = "/admin/api/";
constexpr std::string_view kAssetPrefix = "/admin/assets/";
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

bool is_mutating(const std::string& method) {
  return method == "POST" || method == "PATCH" || method == "PUT" || method == "DELETE";
}

// The value of cookie `name` in a Cookie header, or "".
std::string cookie_value(const http::Request& req, std::string_view name) {
  const std::string* header = req.headers.get("cookie");
  if (!header) return "";
  std::string_view rest(*header);
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view pair = rest.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name)
      return std::string(pair.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  return "";
}

// CSRF: a browser's state-changing call must be same-origin JSON.
std::string csrf_problem(const http::Request& req) {
  std::string_view type = req.headers.get_or("content-type", "");
  if (type.size() < 16 || !http::iequals(type.substr(0, 16), "application/json")) {
    return "state-changing admin calls must send Content-Type: application/json";
  }
  if (const std::string* site = req.headers.get("sec-fetch-site")) {
    if (*site != "same-origin" && *site != "none") return "cross-site request refused";
  }
  if (const std::string* origin = req.headers.get("origin")) {
    std::string host(req.headers.get_or("host", ""));
    if (*origin != "http://" + host && *origin != "https://" + host)
      return "cross-origin request refused";
  }
  return "";
}

std::string client_address(const FilterCallbacks& x) {
  const std::string& peer = x.info().client_addr;
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

// GET /admin/api/session: who is signed in, and until when (cookie sessions).
void handle_session(ApiCall& call, const PathArgs&) {
  JsonOut out;
  out.begin_object().field("authenticated", true).field("via", call.via);
  if (call.session_expires_at) out.field("expires_at", call.session_expires_at);
  out.end_object();
  send_reply(call.x, Reply::json(out.take()));
}

// POST /admin/api/logout: ends the cookie's session (if any) and clears the cookie.
void handle_logout(ApiCall& call, const PathArgs&) {
  std::string session = cookie_value(call.x.request(), kSessionCookie);
  std::string hash = session.empty() ? "" : crypto::sha256_hex(session);
  run_storage_job(call, [hash](storage::Store& store) {
    if (!hash.empty()) {
      auto deleted = store.delete_session(hash);
      if (!deleted.ok()) return Reply::error(503, "storage: " + deleted.error().message);
    }
    Reply r = Reply::json("{\"ok\":true}");
    r.headers.add("set-cookie", std::string(kSessionCookie) +
                                    "=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0");
    return r;
  });
}

// Adapters from the handlers of admin/api.h to ApiHandler.
template <void (*Handle)(ApiCall&)>
void without_args(ApiCall& call, const PathArgs&) {
  Handle(call);
}
template <void (*Handle)(ApiCall&, int64_t)>
void with_id(ApiCall& call, const PathArgs& args) {
  Handle(call, args.id);
}
void key_action(ApiCall& call, const PathArgs& args) {
  handle_key_action(call, args.id, args.action);
}

// Every admin API endpoint, one line each (the patterns are explained in admin/api_routes.h). A
// path listed with some methods answers 405 to the others.
constexpr ApiRoute kApiRoutes[] = {
    {"GET", "session", &handle_session},
    {"POST", "logout", &handle_logout},
    {"GET", "keys", &without_args<handle_keys_list>},
    {"POST", "keys", &without_args<handle_keys_add>},
    {"POST", "keys/bulk", &without_args<handle_keys_bulk>},
    {"DELETE", "keys/{key_id}", &with_id<handle_key_delete>},
    {"PATCH", "keys/{key_id}", &with_id<handle_key_patch>},
    {"POST", "keys/{key_id}/{action}", &key_action},
    {"GET", "tokens", &without_args<handle_tokens_list>},
    {"POST", "tokens", &without_args<handle_tokens_create>},
    {"PATCH", "tokens/{id}", &with_id<handle_token_update>},
    {"DELETE", "tokens/{id}", &with_id<handle_token_delete>},
    {"GET", "settings", &without_args<handle_settings_get>},
    {"PATCH", "settings", &without_args<handle_settings_patch>},
    {"GET", "logs", &without_args<handle_logs_get>},
    {"DELETE", "logs", &without_args<handle_logs_delete>},
    {"GET", "stats", &without_args<handle_stats>},
    {"POST", "reload", &without_args<handle_reload>},
};

class AdminFilter final : public TerminalFilter {
 public:
  explicit AdminFilter(std::shared_ptr<AdminServices> services) : s_(std::move(services)) {}

  Status on_request(TerminalCallbacks& x) override {
    const http::Request& req = x.request();
    const std::string& path = req.path;
    if (req.body.size() > kMaxBody) {
      send_error(x, 413, "admin request bodies are limited to 1 MiB");
      return Status::Stop;
    }
    if (path == "/admin/login" || path == "/admin/login/") {
      serve_asset(x, "login.html");
      return Status::Stop;
    }
    if (path.starts_with(kAssetPrefix)) {
      serve_asset(x, path.substr(kAssetPrefix.size()));
      return Status::Stop;
    }
    if (path == "/admin/api/login") {
      login(x);
      return Status::Stop;
    }
    authenticate(x);
    return Status::Stop;
  }

 private:
  // ---- authentication ----
  void authenticate(TerminalCallbacks& x) {
    const http::Request& req = x.request();
    if (const std::string* auth = req.headers.get("authorization")) {
      // Throttled exactly like logins (one budget per address for both): without it a client can
      // check ~80 000 guesses a second. While an address is throttled even the right token gets
      // 429 — answering it would tell a guesser which guess was right.
      std::string client = client_address(x);
      int64_t now = now_unix_ms();
      if (int64_t wait = s_->throttle.wait_ms(client, now); wait > 0) {
        return refuse_throttled(x, client, now, wait, "bearer");
      }
      if (token_matches(x, bearer_of(*auth))) {
        s_->throttle.succeeded(client);
        authorized(x, "bearer", 0);
      } else {
        s_->throttle.failed(client, now);
        note_refused(x, client, now, "wrong admin bearer token");
        send_error(x, 401, "invalid admin token");
      }
      return;
    }
    std::string session = cookie_value(req, kSessionCookie);
    if (session.empty()) {
      unauthenticated(x);
      return;
    }
    std::string hash = crypto::sha256_hex(session);
    TerminalRef ref = x.terminal_ref();
    bool queued = s_->storage->submit([ref, hash, this](storage::Store& store) {
      auto found = store.find_session(hash, now_unix_ms());
      int64_t expires = (found.ok() && *found) ? (*found)->expires_at : 0;
      // `this` is only used on the loop, through ref, while the exchange (and so this filter)
      // lives.
      ref.post([expires, this](TerminalCallbacks& x) {
        if (expires > 0)
          authorized(x, "cookie", expires);
        else
          unauthenticated(x);
      });
    });
    if (!queued) send_error(x, 503, "storage is shutting down");
  }

  static std::string bearer_of(std::string_view value) {
    if (value.size() < 7 || !http::iequals(value.substr(0, 7), "bearer ")) return "";
    return std::string(value.substr(7));
  }

  bool token_matches(const FilterCallbacks& x, const std::string& presented) const {
    const std::string& stored = x.settings().get(kAdminToken);
    if (stored.empty() || presented.empty()) return false;
    return crypto::constant_time_equals(crypto::sha256_hex(presented), stored);
  }

  void unauthenticated(TerminalCallbacks& x) {
    const std::string& path = x.request().path;
    if ((path == "/admin" || path == "/admin/") && !path.starts_with(kApiPrefix)) {
      http::Response& r = x.response();
      r.status = 302;
      r.headers.set("location", "/admin/login");
      r.headers.set("cache-control", "no-store");
      x.deliver_head();
      return;
    }
    send_error(x, 401,
               "sign in first: send the admin token as 'Authorization: Bearer <token>' or log in");
  }

  void authorized(TerminalCallbacks& x, const std::string& via, int64_t expires) {
    const http::Request& req = x.request();
    if (via == "cookie" && is_mutating(req.method)) {
      if (std::string why = csrf_problem(req); !why.empty()) {
        send_error(x, 403, why);
        return;
      }
    }
    const std::string& path = req.path;
    if (path == "/admin" || path == "/admin/") {
      if (req.method != "GET" && req.method != "HEAD") return send_error(x, 405, "use GET");
      serve_asset(x, "index.html");
      return;
    }
    if (!path.starts_with(kApiPrefix)) {
      send_error(x, 404, "no such admin page");
      return;
    }
    call_ = std::make_unique<ApiCall>(ApiCall{x, *s_, {}, rapidjson::Document(), via, expires});
    std::string_view rest = std::string_view(path).substr(kApiPrefix.size());
    while (!rest.empty()) {
      size_t slash = rest.find('/');
      if (slash != 0) call_->segments.emplace_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (has_encoded_nul(req.query)) {
      send_error(x, 400, "query parameters must not contain a NUL byte (%00)");
      return;
    }
    if (!parse_body(x, *call_)) return;
    RouteMatch route = match_api_route(kApiRoutes, req.method, call_->segments);
    if (!route.route) return send_error(x, route.status, route.message);
    route.route->handler(*call_, route.args);
  }

  // True when the raw query string encodes a NUL byte. Neither store can hold one the same way
  // (PostgreSQL's text type cannot at all), so every admin value with one is refused up front.
  static bool has_encoded_nul(std::string_view query) {
    for (size_t i = query.find('%'); i != std::string_view::npos; i = query.find('%', i + 1)) {
      if (query.substr(i + 1, 2) == "00") return true;
    }
    return false;
  }

  // True when a string anywhere in `v` (a member name or a value) holds a NUL byte. The depth
  // is bounded: parse_body checked it before parsing.
  static bool holds_nul(const rapidjson::Value& v) {
    if (v.IsString()) return std::memchr(v.GetString(), 0, v.GetStringLength()) != nullptr;
    if (v.IsArray()) {
      for (const auto& e : v.GetArray()) {
        if (holds_nul(e)) return true;
      }
    } else if (v.IsObject()) {
      for (const auto& m : v.GetObject()) {
        if (holds_nul(m.name) || holds_nul(m.value)) return true;
      }
    }
    return false;
  }

  static bool parse_body(TerminalCallbacks& x, ApiCall& call) {
    const std::string& body = x.request().body;
    call.body.SetObject();
    if (body.empty()) return true;
    rapidjson::Document doc;
    if (!json::depth_within(body)) {
      send_error(x, 400, "body is nested too deeply");
      return false;
    }
    if (json_text::has_lone_surrogate(body)) {
      // Its decoded form is not UTF-8: stored, it would break every answer that reads it back
      // (and PostgreSQL refuses it).
      send_error(x, 400,
                 "body is not valid JSON: a \\u escape holds half of a surrogate pair without the "
                 "other half");
      return false;
    }
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) {
      send_error(x, 400,
                 std::string("body is not valid JSON: ") +
                     rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                     std::to_string(doc.GetErrorOffset()));
      return false;
    }
    if (!doc.IsObject()) {
      send_error(x, 400, "body must be a JSON object");
      return false;
    }
    if (holds_nul(doc)) {
      send_error(x, 400, "body must not contain a NUL character (\\u0000) in any string");
      return false;
    }
    call.body = std::move(doc);
    return true;
  }

  // ---- session ----
  void login(TerminalCallbacks& x) {
    const http::Request& req = x.request();
    if (req.method != "POST") return send_error(x, 405, "use POST");
    if (std::string why = csrf_problem(req); !why.empty()) return send_error(x, 403, why);
    std::string client = client_address(x);
    int64_t now = now_unix_ms();
    if (int64_t wait = s_->throttle.wait_ms(client, now); wait > 0) {
      return refuse_throttled(x, client, now, wait, "login");
    }
    rapidjson::Document doc;
    json::parse(doc, req.body);  // checked below: a failed parse is no object
    auto token = (!doc.HasParseError() && doc.IsObject()) ? doc.FindMember("token")
                                                          : rapidjson::Value::MemberIterator();
    if (doc.HasParseError() || !doc.IsObject() || token == doc.MemberEnd() ||
        !token->value.IsString()) {
      return send_error(x, 400, "send {\"token\": \"<admin token>\"}", "token");
    }
    std::string presented(token->value.GetString(), token->value.GetStringLength());
    if (!token_matches(x, presented)) {
      s_->throttle.failed(client, now);
      // Never log the value tried; slow every failure down.
      note_refused(x, client, now, "failed login");
      delay_ = std::make_unique<Timer>(x.worker().loop());
      delay_->start(kFailedLoginDelayMs,
                    [&x] { send_error(x, 401, "wrong admin token", "token"); });
      return;
    }
    s_->throttle.succeeded(client);
    int64_t ttl_ms = x.settings().get(kSessionTtlS) * 1000;
    std::string session = crypto::random_token("", 32);
    storage::AdminSession row{crypto::sha256_hex(session), now, now + ttl_ms};
    TerminalRef ref = x.terminal_ref();
    std::string presented_hash = crypto::sha256_hex(presented);
    auto settings = s_->settings;
    bool queued = s_->storage->submit([ref, row, session, ttl_ms, presented_hash,
                                       settings](storage::Store& store) {
      // Check again here: an admin-token change (which ends every session) runs on this thread
      // too, and may have landed between the check above and this job.
      if (!crypto::constant_time_equals(presented_hash, settings->load()->get(kAdminToken))) {
        ref.post([](TerminalCallbacks& x) { send_error(x, 401, "wrong admin token", "token"); });
        return;
      }
      auto created = store.create_session(row);
      if (!created.ok()) {
        ref.post([](TerminalCallbacks& x) { send_error(x, 503, "could not store the session"); });
        return;
      }
      ref.post([row, session, ttl_ms](TerminalCallbacks& x) {
        Reply r =
            Reply::json("{\"ok\":true,\"expires_at\":" + std::to_string(row.expires_at) + "}");
        r.headers.add("set-cookie", std::string(kSessionCookie) + "=" + session +
                                        "; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=" +
                                        std::to_string(ttl_ms / 1000));
        log::info("admin: login from " + client_address(x));
        send_reply(x, std::move(r));
      });
    });
    if (!queued) send_error(x, 503, "storage is shutting down");
  }

  // ---- refused credentials ----
  // 429 for a throttled address, whatever it presented. `what` names the kind of attempt.
  void refuse_throttled(TerminalCallbacks& x, const std::string& client, int64_t now,
                        int64_t wait_ms, const char* what) {
    note_refused(x, client, now, std::string("throttled ") + what);
    Reply r = Reply::error(429, "too many wrong admin credentials; try again later");
    r.headers.set("retry-after", std::to_string((wait_ms + 999) / 1000));
    send_reply(x, std::move(r));
  }

  // Logs a refused admin credential (never its value) instead of the access line, at most one
  // line per address per interval: a flood of guesses must not become a flood of log.
  void note_refused(FilterCallbacks& x, const std::string& client, int64_t now,
                    const std::string& why) {
    x.info().access_log_suppressed = true;
    int64_t suppressed = s_->refused_log.admit(client, now);
    if (suppressed < 0) return;
    std::string line = "admin: refused credentials from " + client + " (" + why + ")";
    if (suppressed > 0) {
      line += "; " + std::to_string(suppressed) + " more refused from there since the last line";
    }
    log::warn(line);
  }

  // ---- static files ----
  static void serve_asset(TerminalCallbacks& x, std::string_view name) {
    const std::string& method = x.request().method;
    if (method != "GET" && method != "HEAD") return send_error(x, 405, "use GET");
    const WebAsset* asset = find_web_asset(name);
    if (!asset) return send_error(x, 404, "no such file");
    http::Response& r = x.response();
    r.status = 200;
    r.headers.set("content-type", std::string(content_type_for(name)));
    r.headers.set("cache-control", "no-cache");
    r.headers.set("content-security-policy", kCsp);
    r.headers.set("x-content-type-options", "nosniff");
    r.headers.set("x-frame-options", "DENY");
    r.headers.set("referrer-policy", "no-referrer");
    r.body.assign(asset->content.data(), asset->content.size());
    x.deliver_head();
  }

  std::shared_ptr<AdminServices> s_;
  std::unique_ptr<ApiCall> call_;
  std::unique_ptr<Timer> delay_;
};

std::string check_admin_token(const rapidjson::Value& v) {
  std::string_view s(v.GetString(), v.GetStringLength());
  if (s.size() < 16) return "must be at least 16 characters long";
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return "may only hold printable ASCII characters without spaces";
    }
  }
  return "";
}

std::string render_admin_error(const http::LocalError& e) {
  JsonOut out;
  out.begin_object().key("error").begin_object().field("message", e.message);
  if (!e.param.empty()) out.field("field", e.param);
  out.end_object().end_object();
  return out.take();
}

}  // namespace

Result<void> register_admin_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kAdminToken.with({.description = "The admin token (write-only; stored as a hash). Changing "
                                       "it ends every admin session.",
                        .default_json = "\"\"",
                        .check = [](const rapidjson::Value& v) -> std::string {
                          return v.GetStringLength() == 0 ? "" : check_admin_token(v);
                        }}),
      kSessionTtlS.with({.description = "How long an admin browser session lasts.",
                         .default_json = "43200",
                         .min = 300,
                         .max = 30 * 86400}),
  });
  if (!declared.ok()) return declared;
  if (auto r = registry.add_error_format("admin", &render_admin_error); !r.ok()) return r;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "admin",
      .summary = "the admin API and web page under /admin (terminal)",
      .terminal = true,
      .build = [](const FilterBuild<NoConfig>& b) -> std::optional<FilterFactory> {
        auto services = b.require<AdminServices>(
            "the admin filter needs the admin services (internal wiring error)");
        if (!services) return std::nullopt;
        return FilterFactory([services] { return std::make_unique<AdminFilter>(services); });
      },
  });
}

}  // namespace gemgate::admin
