/* gemgate's C ABI (libgemgate.so.1): the gateway's translators and key pool for programs that
 * embed them — proxies written in C, Lua, Python, Rust, Go. The same code as inside the gemgate
 * binary, behind a plain C surface:
 *
 *   - translators: a client request of one "front" (OpenAI chat completions, Anthropic
 *     Messages, OpenAI Responses) → the Gemini call (path, headers, body); Gemini's answer (or
 * error) → the client's answer in the front's shape; an incremental stream translator fed upstream
 * SSE bytes split anywhere;
 *   - the key pool: keys + a policy; pick a key for a model (excluding keys already tried),
 *     report what Gemini answered and get its classification back, a health snapshot.
 *
 * Conventions, for every function below:
 *   - Every function that can fail returns a gemgate_status. GEMGATE_OK is 0. On failure the
 *     out-parameters are left as they were, and gemgate_last_error() describes the failure.
 *   - Errors: gemgate_last_error() is THREAD-LOCAL — the message of the last failed call made on
 *     the calling thread. Thread-local rather than per handle because constructors fail before
 *     a handle exists, and a per-thread slot needs no locking and no handle to read it. It is
 *     never cleared by a successful call: read it right after the failure.
 *   - Memory: every `char **` out-parameter receives a NUL-terminated buffer allocated by gemgate
 *     that the caller owns and frees with gemgate_free() (its length, without the NUL, goes to
 *     the matching `size_t *` when one is given; bodies may contain NUL bytes, so prefer the
 *     length). Every `const char *` returned by a function is BORROWED from the handle it was
 *     read from and stays valid until that handle is destroyed (or as said at the function).
 *     Handles are freed with their own *_destroy function, never with gemgate_free().
 *   - Input strings: `const char *` + `size_t` pairs need not be NUL-terminated; plain
 *     `const char *` inputs are NUL-terminated. gemgate copies what it keeps.
 *   - Nothing throws: no C++ exception, type or symbol crosses this boundary; only `gemgate_*`
 *     symbols are exported.
 *   - Thread safety is stated per function. In short: a pool is safe to share between threads;
 *     an exchange or a stream is used by one thread at a time (distinct handles are independent).
 *   - Compatibility: within ABI version 1 the header only grows (new functions, new enum values
 *     at the end); no declared function changes.
 *   - Logging: the key pool writes one line to stderr per key state change (disabled, cooling,
 *     back in service), with the key masked; the translators write nothing.
 */
#ifndef GEMGATE_GEMGATE_H
#define GEMGATE_GEMGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GEMGATE_API __attribute__((visibility("default")))
#else
#define GEMGATE_API
#endif

/* The ABI version this header declares (the soname's number: libgemgate.so.1). */
#define GEMGATE_ABI_VERSION 1

/* ---- status, errors, memory -------------------------------------------------------------- */

typedef enum gemgate_status {
  GEMGATE_OK = 0,
  GEMGATE_INVALID_ARGUMENT = 1, /* the caller broke the contract: NULL handle, unknown enum... */
  GEMGATE_REJECTED = 2,         /* the client's request cannot be translated: answer the client with
                                   gemgate_exchange_error_* (a 4xx in the front's shape) */
  GEMGATE_NO_KEY = 3,           /* the pool has no key that can serve (see gemgate_pool_pick) */
  GEMGATE_NOT_FOUND = 4,        /* an unknown key id */
  GEMGATE_STATE = 5,            /* the call does not fit the handle's state (e.g. no request yet) */
  GEMGATE_NO_MEMORY = 6,        /* allocation failed */
  GEMGATE_INTERNAL = 7          /* a bug in gemgate; the message says where */
} gemgate_status;

/* The ABI version of the loaded library (GEMGATE_ABI_VERSION it was built with). Compare it with
 * the header's macro to detect a mismatched library. Any thread. */
GEMGATE_API int gemgate_abi_version(void);

/* The library's release version, e.g. "0.1.0". Static storage; never free it. Any thread. */
GEMGATE_API const char* gemgate_version(void);

/* A short stable name for a status: "ok", "invalid_argument", "rejected", "no_key",
 * "not_found", "state", "no_memory", "internal"; "unknown" for other values. Static storage.
 * Any thread. */
GEMGATE_API const char* gemgate_status_name(gemgate_status status);

/* The message of the last failed call on the calling thread, "" if none failed yet. Valid until
 * the next failed call on this thread; never free it. Never contains a pool key or a token. */
GEMGATE_API const char* gemgate_last_error(void);

/* Frees a buffer gemgate returned through a `char **` out-parameter. NULL is a no-op. Any
 * thread (not necessarily the one that received the buffer). */
GEMGATE_API void gemgate_free(void* buffer);

/* ---- translators: one client exchange ---------------------------------------------------- */

/* The client-side API an exchange speaks. New fronts are added at the end. */
typedef enum gemgate_front {
  GEMGATE_FRONT_OPENAI_CHAT = 1,        /* POST /v1/chat/completions */
  GEMGATE_FRONT_ANTHROPIC_MESSAGES = 2, /* POST /v1/messages */
  GEMGATE_FRONT_OPENAI_RESPONSES = 3    /* POST /v1/responses, stateless: see below */
} gemgate_front;

/* One client request and its answer: what the request translation learned (model, stream or
 * not, options) and the response side needs. Opaque. One thread at a time. */
typedef struct gemgate_exchange gemgate_exchange;

/* Creates an exchange for `front`. *out receives the handle, owned by the caller (free it with
 * gemgate_exchange_destroy). Returns GEMGATE_OK, GEMGATE_INVALID_ARGUMENT (unknown front, NULL
 * out) or GEMGATE_NO_MEMORY. Any thread. */
GEMGATE_API gemgate_status gemgate_exchange_create(gemgate_front front, gemgate_exchange** out);

/* Destroys an exchange and everything borrowed from it. NULL is a no-op. Streams created from it
 * stay valid (they hold their own copy). */
GEMGATE_API void gemgate_exchange_destroy(gemgate_exchange* exchange);

/* Fixes the id and creation time the answer carries (OpenAI: "chatcmpl-…" and unix seconds;
 * Responses: "resp_…" and unix seconds; Anthropic: "msg_…", `created` unused) instead of a random
 * id and the current time — for deterministic output (tests) or to use the caller's own request id.
 * `id` is copied. Call before gemgate_exchange_response / gemgate_stream_create. Returns GEMGATE_OK
 * or GEMGATE_INVALID_ARGUMENT. The exchange's thread. */
GEMGATE_API gemgate_status gemgate_exchange_set_response_id(gemgate_exchange* exchange,
                                                            const char* id, int64_t created);

/* The key of the reasoning seal (front OPENAI_RESPONSES): thought signatures Gemini returns travel
 * to the client inside reasoning items' encrypted_content, sealed with HMAC-SHA256 under this key,
 * and come back only if they open under it — so clients can neither forge nor alter them. Give
 * every process that serves the same clients the same key (at least 16 bytes, copied; keep it
 * secret). Without one, a random key that lives as long as the process is used. Call before
 * gemgate_exchange_request. Returns GEMGATE_OK or GEMGATE_INVALID_ARGUMENT. The exchange's
 * thread. */
GEMGATE_API gemgate_status gemgate_exchange_set_seal_key(gemgate_exchange* exchange,
                                                         const char* key, size_t len);

/* Translates the client's request body (JSON, `len` bytes) into the Gemini call, read back with
 * the gemgate_exchange_upstream_* getters. Remote media (http(s) image URLs) are not
 * downloaded: a request that references one is rejected (400 naming the part); send images as
 * data: URIs / base64 sources.
 * Returns GEMGATE_OK; GEMGATE_REJECTED when the request is invalid for the front (the answer
 * to send the client is then in gemgate_exchange_error_status / _error_body); or
 * GEMGATE_INVALID_ARGUMENT / GEMGATE_NO_MEMORY. Front OPENAI_RESPONSES is stateless: nothing is
 * stored, and a request with previous_response_id is rejected (400 naming it): clients send the
 * whole conversation as input. May be called again to translate another body
 * (it replaces the previous one). The exchange's thread. */
GEMGATE_API gemgate_status gemgate_exchange_request(gemgate_exchange* exchange, const char* body,
                                                    size_t len);

/* The Gemini path of the translated request, e.g.
 * "/v1beta/models/gemini-2.5-flash:generateContent" or
 * "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"; prefix it with the upstream's
 * origin (https://generativelanguage.googleapis.com). Borrowed; valid until the next
 * gemgate_exchange_request or the destroy. NULL when no request was translated. */
GEMGATE_API const char* gemgate_exchange_upstream_path(const gemgate_exchange* exchange);

/* The Gemini JSON body (`*len` gets its length when len is not NULL). Borrowed, as above. NULL
 * when no request was translated. */
GEMGATE_API const char* gemgate_exchange_upstream_body(const gemgate_exchange* exchange,
                                                       size_t* len);

/* The request headers the Gemini call needs besides the key, as "Name: value\r\n" lines
 * ("Content-Type: application/json\r\n", and "Accept: text/event-stream\r\n" for a stream).
 * The caller adds the pool key as "x-goog-api-key: <key>" (never in the URL: URLs get logged).
 * Borrowed, as above. NULL when no request was translated. */
GEMGATE_API const char* gemgate_exchange_upstream_headers(const gemgate_exchange* exchange);

/* The Gemini model the call is for (the key pool's `model`), e.g. "gemini-2.5-flash". Borrowed,
 * as above. NULL when no request was translated. */
GEMGATE_API const char* gemgate_exchange_model(const gemgate_exchange* exchange);

/* Sends the call to Gemini model `model` (NUL-terminated, copied; letters, digits, '.', '_',
 * '-'; a "models/" prefix is stripped) instead of the one the client named — the gateway's
 * model_aliases, e.g. Anthropic clients ask for "claude-sonnet-4-5", which Gemini does not
 * know. Rewrites the upstream path and gemgate_exchange_model; the answer still names the
 * client's model. Returns GEMGATE_OK, GEMGATE_STATE (no request translated),
 * GEMGATE_INVALID_ARGUMENT (NULL or a name that cannot go in a path). The exchange's thread. */
GEMGATE_API gemgate_status gemgate_exchange_set_upstream_model(gemgate_exchange* exchange,
                                                               const char* model);

/* 1 when the client asked for a stream (answer with gemgate_stream_*), 0 when not or before a
 * request was translated. */
GEMGATE_API int gemgate_exchange_is_stream(const gemgate_exchange* exchange);

/* After GEMGATE_REJECTED from gemgate_exchange_request, or after gemgate_exchange_response
 * translated an error: the HTTP status to answer the client with; 0 when there is no error. */
GEMGATE_API int gemgate_exchange_error_status(const gemgate_exchange* exchange);

/* The error body that goes with gemgate_exchange_error_status, in the front's shape (OpenAI:
 * {"error":{"message","type","param","code"}}; Anthropic: {"type":"error","error":{...}}).
 * Borrowed; valid until the next call on the exchange. NULL when there is no error. */
GEMGATE_API const char* gemgate_exchange_error_body(const gemgate_exchange* exchange);

/* Milliseconds the client should wait before retrying (from Gemini's RetryInfo on a 429), for
 * Retry-After (seconds, rounded up) / retry-after-ms headers; -1 when none. Set by the last
 * gemgate_exchange_response. */
GEMGATE_API int64_t gemgate_exchange_retry_after_ms(const gemgate_exchange* exchange);

/* Translates Gemini's whole (non-stream) answer: `upstream_status` and its body. For a 2xx the
 * client body is the front's answer (chat.completion / message / response object) and
 * *client_status 200; for any other status it is the Gemini error in the front's shape (OpenAI's
 * for both OpenAI fronts) with the status a client of that front expects (e.g. OpenAI 401
 * invalid_api_key for API_KEY_INVALID, 429 rate_limit_error), also
 * readable afterwards through gemgate_exchange_error_*. A 2xx body that is not Gemini's shape
 * gives a 502 error answer. *client_body (owned: gemgate_free) and *client_len receive the body,
 * *client_status the status. Returns GEMGATE_OK whenever an answer was produced (error answers
 * included); GEMGATE_STATE before a successful gemgate_exchange_request;
 * GEMGATE_INVALID_ARGUMENT; GEMGATE_NO_MEMORY. The exchange's thread. */
GEMGATE_API gemgate_status gemgate_exchange_response(gemgate_exchange* exchange,
                                                     int upstream_status, const char* body,
                                                     size_t len, int* client_status,
                                                     char** client_body, size_t* client_len);

/* ---- translators: streams ------------------------------------------------------------------ */

/* Gemini `streamGenerateContent?alt=sse` bytes → the front's SSE bytes (OpenAI
 * chat.completion.chunk events ending in "data: [DONE]"; Anthropic message_start ...
 * message_stop events; Responses response.created ... response.completed events), incrementally.
 * Input may be split anywhere (mid-line, mid-UTF-8): the output depends only on the bytes, never on
 * the split. Opaque. One thread at a time. */
typedef struct gemgate_stream gemgate_stream;

/* Creates the stream translator for `exchange`'s request (which must have been translated, and
 * asked for a stream). The stream copies what it needs: the exchange may be destroyed first.
 * *out receives the handle (free it with gemgate_stream_destroy). Returns GEMGATE_OK,
 * GEMGATE_STATE (no request, or not a stream request), GEMGATE_INVALID_ARGUMENT,
 * GEMGATE_NO_MEMORY. The exchange's thread. */
GEMGATE_API gemgate_status gemgate_stream_create(const gemgate_exchange* exchange,
                                                 gemgate_stream** out);

/* Destroys a stream translator. NULL is a no-op. */
GEMGATE_API void gemgate_stream_destroy(gemgate_stream* stream);

/* Feeds `len` upstream bytes. *out (owned: gemgate_free; "" when nothing completed yet) and
 * *out_len receive the client bytes to send now. A Gemini error event ends the stream with the
 * front's error event (check gemgate_stream_done). Ignored (empty output) once done. Returns
 * GEMGATE_OK, GEMGATE_INVALID_ARGUMENT, GEMGATE_NO_MEMORY. The stream's thread. */
GEMGATE_API gemgate_status gemgate_stream_feed(gemgate_stream* stream, const char* bytes,
                                               size_t len, char** out, size_t* out_len);

/* The upstream ended normally: *out receives the closing events (finish reasons, usage, OpenAI's
 * "data: [DONE]" / Anthropic's message_stop). A stream that ended before any event yields an
 * error event instead. Ignored once done. Returns as gemgate_stream_feed. */
GEMGATE_API gemgate_status gemgate_stream_finish(gemgate_stream* stream, char** out,
                                                 size_t* out_len);

/* The upstream broke (reset, timeout): *out receives one error event in the front's shape with
 * `http_status` (e.g. 502, 504) and `message` (NUL-terminated, copied; NULL for a default), and
 * the stream ends. Ignored once done. Returns as gemgate_stream_feed. */
GEMGATE_API gemgate_status gemgate_stream_fail(gemgate_stream* stream, int http_status,
                                               const char* message, char** out, size_t* out_len);

/* 1 once the stream has ended (finished or failed): nothing more will be emitted. */
GEMGATE_API int gemgate_stream_done(const gemgate_stream* stream);

/* 1 when the stream ended with an error event. */
GEMGATE_API int gemgate_stream_failed(const gemgate_stream* stream);

/* 1 once a client chunk other than an error event went out. While 0 after a failure, a caller
 * that has not sent its response head yet may answer gemgate_stream_error_status /
 * gemgate_stream_error_body as a plain HTTP error instead of a 200 stream. */
GEMGATE_API int gemgate_stream_started(const gemgate_stream* stream);

/* The status of the error a failed stream ended with; 0 when it did not fail. */
GEMGATE_API int gemgate_stream_error_status(const gemgate_stream* stream);

/* The JSON body of that error, in the front's shape. Borrowed from the stream; NULL when it did
 * not fail. */
GEMGATE_API const char* gemgate_stream_error_body(const gemgate_stream* stream);

/* ---- the key pool -------------------------------------------------------------------------- */

/* Gemini API keys with their live health, as in the gateway: round-robin over the keys healthy
 * for a model; a key Google calls invalid is disabled; a quota answer cools the key down for
 * that model (for Google's RetryInfo delay, else a default that doubles per strike); transient
 * failures (5xx, timeouts) strike the key × model circuit breaker; failures shared by several
 * keys are the upstream's fault and penalise no key. Opaque. Every pool function is thread-safe:
 * one pool may be shared by all threads. Time: every function takes `now_ms`, Unix milliseconds;
 * pass a negative value to use the pool's own clock (the system clock), or your own clock for
 * deterministic behaviour. Keep to one of the two per pool. */
typedef struct gemgate_pool gemgate_pool;

/* What an upstream answer says about the key that was used. */
typedef enum gemgate_outcome_kind {
  GEMGATE_OUTCOME_SUCCESS = 0,        /* 2xx */
  GEMGATE_OUTCOME_KEY_INVALID = 1,    /* 400 API_KEY_INVALID/expired, 401, 403: key now disabled;
                                         retry on another key */
  GEMGATE_OUTCOME_QUOTA = 2,          /* 429: key cooling down for this model (retry_delay_ms
                                         when Google said); retry on another key */
  GEMGATE_OUTCOME_UPSTREAM_FAULT = 3, /* 5xx, 408, timeout, reset: retry on another key */
  GEMGATE_OUTCOME_UNREACHABLE = 4,    /* the upstream could not be reached; no key penalised */
  GEMGATE_OUTCOME_CLIENT_ERROR = 5    /* another 4xx: the request is wrong; answer it, no retry */
} gemgate_outcome_kind;

/* The classification of one reported outcome. Plain data, filled by gemgate_pool_report*. Its
 * layout is fixed for ABI 1: more detail would come with a new struct and new functions. */
typedef struct gemgate_outcome {
  gemgate_outcome_kind kind;
  int http_status;        /* the reported status (0 for a transport failure) */
  int64_t retry_delay_ms; /* Google's RetryInfo.retryDelay, -1 when none */
  int outage;             /* 1 when the failure is the upstream's, not the key's (unreachable,
                             or a transient failure shared by enough keys): no key was
                             penalised; answer as for an outage rather than retrying */
  const char* reason;     /* short, e.g. "API_KEY_INVALID", "quota", "upstream_5xx". Static
                             storage or borrowed from the pool (valid while it lives) */
} gemgate_outcome;

/* Creates a pool of `n_keys` keys (NUL-terminated strings, copied; ids 1..n_keys in order) and a
 * policy, `policy_json` (NULL or "" for the gateway's defaults), a JSON object with any of:
 *   "breaker_threshold"   transient failures of a key × model in a row that open its breaker
 *                         (3; 0 = never)
 *   "breaker_base_ms"     first open time (1000), doubled per failed trial
 *   "breaker_max_ms"      cap of the open time (60000)
 *   "cooldown_default_ms" quota cooldown without RetryInfo (60000), doubled per strike
 *   "cooldown_max_ms"     cap of a grown cooldown (3600000)
 * Unknown fields, non-integers or negative values are refused (GEMGATE_INVALID_ARGUMENT, the
 * message names the field). A key that cannot be a Gemini key (20-256 letters, digits, '-', '_',
 * '.') is refused too, naming its position, never its text. Duplicate keys are refused.
 * *out receives the pool (free with gemgate_pool_destroy). Any thread. */
GEMGATE_API gemgate_status gemgate_pool_create(const char* const* keys, size_t n_keys,
                                               const char* policy_json, gemgate_pool** out);

/* Destroys a pool. No other thread may be using it. NULL is a no-op. */
GEMGATE_API void gemgate_pool_destroy(gemgate_pool* pool);

/* Picks the next key healthy for `model` (e.g. gemgate_exchange_model), round-robin, skipping
 * the `n_exclude` ids in `exclude` (the keys already tried for this request; NULL when 0), and
 * records the pick as the key's last use. *key_id receives its id and *key its secret (borrowed
 * from the pool, valid until the pool is destroyed; send it in x-goog-api-key only).
 * Returns GEMGATE_OK; GEMGATE_NO_KEY when no key can serve — the message says why (no keys, all
 * disabled, all cooling down, all tried) and *retry_after_ms (if not NULL) gets how long until
 * a cooling key is back (0 when unknown or never); GEMGATE_INVALID_ARGUMENT. Thread-safe. */
GEMGATE_API gemgate_status gemgate_pool_pick(gemgate_pool* pool, const char* model,
                                             const int64_t* exclude, size_t n_exclude,
                                             int64_t now_ms, int64_t* key_id, const char** key,
                                             int64_t* retry_after_ms);

/* Reports Gemini's answer to a request made with key `key_id` for `model`: its HTTP status, its
 * response headers ("Name: value\r\n" lines, or NULL) and its body (an error body is what the
 * classification reads; for a 2xx, the body may be omitted: NULL/0). The key's health changes
 * as in the gateway, and *outcome (if not NULL) receives the classification. The headers are
 * not consulted today: Gemini states everything the classification needs (ErrorInfo, RetryInfo)
 * in the body, and the gateway reads only the body too. Returns GEMGATE_OK, GEMGATE_NOT_FOUND
 * (unknown id), GEMGATE_INVALID_ARGUMENT. Thread-safe. */
GEMGATE_API gemgate_status gemgate_pool_report(gemgate_pool* pool, int64_t key_id,
                                               const char* model, int http_status,
                                               const char* headers, size_t headers_len,
                                               const char* body, size_t body_len, int64_t now_ms,
                                               gemgate_outcome* outcome);

/* Reports a request with key `key_id` that got no answer: `connected` 0 when the upstream could
 * not be reached at all (DNS, refused, TLS: GEMGATE_OUTCOME_UNREACHABLE, no key penalised), 1
 * when the connection broke or timed out after the request left (UPSTREAM_FAULT). Otherwise as
 * gemgate_pool_report. Thread-safe. */
GEMGATE_API gemgate_status gemgate_pool_report_transport_failure(gemgate_pool* pool, int64_t key_id,
                                                                 const char* model, int connected,
                                                                 int64_t now_ms,
                                                                 gemgate_outcome* outcome);

/* The pool's health for display, as JSON (*json owned: gemgate_free; *len may be NULL):
 *   {"keys":[{"id":1,"key_mask":"AIza...wxyz","disabled":false,"reason":"","failures":0,
 *             "last_used_ms":0,"last_error":"",
 *             "cooldowns":[{"model":"gemini-2.5-flash","until_ms":...,"strikes":1,
 *                           "breaker":false}]}],
 *    "enabled":1,"size":1}
 * Never contains a whole key. Thread-safe. */
GEMGATE_API gemgate_status gemgate_pool_health_json(gemgate_pool* pool, char** json, size_t* len);

/* Operator actions on key `key_id`: enable (clears disabled and failures), disable (with
 * `reason`, copied; NULL for "disabled by admin"), reset (enable and clear cooldowns).
 * Return GEMGATE_OK or GEMGATE_NOT_FOUND. Thread-safe. */
GEMGATE_API gemgate_status gemgate_pool_enable(gemgate_pool* pool, int64_t key_id);
GEMGATE_API gemgate_status gemgate_pool_disable(gemgate_pool* pool, int64_t key_id,
                                                const char* reason);
GEMGATE_API gemgate_status gemgate_pool_reset(gemgate_pool* pool, int64_t key_id);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GEMGATE_GEMGATE_H */
