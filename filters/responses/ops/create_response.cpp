// POST /responses → generateContent, or streamGenerateContent?alt=sse when the client streams.
// With previous_response_id the stored conversation is read first (through the DocumentStore,
// off the worker loop); http(s) media URLs are downloaded next (MediaFetcher). With store (the
// default) the finished response is saved before its last byte goes out, so a follow-up call
// naming it always finds it (see core/document_store.h). A stream's head is held until its first
// translated event, so a stream that fails at once is a plain HTTP error the SDKs can retry.
#include <chrono>
#include <memory>
#include <optional>

#include "core/crypto.h"
#include "core/log.h"
#include "filters/common/held_stream.h"
#include "filters/common/media_fetcher.h"
#include "filters/responses/ops/responses_op.h"
#include "filters/responses/reasoning_seal.h"
#include "filters/responses/responses_filter.h"
#include "filters/responses/translate/responses_response.h"
#include "filters/responses/translate/stored_conversation.h"

namespace gemgate::responses {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class CreateResponseOp final : public ResponsesOp {
 public:
  explicit CreateResponseOp(std::shared_ptr<DocumentStore> store) : store_(std::move(store)) {
    // Without storage, encrypted_content is sealed under a key that lives as long as the process.
    static const std::string process_key = crypto::random_token("", 32);
    seal_ = make_reasoning_seal(store_ ? store_->mac_secret() : process_key);
  }

  Status on_request(FilterCallbacks& x) override {
    auto head = read_request_head(x.request().body);
    if (!head) return reply_error(x, head.error());
    head_ = std::move(*head);
    token_id_ = x.info().token_id;
    meta_.id = crypto::random_token("resp_", 18);
    meta_.created_at = now_ms() / 1000;
    if (head_.previous_response_id.empty()) return prepare(x) ? Status::Continue : Status::Stop;
    if (!valid_response_id(head_.previous_response_id)) {
      return reply_error(x, request_error(404, "no stored response has that previous_response_id",
                                          "not_found", "previous_response_id"));
    }
    if (!store_) {
      return reply_error(x, response_not_found(head_.previous_response_id, "previous_response_id"));
    }
    bool queued =
        store_->load(head_.previous_response_id, token_id_,
                     [this, ref = x.ref()](DocumentStore::Outcome outcome, std::string data) {
                       ref.post([this, outcome, data = std::move(data)](FilterCallbacks& x) {
                         loaded(x, outcome, data);
                       });
                     });
    if (!queued) return reply_error(x, storage_unavailable());
    return Status::Stop;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (r.streaming) return stream_.begin(r, call_->context, meta_, seal_);
    auto res = translate_response(r.body, call_->context, meta_, seal_);
    if (!res) {
      r = error_response(res.error());
      return Status::Continue;
    }
    save(x, *res);
    r.body = std::move(res->response_json);
    r.headers.set("content-type", "application/json");
    return Status::Continue;
  }

  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    if (!stream_) return;
    stream_.translate(x, chunk, last, [](const http::LocalError& f) { return stream_error(f); });
    if (last) {
      if (const FinishedResponse* done = stream_->finished()) save(x, *done);
    }
    stream_.release_head(x, chunk, last, error_response, [] {
      return OpenAIError::bad_upstream("the upstream stream ended without an answer");
    });
  }

  void on_done() override { fetcher_.reset(); }

 private:
  void loaded(FilterCallbacks& x, DocumentStore::Outcome outcome, const std::string& data) {
    if (outcome == DocumentStore::Outcome::kFailed) {
      reply_error(x, storage_unavailable());
      return;
    }
    auto record = outcome == DocumentStore::Outcome::kDone
                      ? read_record(data)
                      : openai::Expected<StoredConversation>(
                            response_not_found(head_.previous_response_id, "previous_response_id"));
    if (!record) {
      reply_error(x, record.error());
      return;
    }
    prior_history_ = std::move(record->history_json);
    if (prepare(x)) x.resume();
  }

  // Translates the items; downloads media when there are any. False when it replied (or will
  // resume later, after the downloads).
  bool prepare(FilterCallbacks& x) {
    std::string_view seed = std::string_view(meta_.id).substr(5);
    auto prepared = prepare_request(x.request().body, prior_history_, seal_, seed);
    if (!prepared) {
      reply_error(x, prepared.error());
      return false;
    }
    prepared_ = std::move(*prepared);
    if (head_.store &&
        prior_history_.size() + prepared_->input_items_json.size() > kMaxStoredBytes) {
      reply_error(
          x, request_error(400,
                           "the conversation is over the " + std::to_string(kMaxStoredBytes >> 20) +
                               " MiB this gateway stores; start a new one or send "
                               "store: false with the items",
                           "conversation_too_large", "previous_response_id"));
      return false;
    }
    if (prepared_->media_urls.empty()) return aim(x, {});
    FetchLimits limits;
    limits.allow_private = x.settings().get(kFetchPrivateUrls);
    fetcher_ = std::make_unique<MediaFetcher>(
        x.worker(), prepared_->media_urls, limits,
        [this, ref = x.ref()](MediaMap media, std::string problem) {
          ref.post([this, media = std::move(media), problem](FilterCallbacks& x) {
            if (!problem.empty()) {
              reply_error(x, request_error(400, problem, "invalid_image_url", "input"));
              return;
            }
            if (aim(x, media)) x.resume();
          });
        });
    return false;
  }

  // Points the request at Gemini. False when it replied with an error.
  bool aim(FilterCallbacks& x, const MediaMap& media) {
    auto call = finish_request(*prepared_, media);
    if (!call) {
      reply_error(x, call.error());
      return false;
    }
    call_ = std::move(*call);
    http::Request& req = x.request();
    req.method = "POST";
    size_t q = call_->path.find('?');
    req.path = call_->path.substr(0, q);
    req.query = q == std::string::npos ? "" : call_->path.substr(q + 1);
    req.body = std::move(call_->body);
    req.headers.set("content-type", "application/json");
    req.headers.set("accept", "application/json");
    return true;
  }

  // Saves a finished response when the request asked for storing. Runs before the answer's
  // last byte leaves, so the FIFO store has it before any follow-up can ask.
  void save(FilterCallbacks& x, const FinishedResponse& done) {
    if (!head_.store || !store_ || saved_ || done.status == "failed") return;
    saved_ = true;
    std::string data = make_record(done.response_json, prior_history_, prepared_->input_items_json,
                                   done.output_items_json);
    if (data.size() > kMaxStoredBytes) {
      log::warn("responses: " + meta_.id + " not stored: its conversation is over the cap");
      return;
    }
    const int64_t now = now_ms();
    StoredDocument row{meta_.id, token_id_, now, now + x.settings().get(kStoreTtlS) * 1000,
                       std::move(data)};
    if (!store_->save(std::move(row))) log::warn("responses: storage is shutting down");
  }

  std::shared_ptr<DocumentStore> store_;
  ReasoningSeal seal_;
  RequestHead head_;
  int64_t token_id_ = -1;
  ResponseMeta meta_;
  std::string prior_history_;
  std::optional<PreparedRequest> prepared_;
  std::optional<GeminiCall> call_;
  HeldStream<ResponsesStreamTranslator> stream_;
  bool saved_ = false;
  std::unique_ptr<MediaFetcher> fetcher_;
};

}  // namespace

std::unique_ptr<ResponsesOp> make_create_response_op(std::shared_ptr<DocumentStore> store) {
  return std::make_unique<CreateResponseOp>(std::move(store));
}

}  // namespace gemgate::responses
