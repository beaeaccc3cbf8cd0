// gemgate_stream_*: Gemini SSE bytes → the front's SSE bytes, incrementally, over the
// translators' own stream classes. See gemgate/gemgate.h for the contracts.
#include "capi/exchange.h"
#include "capi/internal.h"
#include "filters/anthropic/translate/errors.h"
#include "filters/openai/translate/errors.h"

using gemgate::capi::fail;
using gemgate::capi::guarded;

namespace gemgate::capi {
namespace {

// Copies the error a stream ended with, once, so that C callers can borrow it.
void note_end(gemgate_stream& s) {
  if (s.error_status != 0) return;
  if (s.chat && s.chat->failed() && s.chat->error() != nullptr) {
    s.error_status = s.chat->error()->status;
    s.error_body = s.chat->error()->to_json();
  } else if (s.responses && s.responses->failed() && s.responses->error() != nullptr) {
    s.error_status = s.responses->error()->status;
    s.error_body = s.responses->error()->to_json();
  } else if (s.messages && s.messages->failed()) {
    s.error_status = s.messages->error()->status;
    s.error_body = s.messages->error()->to_json();
  }
}

template <class Step>
gemgate_status run(gemgate_stream* s, char** out, size_t* out_len, const char* where, Step step) {
  return guarded(where, [&] {
    if (s == nullptr || out == nullptr) return fail(GEMGATE_INVALID_ARGUMENT, "NULL argument");
    std::string bytes;
    step(*s, bytes);
    note_end(*s);
    return give(bytes, out, out_len);
  });
}

}  // namespace
}  // namespace gemgate::capi

extern "C" {

gemgate_status gemgate_stream_create(const gemgate_exchange* exchange, gemgate_stream** out) {
  return guarded("gemgate_stream_create", [&] {
    if (exchange == nullptr || out == nullptr)
      return fail(GEMGATE_INVALID_ARGUMENT, "NULL argument");
    if (!exchange->translated || !exchange->stream) {
      return fail(GEMGATE_STATE, "the exchange holds no translated stream request");
    }
    gemgate_exchange& x = const_cast<gemgate_exchange&>(*exchange);
    gemgate::capi::ensure_response_id(x);
    auto s = std::make_unique<gemgate_stream>();
    s->front = x.front;
    if (x.front == GEMGATE_FRONT_OPENAI_CHAT) {
      s->chat = std::make_unique<gemgate::openai::ChatStreamTranslator>(
          x.chat, gemgate::openai::ResponseMeta{x.response_id, x.created});
    } else if (x.front == GEMGATE_FRONT_OPENAI_RESPONSES) {
      s->responses = std::make_unique<gemgate::responses::ResponsesStreamTranslator>(
          x.responses, gemgate::responses::ResponseMeta{x.response_id, x.created},
          gemgate::capi::seal_of(x));
    } else {
      s->messages =
          std::make_unique<gemgate::anthropic::MessagesStreamTranslator>(x.messages, x.response_id);
    }
    *out = s.release();
    return GEMGATE_OK;
  });
}

void gemgate_stream_destroy(gemgate_stream* stream) {
  delete stream;
}

gemgate_status gemgate_stream_feed(gemgate_stream* stream, const char* bytes, size_t len,
                                   char** out, size_t* out_len) {
  if (bytes == nullptr && len > 0) {
    return fail(GEMGATE_INVALID_ARGUMENT, "gemgate_stream_feed: bytes is NULL");
  }
  std::string_view in(bytes ? bytes : "", len);
  return gemgate::capi::run(stream, out, out_len, "gemgate_stream_feed",
                            [&](gemgate_stream& s, std::string& o) {
                              if (s.chat) s.chat->feed(in, o);
                              if (s.responses) s.responses->feed(in, o);
                              if (s.messages) s.messages->feed(in, o);
                            });
}

gemgate_status gemgate_stream_finish(gemgate_stream* stream, char** out, size_t* out_len) {
  return gemgate::capi::run(stream, out, out_len, "gemgate_stream_finish",
                            [&](gemgate_stream& s, std::string& o) {
                              if (s.chat) s.chat->finish(o);
                              if (s.responses) s.responses->finish(o);
                              if (s.messages) s.messages->finish(o);
                            });
}

gemgate_status gemgate_stream_fail(gemgate_stream* stream, int http_status, const char* message,
                                   char** out, size_t* out_len) {
  std::string text = message != nullptr && *message != '\0'
                         ? std::string(message)
                         : std::string("the upstream connection failed mid-stream");
  int status = http_status >= 400 && http_status <= 599 ? http_status : 502;
  return gemgate::capi::run(
      stream, out, out_len, "gemgate_stream_fail", [&](gemgate_stream& s, std::string& o) {
        gemgate::openai::OpenAIError e;
        e.status = status;
        e.message = text;
        e.type = status >= 500 ? "server_error" : "invalid_request_error";
        e.code = status == 504 ? "upstream_timeout" : "upstream_error";
        if (s.chat) s.chat->fail(e, o);
        if (s.responses) s.responses->fail(e, o);
        if (s.messages) s.messages->fail(gemgate::anthropic::error_for_status(status, text), o);
      });
}

int gemgate_stream_done(const gemgate_stream* stream) {
  if (stream == nullptr) return 0;
  if (stream->chat) return stream->chat->done() ? 1 : 0;
  if (stream->responses) return stream->responses->done() ? 1 : 0;
  return stream->messages->done() ? 1 : 0;
}

int gemgate_stream_failed(const gemgate_stream* stream) {
  if (stream == nullptr) return 0;
  if (stream->chat) return stream->chat->failed() ? 1 : 0;
  if (stream->responses) return stream->responses->failed() ? 1 : 0;
  return stream->messages->failed() ? 1 : 0;
}

int gemgate_stream_started(const gemgate_stream* stream) {
  if (stream == nullptr) return 0;
  if (stream->chat) return stream->chat->started() ? 1 : 0;
  if (stream->responses) return stream->responses->started() ? 1 : 0;
  return stream->messages->started() ? 1 : 0;
}

int gemgate_stream_error_status(const gemgate_stream* stream) {
  return stream ? stream->error_status : 0;
}

const char* gemgate_stream_error_body(const gemgate_stream* stream) {
  return stream && stream->error_status != 0 ? stream->error_body.c_str() : nullptr;
}

}  // extern "C"
