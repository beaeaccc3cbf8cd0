// The `admin` filter (terminal): everything under /admin — the login page and its assets
// (public), POST /admin/api/login (public, throttled), and behind the admin token (Bearer) or a
// session cookie: the dashboard page and the JSON API (see admin/README.md). Cookie-authenticated
// state changes must be same-origin JSON (CSRF). Request bodies are limited to 1 MiB.
#pragma once

#include "core/registry.h"

namespace gemgate::admin {

// The admin token's SHA-256 ("" until one is set); conf sets it on the first start.
inline constexpr Setting<SecretText> kAdminToken{"admin_token"};
inline constexpr Setting<int64_t> kSessionTtlS{"admin_session_ttl_s"};

// Registers the `admin` filter and the `admin` error format, and declares kAdminToken and
// kSessionTtlS. Needs the AdminServices service.
Result<void> register_admin_filter(Registry& registry);

// The cookie that carries a browser's session id.
inline constexpr std::string_view kSessionCookie = "gemgate_session";

}  // namespace gemgate::admin
