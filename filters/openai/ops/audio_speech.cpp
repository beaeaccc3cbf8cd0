// POST /audio/speech → a Gemini TTS model's generateContent; its PCM answer becomes the wav or
// pcm file the client asked for. The model for OpenAI's own TTS model names is the
// `openai_speech_model` setting.
#include <optional>

#include "filters/openai/openai_filter.h"
#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class AudioSpeechOp final : public OpenAIOp {
 public:
  Status on_request(FilterCallbacks& x) override {
    SpeechDefaults defaults;
    defaults.default_model = x.settings().get(kSpeechModel);
    auto plan = plan_speech(x.request().body, defaults);
    if (!plan) return reply_error(x, plan.error());
    plan_ = std::move(*plan);
    aim(x.request(), "POST", plan_->path, plan_->body);
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (auto audio = render_speech(*plan_, r.body)) {
      r.body = std::move(audio->bytes);
      r.headers.set("content-type", audio->content_type);
    } else {
      r = error_response(audio.error());
    }
    return Status::Continue;
  }

 private:
  std::optional<SpeechPlan> plan_;
};

}  // namespace

std::unique_ptr<OpenAIOp> make_audio_speech_op() {
  return std::make_unique<AudioSpeechOp>();
}

}  // namespace gemgate::openai
