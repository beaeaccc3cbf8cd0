/* gemgate.so: the Lua 5.3 module over libgemgate's C ABI (`local gemgate = require "gemgate"`).
 * A thin wrapper: each method calls one C function. Expected failures (a rejected request, no
 * usable key) return nil plus details; contract violations (wrong argument types) raise Lua
 * errors. Handles are userdata freed by the garbage collector (__gc) or explicitly with
 * :close(). See capi/README.md for the Lua API. */
#include <gemgate/gemgate.h>
#include <lauxlib.h>
#include <lua.h>
#include <string.h>

#define EXCHANGE_MT "gemgate.exchange"
#define STREAM_MT "gemgate.stream"
#define POOL_MT "gemgate.pool"

typedef struct {
  gemgate_exchange* x;
} exchange_ud;
typedef struct {
  gemgate_stream* s;
} stream_ud;
typedef struct {
  gemgate_pool* p;
} pool_ud;

/* Pushes a gemgate-owned buffer as a Lua string and frees it. */
static void push_owned(lua_State* L, char* buf, size_t len) {
  lua_pushlstring(L, buf, len);
  gemgate_free(buf);
}

/* Raises a Lua error for an unexpected status. */
static int raise_status(lua_State* L, gemgate_status st) {
  return luaL_error(L, "gemgate: %s: %s", gemgate_status_name(st), gemgate_last_error());
}

static gemgate_exchange* check_exchange(lua_State* L) {
  exchange_ud* u = (exchange_ud*)luaL_checkudata(L, 1, EXCHANGE_MT);
  if (u->x == NULL) luaL_error(L, "gemgate: the exchange is closed");
  return u->x;
}

static gemgate_stream* check_stream(lua_State* L) {
  stream_ud* u = (stream_ud*)luaL_checkudata(L, 1, STREAM_MT);
  if (u->s == NULL) luaL_error(L, "gemgate: the stream is closed");
  return u->s;
}

static gemgate_pool* check_pool(lua_State* L) {
  pool_ud* u = (pool_ud*)luaL_checkudata(L, 1, POOL_MT);
  if (u->p == NULL) luaL_error(L, "gemgate: the pool is closed");
  return u->p;
}

/* ---- exchange ---- */

/* gemgate.exchange("openai_chat" | "anthropic_messages" | "openai_responses") → exchange */
static int l_exchange(lua_State* L) {
  static const char* const names[] = {"openai_chat", "anthropic_messages", "openai_responses",
                                      NULL};
  static const gemgate_front fronts[] = {
      GEMGATE_FRONT_OPENAI_CHAT, GEMGATE_FRONT_ANTHROPIC_MESSAGES, GEMGATE_FRONT_OPENAI_RESPONSES};
  int which = luaL_checkoption(L, 1, "openai_chat", names);
  exchange_ud* u = (exchange_ud*)lua_newuserdata(L, sizeof *u);
  u->x = NULL;
  luaL_setmetatable(L, EXCHANGE_MT);
  gemgate_status st = gemgate_exchange_create(fronts[which], &u->x);
  if (st != GEMGATE_OK) return raise_status(L, st);
  return 1;
}

static int l_exchange_close(lua_State* L) {
  exchange_ud* u = (exchange_ud*)luaL_checkudata(L, 1, EXCHANGE_MT);
  gemgate_exchange_destroy(u->x);
  u->x = NULL;
  return 0;
}

/* x:request(body) → true | nil, client_status, client_error_body */
static int l_request(lua_State* L) {
  gemgate_exchange* x = check_exchange(L);
  size_t len;
  const char* body = luaL_checklstring(L, 2, &len);
  gemgate_status st = gemgate_exchange_request(x, body, len);
  if (st == GEMGATE_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (st != GEMGATE_REJECTED) return raise_status(L, st);
  lua_pushnil(L);
  lua_pushinteger(L, gemgate_exchange_error_status(x));
  lua_pushstring(L, gemgate_exchange_error_body(x));
  return 3;
}

static int l_path(lua_State* L) {
  lua_pushstring(L, gemgate_exchange_upstream_path(check_exchange(L)));
  return 1;
}

static int l_body(lua_State* L) {
  size_t len = 0;
  const char* b = gemgate_exchange_upstream_body(check_exchange(L), &len);
  if (b == NULL) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, b, len);
  }
  return 1;
}

/* x:headers() → {name = value, ...} (the key is not among them) */
static int l_headers(lua_State* L) {
  const char* h = gemgate_exchange_upstream_headers(check_exchange(L));
  lua_newtable(L);
  while (h != NULL && *h != '\0') {
    const char* colon = strchr(h, ':');
    const char* eol = strstr(h, "\r\n");
    if (colon == NULL || eol == NULL || colon > eol) break;
    const char* value = colon + 1;
    while (*value == ' ') ++value;
    lua_pushlstring(L, h, (size_t)(colon - h));
    lua_pushlstring(L, value, (size_t)(eol - value));
    lua_settable(L, -3);
    h = eol + 2;
  }
  return 1;
}

static int l_model(lua_State* L) {
  lua_pushstring(L, gemgate_exchange_model(check_exchange(L)));
  return 1;
}

static int l_is_stream(lua_State* L) {
  lua_pushboolean(L, gemgate_exchange_is_stream(check_exchange(L)));
  return 1;
}

static int l_set_upstream_model(lua_State* L) {
  gemgate_status st =
      gemgate_exchange_set_upstream_model(check_exchange(L), luaL_checkstring(L, 2));
  if (st != GEMGATE_OK) return raise_status(L, st);
  return 0;
}

static int l_set_response_id(lua_State* L) {
  gemgate_status st = gemgate_exchange_set_response_id(check_exchange(L), luaL_checkstring(L, 2),
                                                       (int64_t)luaL_optinteger(L, 3, 0));
  if (st != GEMGATE_OK) return raise_status(L, st);
  return 0;
}

/* x:set_seal_key(key): the Responses front's reasoning seal key (>= 16 bytes) */
static int l_set_seal_key(lua_State* L) {
  size_t len;
  const char* key = luaL_checklstring(L, 2, &len);
  gemgate_status st = gemgate_exchange_set_seal_key(check_exchange(L), key, len);
  if (st != GEMGATE_OK) return raise_status(L, st);
  return 0;
}

/* x:response(upstream_status, body) → client_status, client_body, retry_after_ms|nil */
static int l_response(lua_State* L) {
  gemgate_exchange* x = check_exchange(L);
  int status = (int)luaL_checkinteger(L, 2);
  size_t len;
  const char* body = luaL_checklstring(L, 3, &len);
  int client_status = 0;
  char* out = NULL;
  size_t out_len = 0;
  gemgate_status st =
      gemgate_exchange_response(x, status, body, len, &client_status, &out, &out_len);
  if (st != GEMGATE_OK) return raise_status(L, st);
  lua_pushinteger(L, client_status);
  push_owned(L, out, out_len);
  int64_t retry = gemgate_exchange_retry_after_ms(x);
  if (retry >= 0) {
    lua_pushinteger(L, (lua_Integer)retry);
  } else {
    lua_pushnil(L);
  }
  return 3;
}

/* x:stream() → stream */
static int l_stream(lua_State* L) {
  gemgate_exchange* x = check_exchange(L);
  stream_ud* u = (stream_ud*)lua_newuserdata(L, sizeof *u);
  u->s = NULL;
  luaL_setmetatable(L, STREAM_MT);
  gemgate_status st = gemgate_stream_create(x, &u->s);
  if (st != GEMGATE_OK) return raise_status(L, st);
  return 1;
}

/* ---- stream ---- */

static int l_stream_close(lua_State* L) {
  stream_ud* u = (stream_ud*)luaL_checkudata(L, 1, STREAM_MT);
  gemgate_stream_destroy(u->s);
  u->s = NULL;
  return 0;
}

static int l_feed(lua_State* L) {
  gemgate_stream* s = check_stream(L);
  size_t len;
  const char* bytes = luaL_checklstring(L, 2, &len);
  char* out = NULL;
  size_t out_len = 0;
  gemgate_status st = gemgate_stream_feed(s, bytes, len, &out, &out_len);
  if (st != GEMGATE_OK) return raise_status(L, st);
  push_owned(L, out, out_len);
  return 1;
}

static int l_finish(lua_State* L) {
  char* out = NULL;
  size_t out_len = 0;
  gemgate_status st = gemgate_stream_finish(check_stream(L), &out, &out_len);
  if (st != GEMGATE_OK) return raise_status(L, st);
  push_owned(L, out, out_len);
  return 1;
}

/* s:fail(http_status, message) → bytes */
static int l_fail(lua_State* L) {
  gemgate_stream* s = check_stream(L);
  int status = (int)luaL_optinteger(L, 2, 502);
  const char* message = luaL_optstring(L, 3, NULL);
  char* out = NULL;
  size_t out_len = 0;
  gemgate_status st = gemgate_stream_fail(s, status, message, &out, &out_len);
  if (st != GEMGATE_OK) return raise_status(L, st);
  push_owned(L, out, out_len);
  return 1;
}

static int l_done(lua_State* L) {
  lua_pushboolean(L, gemgate_stream_done(check_stream(L)));
  return 1;
}

static int l_started(lua_State* L) {
  lua_pushboolean(L, gemgate_stream_started(check_stream(L)));
  return 1;
}

/* s:error() → status, body | nil */
static int l_stream_error(lua_State* L) {
  gemgate_stream* s = check_stream(L);
  if (!gemgate_stream_failed(s)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushinteger(L, gemgate_stream_error_status(s));
  lua_pushstring(L, gemgate_stream_error_body(s));
  return 2;
}

/* ---- pool ---- */

/* gemgate.pool({key, ...}, policy_json|nil) → pool */
static int l_pool(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const char* policy = luaL_optstring(L, 2, NULL);
  lua_Integer n = luaL_len(L, 1);
  if (n < 0 || n > 100000) return luaL_error(L, "gemgate.pool: too many keys");
  const char** keys = (const char**)lua_newuserdata(L, sizeof(char*) * (size_t)(n ? n : 1));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      return luaL_error(L, "gemgate.pool: key %d is not a string", (int)i);
    keys[i - 1] = lua_tostring(L, -1);
    lua_pop(L, 1); /* still referenced by the table */
  }
  pool_ud* u = (pool_ud*)lua_newuserdata(L, sizeof *u);
  u->p = NULL;
  luaL_setmetatable(L, POOL_MT);
  gemgate_status st = gemgate_pool_create(keys, (size_t)n, policy, &u->p);
  if (st != GEMGATE_OK) return raise_status(L, st);
  return 1;
}

static int l_pool_close(lua_State* L) {
  pool_ud* u = (pool_ud*)luaL_checkudata(L, 1, POOL_MT);
  gemgate_pool_destroy(u->p);
  u->p = NULL;
  return 0;
}

static int64_t opt_now(lua_State* L, int arg) {
  return (int64_t)luaL_optinteger(L, arg, -1);
}

/* pool:pick(model, {excluded ids}|nil, now_ms|nil) → id, key | nil, message, retry_after_ms */
static int l_pick(lua_State* L) {
  gemgate_pool* p = check_pool(L);
  const char* model = luaL_checkstring(L, 2);
  int64_t exclude[64];
  size_t n = 0;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer len = luaL_len(L, 3);
    luaL_argcheck(L, len <= 64, 3, "at most 64 excluded key ids");
    for (lua_Integer i = 1; i <= len; ++i) {
      lua_geti(L, 3, i);
      exclude[n++] = (int64_t)luaL_checkinteger(L, -1);
      lua_pop(L, 1);
    }
  }
  int64_t id = 0, retry = 0;
  const char* key = NULL;
  gemgate_status st = gemgate_pool_pick(p, model, exclude, n, opt_now(L, 4), &id, &key, &retry);
  if (st == GEMGATE_NO_KEY) {
    lua_pushnil(L);
    lua_pushstring(L, gemgate_last_error());
    lua_pushinteger(L, (lua_Integer)retry);
    return 3;
  }
  if (st != GEMGATE_OK) return raise_status(L, st);
  lua_pushinteger(L, (lua_Integer)id);
  lua_pushstring(L, key);
  return 2;
}

static const char* kind_name(gemgate_outcome_kind k) {
  switch (k) {
    case GEMGATE_OUTCOME_SUCCESS:
      return "success";
    case GEMGATE_OUTCOME_KEY_INVALID:
      return "key_invalid";
    case GEMGATE_OUTCOME_QUOTA:
      return "quota";
    case GEMGATE_OUTCOME_UPSTREAM_FAULT:
      return "upstream_fault";
    case GEMGATE_OUTCOME_UNREACHABLE:
      return "unreachable";
    case GEMGATE_OUTCOME_CLIENT_ERROR:
      return "client_error";
  }
  return "unknown";
}

static int push_outcome(lua_State* L, const gemgate_outcome* o) {
  lua_createtable(L, 0, 5);
  lua_pushstring(L, kind_name(o->kind));
  lua_setfield(L, -2, "kind");
  lua_pushinteger(L, o->http_status);
  lua_setfield(L, -2, "http_status");
  lua_pushinteger(L, (lua_Integer)o->retry_delay_ms);
  lua_setfield(L, -2, "retry_delay_ms");
  lua_pushboolean(L, o->outage);
  lua_setfield(L, -2, "outage");
  lua_pushstring(L, o->reason);
  lua_setfield(L, -2, "reason");
  return 1;
}

/* pool:report(id, model, http_status, body|nil, headers|nil, now_ms|nil) → outcome table
 * {kind, http_status, retry_delay_ms, outage, reason} */
static int l_report(lua_State* L) {
  gemgate_pool* p = check_pool(L);
  int64_t id = (int64_t)luaL_checkinteger(L, 2);
  const char* model = luaL_checkstring(L, 3);
  int status = (int)luaL_checkinteger(L, 4);
  size_t body_len = 0, headers_len = 0;
  const char* body = luaL_optlstring(L, 5, NULL, &body_len);
  const char* headers = luaL_optlstring(L, 6, NULL, &headers_len);
  gemgate_outcome o;
  gemgate_status st = gemgate_pool_report(p, id, model, status, headers, headers_len, body,
                                          body_len, opt_now(L, 7), &o);
  if (st != GEMGATE_OK) return raise_status(L, st);
  return push_outcome(L, &o);
}

/* pool:report_transport_failure(id, model, connected, now_ms|nil) → outcome table */
static int l_report_failure(lua_State* L) {
  gemgate_pool* p = check_pool(L);
  int64_t id = (int64_t)luaL_checkinteger(L, 2);
  const char* model = luaL_checkstring(L, 3);
  int connected = lua_toboolean(L, 4);
  gemgate_outcome o;
  gemgate_status st =
      gemgate_pool_report_transport_failure(p, id, model, connected, opt_now(L, 5), &o);
  if (st != GEMGATE_OK) return raise_status(L, st);
  return push_outcome(L, &o);
}

/* pool:health() → JSON string */
static int l_health(lua_State* L) {
  char* json = NULL;
  size_t len = 0;
  gemgate_status st = gemgate_pool_health_json(check_pool(L), &json, &len);
  if (st != GEMGATE_OK) return raise_status(L, st);
  push_owned(L, json, len);
  return 1;
}

static int l_abi_version(lua_State* L) {
  lua_pushinteger(L, gemgate_abi_version());
  return 1;
}

static int l_version(lua_State* L) {
  lua_pushstring(L, gemgate_version());
  return 1;
}

static void new_class(lua_State* L, const char* name, const luaL_Reg* methods, lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}

__attribute__((visibility("default"))) int luaopen_gemgate(lua_State* L) {
  static const luaL_Reg exchange_methods[] = {{"request", l_request},
                                              {"path", l_path},
                                              {"body", l_body},
                                              {"headers", l_headers},
                                              {"model", l_model},
                                              {"is_stream", l_is_stream},
                                              {"set_upstream_model", l_set_upstream_model},
                                              {"set_response_id", l_set_response_id},
                                              {"set_seal_key", l_set_seal_key},
                                              {"response", l_response},
                                              {"stream", l_stream},
                                              {"close", l_exchange_close},
                                              {NULL, NULL}};
  static const luaL_Reg stream_methods[] = {{"feed", l_feed},          {"finish", l_finish},
                                            {"fail", l_fail},          {"done", l_done},
                                            {"started", l_started},    {"error", l_stream_error},
                                            {"close", l_stream_close}, {NULL, NULL}};
  static const luaL_Reg pool_methods[] = {
      {"pick", l_pick},     {"report", l_report},    {"report_transport_failure", l_report_failure},
      {"health", l_health}, {"close", l_pool_close}, {NULL, NULL}};
  static const luaL_Reg functions[] = {{"exchange", l_exchange},
                                       {"pool", l_pool},
                                       {"abi_version", l_abi_version},
                                       {"version", l_version},
                                       {NULL, NULL}};
  if (gemgate_abi_version() != GEMGATE_ABI_VERSION) {
    return luaL_error(L, "gemgate: libgemgate ABI %d, module built for %d", gemgate_abi_version(),
                      GEMGATE_ABI_VERSION);
  }
  new_class(L, EXCHANGE_MT, exchange_methods, l_exchange_close);
  new_class(L, STREAM_MT, stream_methods, l_stream_close);
  new_class(L, POOL_MT, pool_methods, l_pool_close);
  luaL_newlib(L, functions);
  return 1;
}
