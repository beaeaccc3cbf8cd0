#include "filters/openai/openai_filter.h"

#include <chrono>
#include <optional>

#include "core/crypto.h"
#include "core/exchange.h"
#include "core/worker.h"
#include "filters/openai/media_fetcher.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

enum class Op { kChat, kEmbeddings, kModels, kModel };

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// An invalid_request_error with `status` and machine `code`.
OpenAIError request_error(int status, std::string message, std::string code) {
  OpenAIError e = OpenAIError::invalid(std::move(message), std::nullopt, std::move(code));
  e.status = status;
  return e;
}

// Sends an OpenAI-shaped error as the whole answer.
http::Response error_response(const OpenAIError& e) {
  http::Response r;
  r.status = e.status;
  r.headers.set("content-type", "application/json");
  if (e.retry_after_ms) {
    r.headers.set("retry-after", std::to_string((*e.retry_after_ms + 999) / 1000));
    r.headers.set("retry-after-ms", std::to_string(*e.retry_after_ms));
  }
  r.body = e.to_json();
  return r;
}

OpenAIError from_local(const http::LocalError& e) {
  OpenAIError o;
  o.status = e.status;
  o.message = e.message;
  if (!e.param.empty()) o.param = e.param;
  switch (e.status) {
    case 400:
    case 405:
    case 413:
    case 415:
      o.type = "invalid_request_error";
      break;
    case 401:
      o.type = "authentication_error";
      o.code = "invalid_api_key";
      break;
    case 403:
      o.type = "permission_error";
      break;
    case 404:
      o.type = "invalid_request_error";
      o.code = "not_found";
      break;
    case 429:
      o.type = "rate_limit_error";
      o.code = "rate_limit_exceeded";
      break;
    case 503:
      o.type = "server_error";
      o.code = "service_unavailable";
      break;
    case 504:
      o.type = "server_error";
      o.code = "timeout";
      break;
    default:
      o.type = e.status >= 500 ? "server_error" : "invalid_request_error";
      break;
  }
  return o;
}

// Points the request at a Gemini call: "path?query", body (empty for GET).
void aim(http::Request& req, std::string_view method, std::string_view target, std::string body) {
  req.method = std::string(method);
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  req.query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
  req.body = std::move(body);
  req.headers.set("content-type", "application/json");
  req.headers.set("accept", "application/json");
}

class OpenAIFilter final : public Filter {
 public:
  Status on_request(Exchange& x) override {
    http::Request& req = x.request();
    const std::string& path = req.path;
    std::string method = req.method;
    if (path == "/chat/completions") {
      op_ = Op::kChat;
    } else if (path == "/embeddings") {
      op_ = Op::kEmbeddings;
    } else if (path == "/models") {
      op_ = Op::kModels;
    } else if (starts_with(path, "/models/") && path.size() > 8) {
      op_ = Op::kModel;
    } else {
      return fail(x, request_error(404, "unknown endpoint " + path, "unknown_url"));
    }
    bool wants_get = op_ == Op::kModels || op_ == Op::kModel;
    if (method != (wants_get ? "GET" : "POST")) {
      return fail(
          x, request_error(405, std::string("use ") + (wants_get ? "GET" : "POST") + " for " + path,
                           "method_not_allowed"));
    }
    switch (op_) {
      case Op::kChat:
        return start_chat(x);
      case Op::kEmbeddings:
        return start_embeddings(x);
      case Op::kModels:
        aim(req, "GET", models_list_path(), "");
        return Status::Continue;
      case Op::kModel: {
        auto target = model_get_path(path.substr(8));
        if (!target) return fail(x, target.error());
        aim(req, "GET", *target, "");
        return Status::Continue;
      }
    }
    return Status::Continue;
  }

  Status on_response_head(Exchange& x) override {
    http::Response& r = x.response();
    if (r.local_error) return Status::Continue;  // rendered in OpenAI's shape by the chain
    if (r.status < 200 || r.status >= 300) {
      r = error_response(translate_gemini_error(r.status, r.body));
      return Status::Continue;
    }
    switch (op_) {
      case Op::kChat:
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
      case Op::kEmbeddings:
        replies_.push_back(std::move(r.body));
        if (replies_.size() < plan_->calls.size()) {
          const EmbeddingCall& next = plan_->calls[replies_.size()];
          aim(x.request(), "POST", next.path, next.body);
          x.rerun_below();
          return Status::Stop;
        }
        if (auto merged = merge_embeddings(*plan_, replies_)) {
          r.body = std::move(*merged);
          r.headers.set("content-type", "application/json");
        } else {
          r = error_response(merged.error());
        }
        return Status::Continue;
      case Op::kModels: {
        auto page = parse_models_page(r.body);
        if (!page) {
          r = error_response(page.error());
          return Status::Continue;
        }
        models_.insert(models_.end(), page->models.begin(), page->models.end());
        if (!page->next_page_token.empty() && ++pages_ < kMaxPages) {
          aim(x.request(), "GET", models_list_path(page->next_page_token), "");
          x.rerun_below();
          return Status::Stop;
        }
        r.body = render_models_list(models_);
        r.headers.set("content-type", "application/json");
        return Status::Continue;
      }
      case Op::kModel:
        if (auto one = translate_model(r.body)) {
          r.body = std::move(*one);
          r.headers.set("content-type", "application/json");
        } else {
          r = error_response(one.error());
        }
        return Status::Continue;
    }
    return Status::Continue;
  }

  void on_response_data(Exchange& x, std::string& chunk, bool last) override {
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
    if (!holding_) return;
    if (stream_->started()) {
      holding_ = false;  // the stream is alive: let the head and what we have go out
      x.resume();
    } else if (stream_->failed() || last) {
      // Failed before anything went out — or ended without a single answer event: answer with
      // a plain error instead of a 200 stream (and never keep the client waiting).
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

  void on_done(const Exchange&) override { fetcher_.reset(); }

 private:
  static constexpr int kMaxPages = 20;

  Status fail(Exchange& x, const OpenAIError& e) {
    x.info().error = e.message;
    x.respond(error_response(e));
    return Status::Stop;
  }

  Status start_chat(Exchange& x) {
    auto urls = list_remote_media(x.request().body);
    if (!urls) return fail(x, urls.error());
    if (urls->empty()) return translate_chat(x, {}) ? Status::Continue : Status::Stop;
    FetchLimits limits;
    limits.allow_private = x.settings().get_bool("openai_fetch_private_urls");
    fetcher_ = std::make_unique<MediaFetcher>(
        x.worker(), std::move(*urls), limits,
        [this, ref = x.ref()](MediaMap media, std::string problem) {
          ref.post([this, media = std::move(media), problem](Exchange& x) {
            if (!problem.empty()) {
              fail(x, OpenAIError::invalid(problem, std::string("messages"),
                                           std::string("invalid_image_url")));
              return;
            }
            if (translate_chat(x, media)) x.resume();
          });
        });
    return Status::Stop;
  }

  // Translates the chat request in place; on failure replies and returns false.
  bool translate_chat(Exchange& x, const MediaMap& media) {
    TranslateOptions options;
    options.include_reasoning = x.settings().get_bool("openai_include_reasoning");
    auto translated = translate_chat_request(x.request().body, media, options);
    if (!translated) {
      fail(x, translated.error());
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

  Status start_embeddings(Exchange& x) {
    auto plan = plan_embeddings(x.request().body);
    if (!plan) return fail(x, plan.error());
    plan_ = std::move(*plan);
    if (plan_->calls.empty())
      return fail(x, OpenAIError::invalid("'input' is empty", std::string("input")));
    aim(x.request(), "POST", plan_->calls.front().path, plan_->calls.front().body);
    return Status::Continue;
  }

  Op op_ = Op::kChat;
  std::optional<ChatContext> context_;
  ResponseMeta meta_;
  std::optional<ChatStreamTranslator> stream_;
  std::optional<EmbeddingPlan> plan_;
  std::vector<std::string> replies_;
  std::vector<ModelEntry> models_;
  int pages_ = 0;
  bool holding_ = false;  // stream head parked until the first translated event
  std::unique_ptr<MediaFetcher> fetcher_;
};

std::string render_openai_error(const http::LocalError& e) {
  return from_local(e).to_json();
}

}  // namespace

Result<void> register_openai_filter(Registry& registry) {
  SettingsSchema& schema = registry.settings_schema();
  const SettingSpec specs[] = {
      {"openai_include_reasoning",
       SettingType::kBool,
       "Ask Gemini for thought summaries on OpenAI chat calls and return them as "
       "reasoning_content.",
       "false",
       0,
       0,
       {}},
      {"openai_fetch_private_urls",
       SettingType::kBool,
       "Allow image URLs on local/private addresses in OpenAI chat calls (off: the gateway never "
       "reads its own network).",
       "false",
       0,
       0,
       {}},
  };
  for (const SettingSpec& spec : specs) {
    if (auto r = schema.declare(spec); !r.ok()) return r;
  }
  if (auto r = registry.add_error_format("openai", &render_openai_error); !r.ok()) return r;
  FilterType type;
  type.name = "openai";
  type.summary = "serves the OpenAI API by translating to and from Gemini";
  type.create = [](const ConfigNode& config, FilterContext&,
                   ConfigErrors& errors) -> std::optional<FilterFactory> {
    config::expect_keys(config, {}, errors);
    return FilterFactory([] { return std::make_unique<OpenAIFilter>(); });
  };
  return registry.add_filter(std::move(type));
}

}  // namespace gemgate::openai
