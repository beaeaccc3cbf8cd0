// gemgate_exchange_*: one client request translated to the Gemini call, and Gemini's whole
// answer translated back, for each front. See gemgate/gemgate.h for the contracts.
#include "capi/exchange.h"

#include <ctime>

#include "capi/internal.h"
#include "core/crypto.h"
#include "filters/anthropic/translate/errors.h"
#include "filters/anthropic/translate/messages_response.h"
#include "filters/openai/translate/chat_response.h"
#include "filters/openai/translate/errors.h"

using gemgate::capi::fail;
using gemgate::capi::guarded;

namespace gemgate::capi {

void ensure_response_id(gemgate_exchange& x) {
  if (!x.response_id.empty()) return;
  const char* prefix = "chatcmpl-";
  if (x.front == GEMGATE_FRONT_ANTHROPIC_MESSAGES) prefix = "msg_";
  if (x.front == GEMGATE_FRONT_OPENAI_RESPONSES) prefix = "resp_";
  x.response_id = crypto::random_token(prefix, 18);
  x.created = static_cast<int64_t>(std::time(nullptr));
}

namespace {

bool known_front(gemgate_front front) {
  return front == GEMGATE_FRONT_OPENAI_CHAT || front == GEMGATE_FRONT_ANTHROPIC_MESSAGES ||
         front == GEMGATE_FRONT_OPENAI_RESPONSES;
}

// The model between "/models/" and ':' of a Gemini path.
std::string model_of_path(const std::string& path) {
  static constexpr std::string_view kModels = "/models/";
  size_t at = path.find(kModels);
  if (at == std::string::npos) return "";
  at += kModels.size();
  size_t end = path.find(':', at);
  return path.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

void reject(gemgate_exchange& x, int status, std::string body) {
  x.error_status = status;
  x.error_body = std::move(body);
}

gemgate_status translate_request(gemgate_exchange& x, std::string_view body) {
  x.translated = false;
  x.error_status = 0;
  x.error_body.clear();
  x.retry_after_ms = -1;
  if (x.front == GEMGATE_FRONT_OPENAI_CHAT) {
    auto req = openai::translate_chat_request(body);
    if (!req) {
      reject(x, req.error().status, req.error().to_json());
      return fail(GEMGATE_REJECTED, "request rejected: " + req.error().message);
    }
    x.path = std::move(req->path);
    x.body = std::move(req->body);
    x.chat = std::move(req->context);
    x.stream = x.chat.stream;
  } else if (x.front == GEMGATE_FRONT_OPENAI_RESPONSES) {
    openai::OpenAIError err;
    if (!responses_request(x, body, &err)) {
      reject(x, err.status, err.to_json());
      return fail(GEMGATE_REJECTED, "request rejected: " + err.message);
    }
  } else {
    auto req = anthropic::translate_messages_request(body, {});
    if (!req) {
      reject(x, req.error().status, req.error().to_json());
      return fail(GEMGATE_REJECTED, "request rejected: " + req.error().message);
    }
    x.path = std::move(req->path);
    x.body = std::move(req->body);
    x.messages = std::move(req->context);
    x.stream = x.messages.stream;
  }
  x.model = model_of_path(x.path);
  x.headers = "Content-Type: application/json\r\n";
  if (x.stream) x.headers += "Accept: text/event-stream\r\n";
  x.translated = true;
  return GEMGATE_OK;
}

gemgate_status translate_answer(gemgate_exchange& x, int status, std::string_view body,
                                int* client_status, char** client_body, size_t* client_len) {
  x.error_status = 0;
  x.error_body.clear();
  x.retry_after_ms = -1;
  ensure_response_id(x);
  bool ok = status >= 200 && status < 300;
  std::string out;
  int out_status = 200;
  if (x.front == GEMGATE_FRONT_OPENAI_CHAT || x.front == GEMGATE_FRONT_OPENAI_RESPONSES) {
    openai::OpenAIError err;
    if (ok && x.front == GEMGATE_FRONT_OPENAI_RESPONSES) {
      ok = responses_answer(x, body, &out, &err);
    } else if (ok) {
      auto res = openai::translate_chat_response(body, x.chat, {x.response_id, x.created});
      if (res) {
        out = std::move(res->body);
      } else {
        err = res.error();
        ok = false;
      }
    } else {
      err = openai::translate_gemini_error(status, body);
    }
    if (!ok) {
      out = err.to_json();
      out_status = err.status;
      if (err.retry_after_ms) x.retry_after_ms = *err.retry_after_ms;
    }
  } else {
    anthropic::AnthropicError err;
    if (ok) {
      auto res = anthropic::translate_messages_response(body, x.messages, x.response_id);
      if (res) {
        out = std::move(res->body);
      } else {
        err = res.error();
        ok = false;
      }
    } else {
      err = anthropic::translate_gemini_error(status, body);
    }
    if (!ok) {
      out = err.to_json();
      out_status = err.status;
      if (err.retry_after_ms) x.retry_after_ms = *err.retry_after_ms;
    }
  }
  if (!ok) reject(x, out_status, out);
  gemgate_status st = capi::give(out, client_body, client_len);
  if (st == GEMGATE_OK) *client_status = out_status;
  return st;
}

}  // namespace
}  // namespace gemgate::capi

extern "C" {

gemgate_status gemgate_exchange_create(gemgate_front front, gemgate_exchange** out) {
  return guarded("gemgate_exchange_create", [&] {
    if (out == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, "out is NULL");
    if (!gemgate::capi::known_front(front)) {
      return fail(GEMGATE_INVALID_ARGUMENT, "unknown front " + std::to_string(int(front)));
    }
    auto* x = new gemgate_exchange();
    x->front = front;
    *out = x;
    return GEMGATE_OK;
  });
}

void gemgate_exchange_destroy(gemgate_exchange* exchange) {
  delete exchange;
}

gemgate_status gemgate_exchange_set_response_id(gemgate_exchange* exchange, const char* id,
                                                int64_t created) {
  return guarded("gemgate_exchange_set_response_id", [&] {
    if (exchange == nullptr || id == nullptr || *id == '\0') {
      return fail(GEMGATE_INVALID_ARGUMENT, "exchange or id is NULL or empty");
    }
    exchange->response_id = id;
    exchange->created = created;
    return GEMGATE_OK;
  });
}

gemgate_status gemgate_exchange_set_seal_key(gemgate_exchange* exchange, const char* key,
                                             size_t len) {
  return guarded("gemgate_exchange_set_seal_key", [&] {
    if (exchange == nullptr || key == nullptr || len < 16) {
      return fail(GEMGATE_INVALID_ARGUMENT,
                  "exchange or key is NULL, or the key is under 16 bytes");
    }
    exchange->seal_key.assign(key, len);
    return GEMGATE_OK;
  });
}

gemgate_status gemgate_exchange_request(gemgate_exchange* exchange, const char* body, size_t len) {
  return guarded("gemgate_exchange_request", [&] {
    if (exchange == nullptr || (body == nullptr && len > 0)) {
      return fail(GEMGATE_INVALID_ARGUMENT, "exchange or body is NULL");
    }
    return gemgate::capi::translate_request(*exchange, std::string_view(body ? body : "", len));
  });
}

const char* gemgate_exchange_upstream_path(const gemgate_exchange* exchange) {
  return exchange && exchange->translated ? exchange->path.c_str() : nullptr;
}

const char* gemgate_exchange_upstream_body(const gemgate_exchange* exchange, size_t* len) {
  if (!exchange || !exchange->translated) return nullptr;
  if (len != nullptr) *len = exchange->body.size();
  return exchange->body.c_str();
}

const char* gemgate_exchange_upstream_headers(const gemgate_exchange* exchange) {
  return exchange && exchange->translated ? exchange->headers.c_str() : nullptr;
}

const char* gemgate_exchange_model(const gemgate_exchange* exchange) {
  return exchange && exchange->translated ? exchange->model.c_str() : nullptr;
}

gemgate_status gemgate_exchange_set_upstream_model(gemgate_exchange* exchange, const char* model) {
  return guarded("gemgate_exchange_set_upstream_model", [&] {
    if (exchange == nullptr || model == nullptr) {
      return fail(GEMGATE_INVALID_ARGUMENT, "exchange or model is NULL");
    }
    if (!exchange->translated) {
      return fail(GEMGATE_STATE, "no request was translated on this exchange");
    }
    auto name = gemgate::openai::upstream_model_name(model);
    if (!name) return fail(GEMGATE_INVALID_ARGUMENT, name.error().message);
    size_t at = exchange->path.find("/models/");
    size_t end = exchange->path.find(':', at);
    if (at == std::string::npos || end == std::string::npos) {
      return fail(GEMGATE_INTERNAL, "the upstream path names no model");
    }
    at += 8;
    exchange->path.replace(at, end - at, *name);
    exchange->model = *name;
    if (exchange->front == GEMGATE_FRONT_OPENAI_CHAT) exchange->chat.upstream_model = *name;
    if (exchange->front == GEMGATE_FRONT_OPENAI_RESPONSES) {
      exchange->responses.upstream_model = *name;
    }
    return GEMGATE_OK;
  });
}

int gemgate_exchange_is_stream(const gemgate_exchange* exchange) {
  return exchange && exchange->translated && exchange->stream ? 1 : 0;
}

int gemgate_exchange_error_status(const gemgate_exchange* exchange) {
  return exchange ? exchange->error_status : 0;
}

const char* gemgate_exchange_error_body(const gemgate_exchange* exchange) {
  return exchange && exchange->error_status != 0 ? exchange->error_body.c_str() : nullptr;
}

int64_t gemgate_exchange_retry_after_ms(const gemgate_exchange* exchange) {
  return exchange ? exchange->retry_after_ms : -1;
}

gemgate_status gemgate_exchange_response(gemgate_exchange* exchange, int upstream_status,
                                         const char* body, size_t len, int* client_status,
                                         char** client_body, size_t* client_len) {
  return guarded("gemgate_exchange_response", [&] {
    if (exchange == nullptr || client_status == nullptr || client_body == nullptr ||
        (body == nullptr && len > 0)) {
      return fail(GEMGATE_INVALID_ARGUMENT, "exchange, body or an out-parameter is NULL");
    }
    if (!exchange->translated) {
      return fail(GEMGATE_STATE, "no request was translated on this exchange");
    }
    return gemgate::capi::translate_answer(*exchange, upstream_status,
                                           std::string_view(body ? body : "", len), client_status,
                                           client_body, client_len);
  });
}

}  // extern "C"
