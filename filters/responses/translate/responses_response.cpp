// Gemini answers and streams → Responses objects and events. See responses_response.h.
#include "filters/responses/translate/responses_response.h"

#include <optional>
#include <utility>

#include "filters/openai/translate/detail/json_util.h"
#include "filters/openai/translate/detail/scratch.h"
#include "filters/openai/translate/detail/sse_decoder.h"
#include "filters/responses/translate/detail/output_builder.h"

namespace gemgate::responses {

using namespace openai::detail;  // NOLINT: the JSON helpers

Expected<FinishedResponse> translate_response(std::string_view gemini_body,
                                              const ResponsesContext& ctx, const ResponseMeta& meta,
                                              const ReasoningSeal& seal) {
  Document doc;
  std::string why;
  if (!parse_json(gemini_body, doc, &why) || !doc.IsObject()) {
    return OpenAIError::bad_upstream("the upstream answer is not a JSON object");
  }
  if (field(doc, "error")) return openai::translate_gemini_error(200, gemini_body);
  detail::OutputBuilder builder(ctx, meta, seal, nullptr);
  builder.add_answer(doc);
  return builder.finish();
}

struct ResponsesStreamTranslator::State {
  State(ResponsesContext c, ResponseMeta m, ReasoningSeal s, size_t max_event_bytes)
      : ctx(std::move(c)),
        meta(std::move(m)),
        seal(std::move(s)),
        decoder(max_event_bytes),
        builder(ctx, meta, seal, &events) {}

  // One decoded SSE event; false stops the decoder (the stream failed).
  bool on_event(std::string_view data) {
    openai::detail::Scratch scratch;  // the event's DOM, in this thread's arena
    openai::detail::ScratchDocument& doc = scratch.doc();
    std::string why;
    if (!parse_json(data, doc, &why) || !doc.IsObject()) {
      fail_with(OpenAIError::bad_upstream("the upstream sent an unreadable stream event"));
      return false;
    }
    if (field(doc, "error")) {
      fail_with(openai::translate_gemini_error(200, data));
      return false;
    }
    if (!started) {
      builder.start();
      started = true;
    }
    builder.add_answer(doc);
    return true;
  }

  void fail_with(OpenAIError e) {
    if (done) return;
    error = std::move(e);
    if (started) builder.fail(*error);  // before anything went out the caller answers plainly
    done = true;
  }

  void flush_to(std::string& out) {
    out += events;
    events.clear();
  }

  ResponsesContext ctx;
  ResponseMeta meta;
  ReasoningSeal seal;
  std::string events;
  openai::detail::SseDecoder decoder;
  detail::OutputBuilder builder;
  bool started = false;
  bool done = false;
  std::optional<OpenAIError> error;
  std::optional<FinishedResponse> finished;
};

ResponsesStreamTranslator::ResponsesStreamTranslator(ResponsesContext ctx, ResponseMeta meta,
                                                     ReasoningSeal seal, size_t max_event_bytes)
    : s_(std::make_unique<State>(std::move(ctx), std::move(meta), std::move(seal),
                                 max_event_bytes)) {}
ResponsesStreamTranslator::~ResponsesStreamTranslator() = default;
ResponsesStreamTranslator::ResponsesStreamTranslator(ResponsesStreamTranslator&&) noexcept =
    default;
ResponsesStreamTranslator& ResponsesStreamTranslator::operator=(
    ResponsesStreamTranslator&&) noexcept = default;

void ResponsesStreamTranslator::feed(std::string_view bytes, std::string& out) {
  if (s_->done) return;
  auto status =
      s_->decoder.feed(bytes, [this](std::string_view data) { return s_->on_event(data); });
  if (status == openai::detail::SseDecoder::Status::kTooLarge) {
    s_->fail_with(OpenAIError::bad_upstream("the upstream sent a stream event over the limit"));
  }
  s_->flush_to(out);
}

void ResponsesStreamTranslator::finish(std::string& out) {
  if (s_->done) return;
  auto status = s_->decoder.finish([this](std::string_view data) { return s_->on_event(data); });
  if (status == openai::detail::SseDecoder::Status::kTooLarge) {
    s_->fail_with(OpenAIError::bad_upstream("the upstream sent a stream event over the limit"));
  }
  if (!s_->done && !s_->started) {
    s_->fail_with(OpenAIError::bad_upstream("the upstream stream ended without an answer"));
  }
  if (!s_->done) {
    s_->finished = s_->builder.finish();
    s_->done = true;
  }
  s_->flush_to(out);
}

void ResponsesStreamTranslator::fail(const OpenAIError& error, std::string& out) {
  s_->fail_with(error);
  s_->flush_to(out);
}

bool ResponsesStreamTranslator::done() const {
  return s_->done;
}
bool ResponsesStreamTranslator::failed() const {
  return s_->error.has_value();
}
bool ResponsesStreamTranslator::started() const {
  return s_->started;
}
const OpenAIError* ResponsesStreamTranslator::error() const {
  return s_->error ? &*s_->error : nullptr;
}
const FinishedResponse* ResponsesStreamTranslator::finished() const {
  return s_->finished ? &*s_->finished : nullptr;
}

}  // namespace gemgate::responses
