// POST /chat/completions → generateContent, or streamGenerateContent?alt=sse when the client
// streams. http(s) image URLs are downloaded first (MediaFetcher), since Gemini cannot fetch them.
// A stream's head is held until its first translated event, so a stream that fails at once is
// answered as a plain HTTP error instead of a 200 whose only event is an error.
#include <chrono>
#include <memory>
#include <optional>

#include "core/crypto.h"
#include "filters/common/held_stream.h"
#include "filters/common/media_fetcher.h"
#include "filters/openai/openai_filter.h"
#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class ChatCompletionsOp final : public OpenAIOp {
 public:
  Status on_request(FilterCallbacks& x) override {
    // Most requests name no image: translate at once, without parsing the body twice.
    if (!may_name_remote_media(x.request().body)) {
      return translate(x, {}) ? Status::Continue : Status::Stop;
    }
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
    if (r.streaming) return stream_.begin(r, *context_, meta_);
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
    stream_.translate(x, chunk, last, [](const http::LocalError& f) { return from_local(f); });
    stream_.release_head(x, chunk, last, error_response, [] {
      return OpenAIError::bad_upstream("the upstream stream ended without an answer");
    });
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
    context_ = std::move(translated->context);
    meta_.id = crypto::random_token("chatcmpl-", 18);
    meta_.created = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    aim(x.request(), "POST", translated->path, std::move(translated->body));
    return true;
  }

  std::optional<ChatContext> context_;
  ResponseMeta meta_;
  HeldStream<ChatStreamTranslator> stream_;
  std::unique_ptr<MediaFetcher> fetcher_;
};

}  // namespace

std::unique_ptr<OpenAIOp> make_chat_completions_op() {
  return std::make_unique<ChatCompletionsOp>();
}

}  // namespace gemgate::openai
