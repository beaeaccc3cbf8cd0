// POST /chat/completions → generateContent, or streamGenerateContent?alt=sse when the client
// streams. http(s) image URLs are downloaded first (MediaFetcher), since Gemini cannot fetch them.
// A stream's head is held until its first translated event, so a stream that fails at once is
// answered as a plain HTTP error instead of a 200 whose only event is an error.
#include <chrono>
#include <memory>
#include <optional>

#include "core/crypto.h"
#include "filters/common/media_fetcher.h"
#include "filters/openai/openai_filter.h"
#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class ChatCompletionsOp final : public OpenAIOp {
 public:
  Status on_request(FilterCallbacks& x) override {
    auto urls = list_remote_media(x.request().body);
    if (!urls) return reply_error(x, urls.error());
    if (urls->empty()) return translate(x, {}) ? Status::Continue : Status::Stop;
    FetchLimits limits;
    limits.allow_private = x.settings().get(kFetchPrivateUrls);
    fetcher_ = std::make_unique<MediaFetcher>(
        x.worker(), std::move(*urls), limits,
        [this, ref = x.ref()](MediaMap media, std::string problem) {
          ref.post([this, media = std::move(media), problem](FilterCallbacks& x) {
            if (!problem.empty()) {
              reply_error(x, OpenAIError::invalid(problem, std::string("messages"),
                                                  std::string("invalid_image_url")));
              return;
            }
            if (translate(x, media)) x.resume();
          });
        });
    return Status::Stop;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (r.streaming) {
      stream_.emplace(*context_, meta_);
      r.headers.set("content-type", "text/event-stream; charset=utf-8");
      r.headers.set("cache-control", "no-cache");
      // Hold the head until the first event: a stream that fails at once becomes a plain
      // HTTP error (SDKs retry 5xx; a 200 with an error event they cannot).
      holding_ = true;
      return Status::Stop;
    }
    if (auto res = translate_chat_response(r.body, *context_, meta_)) {
      r.body = std::move(res->body);
      r.headers.set("content-type", "application/json");
    } else {
      r = error_response(res.error());
    }
    return Status::Continue;
  }

  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    if (!stream_) return;
    std::string out;
    if (!chunk.empty()) stream_->feed(chunk, out);
    if (last) {
      if (const http::LocalError* failure = x.stream_failure()) {
        stream_->fail(from_local(*failure), out);
      } else {
        stream_->finish(out);
      }
      if (stream_->failed()) x.mark_stream_failure_handled();
    }
    chunk = std::move(out);
    if (holding_) release_head(x, chunk, last);
  }

  void on_done() override { fetcher_.reset(); }

 private:
  // Translates the chat request in place; on failure replies and returns false.
  bool translate(FilterCallbacks& x, const MediaMap& media) {
    TranslateOptions options;
    options.include_reasoning = x.settings().get(kIncludeReasoning);
    auto translated = translate_chat_request(x.request().body, media, options);
    if (!translated) {
      reply_error(x, translated.error());
      return false;
    }
    context_ = translated->context;
    meta_.id = "chatcmpl-" + crypto::random_token("", 18);
    meta_.created = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    aim(x.request(), "POST", translated->path, std::move(translated->body));
    return true;
  }

  // The held stream head, after `chunk` (already translated): goes out with the chunk once the
  // stream has started; is replaced by a plain error if the stream failed — or ended without a
  // single answer event — before anything was emitted (never keeping the client waiting).
  void release_head(FilterCallbacks& x, std::string& chunk, bool last) {
    if (stream_->started()) {
      holding_ = false;  // the stream is alive: let the head and what we have go out
      x.resume();
    } else if (stream_->failed() || last) {
      holding_ = false;
      OpenAIError error =
          stream_->error()
              ? *stream_->error()
              : OpenAIError::bad_upstream("the upstream stream ended without an answer");
      x.response() = error_response(error);
      stream_.reset();  // the answer is a whole error body now, not a stream to translate
      chunk.clear();
      x.resume();
    }
  }

  std::optional<ChatContext> context_;
  ResponseMeta meta_;
  std::optional<ChatStreamTranslator> stream_;
  bool holding_ = false;  // stream head parked until the first translated event
  std::unique_ptr<MediaFetcher> fetcher_;
};

}  // namespace

std::unique_ptr<OpenAIOp> make_chat_completions_op() {
  return std::make_unique<ChatCompletionsOp>();
}

}  // namespace gemgate::openai
