// POST /messages → generateContent, or streamGenerateContent?alt=sse when the client streams;
// POST /messages/count_tokens → countTokens. http(s) image/document URLs are downloaded first
// (MediaFetcher), since Gemini cannot fetch them. A stream's head is held until its first
// translated event, so a stream that fails at once (every key refused, the upstream down) is a
// plain HTTP error the SDK can retry, not a 200 whose only event is an error.
#include <memory>
#include <optional>

#include "core/crypto.h"
#include "core/worker.h"
#include "filters/anthropic/anthropic_filter.h"
#include "filters/anthropic/ops/anthropic_op.h"
#include "filters/anthropic/translate/translate.h"
#include "filters/common/held_stream.h"
#include "filters/common/media_fetcher.h"

namespace gemgate::anthropic {

namespace {

class MessagesOp final : public AnthropicOp {
 public:
  MessagesOp(const OpContext& c, bool count_tokens)
      : filter_(c.filter), ping_ms_(c.ping_interval_ms), count_tokens_(count_tokens) {}

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
              reply_error(x, AnthropicError::invalid(problem));
              return;
            }
            if (translate(x, media)) x.resume();
          });
        });
    return Status::Stop;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (r.streaming && !count_tokens_) return stream_.begin(r, *context_, id_);
    if (count_tokens_) {
      auto res = translate_count_tokens_response(r.body);
      if (res) {
        r.body = std::move(*res);
        r.headers.set("content-type", "application/json");
      } else {
        r = error_response(res.error());
      }
      return Status::Continue;
    }
    if (auto res = translate_messages_response(r.body, *context_, id_)) {
      r.body = std::move(res->body);
      r.headers.set("content-type", "application/json");
    } else {
      r = error_response(res.error());
    }
    return Status::Continue;
  }

  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    if (!stream_) return;
    stream_.translate(x, chunk, last, [](const http::LocalError& f) {
      return error_for_status(f.status, f.message);
    });
    stream_.release_head(x, chunk, last, error_response, [] {
      return AnthropicError::bad_upstream("the upstream stream ended early");
    });
    arm_ping(x, last);
  }

  void on_done() override {
    fetcher_.reset();
    ping_.reset();
  }

 private:
  bool translate(FilterCallbacks& x, const MediaMap& media) {
    auto translated = count_tokens_ ? translate_count_tokens_request(x.request().body, media)
                                    : translate_messages_request(x.request().body, media);
    if (!translated) {
      reply_error(x, translated.error());
      return false;
    }
    context_ = std::move(translated->context);
    id_ = crypto::random_token("msg_", 18);
    aim(x.request(), "POST", translated->path, std::move(translated->body));
    return true;
  }

  // (Re)starts the keep-alive after upstream data: a `ping` event after every ping_ms_ of
  // silence while the stream is going out; stopped at its end (and in on_done).
  void arm_ping(FilterCallbacks& x, bool last) {
    if (ping_ms_ <= 0 || !stream_) return;
    if (last || stream_->done()) {
      ping_.reset();
      return;
    }
    if (!ping_) ping_ = std::make_unique<Timer>(x.worker().loop());
    // The timer dies in on_done, before the exchange: capturing x is safe.
    ping_->start(
        static_cast<uint64_t>(ping_ms_),
        [this, &x] {
          if (!stream_ || !x.committed()) return;
          std::string out;
          stream_->ping(out);
          if (!out.empty()) x.send_data(filter_, std::move(out));
        },
        static_cast<uint64_t>(ping_ms_));
  }

  const Filter& filter_;
  int64_t ping_ms_;
  std::unique_ptr<Timer> ping_;
  bool count_tokens_;
  std::optional<MessagesContext> context_;
  std::string id_;
  HeldStream<MessagesStreamTranslator> stream_;
  std::unique_ptr<MediaFetcher> fetcher_;
};

}  // namespace

std::unique_ptr<AnthropicOp> make_messages_op(const OpContext& c) {
  return std::make_unique<MessagesOp>(c, false);
}

std::unique_ptr<AnthropicOp> make_count_tokens_op(const OpContext& c) {
  return std::make_unique<MessagesOp>(c, true);
}

}  // namespace gemgate::anthropic
