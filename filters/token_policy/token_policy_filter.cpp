#include "filters/token_policy/token_policy_filter.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/clock.h"
#include "core/credentials.h"
#include "core/exchange.h"
#include "core/json.h"
#include "core/token_meter.h"
#include "filters/common/gemini_paths.h"

namespace gemgate::token_policy {

namespace {

class TokenPolicyFilter final : public Filter {
 public:
  explicit TokenPolicyFilter(std::shared_ptr<TokenMeter> meter) : meter_(std::move(meter)) {}

  Status on_request(FilterCallbacks& x) override {
    const TokenPolicySlot* slot = x.find_slot<TokenPolicySlot>();
    if (!slot || !slot->policy) return Status::Continue;
    policy_ = slot->policy;
    const http::Request& req = x.request();
    listing_ = req.method == "GET" && gemini::is_models_list(req.path) && !policy_->models.empty();
    const std::string_view model = gemini::model_in_path(req.path);
    if (model.empty()) return Status::Continue;
    if (!policy_->allows_model(model)) {
      std::string why = "model not allowed for this token: " + std::string(model);
      x.info().error = why;
      x.info().error_kind = "token_model";
      x.reply_local(http::LocalError{403, "PERMISSION_DENIED", std::move(why), "model", ""});
      return Status::Stop;
    }
    TokenMeter::Verdict v = meter_->check_tokens(*policy_, now_unix_ms());
    if (!v.allowed) {
      x.info().error = v.message;
      x.info().error_kind = v.quota ? "token_quota" : "token_rate";
      http::Response r;
      r.status = 429;
      r.local_error = http::LocalError{429, "RESOURCE_EXHAUSTED", v.message, "",
                                       v.quota ? "insufficient_quota" : ""};
      r.headers.set("retry-after", std::to_string((v.retry_after_ms + 999) / 1000));
      x.respond(std::move(r));
      return Status::Stop;
    }
    return Status::Continue;
  }

  // A buffered answer is charged here, before the client has it: the client's next request
  // already sees this one's tokens (the request that crosses a quota is the last one served).
  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (!r.streaming) charge(x);
    if (!listing_ || r.local_error || r.status != 200 || r.streaming) return Status::Continue;
    drop_disallowed(r.body);
    return Status::Continue;
  }

  // A stream is charged with its last chunk, when the usage is final, before that chunk goes out.
  void on_response_data(FilterCallbacks& x, std::string&, bool last) override {
    if (last) charge(x);
  }

  // Whatever was not charged yet (a client that left mid-stream): the usage seen so far.
  void on_done(const FilterCallbacks& x) override { charge(x); }

 private:
  // Removes from a Gemini models list ({"models":[{"name":"models/x",...}]}) every model the
  // token may not use. A body that is not such a list passes unchanged.
  void drop_disallowed(std::string& body) const {
    rapidjson::Document doc;
    if (!json::parse(doc, body) || !doc.IsObject()) return;
    auto models = doc.FindMember("models");
    if (models == doc.MemberEnd() || !models->value.IsArray()) return;
    rapidjson::Value kept(rapidjson::kArrayType);
    auto& alloc = doc.GetAllocator();
    for (auto& m : models->value.GetArray()) {
      auto name = m.IsObject() ? m.FindMember("name") : rapidjson::Value::MemberIterator();
      if (!m.IsObject() || name == m.MemberEnd() || !name->value.IsString()) continue;
      std::string id = gemini::model_from_path(std::string("/") + name->value.GetString());
      if (id.empty() || !policy_->allows_model(id)) continue;
      kept.PushBack(rapidjson::Value(m, alloc), alloc);
    }
    models->value = kept;
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    doc.Accept(w);
    body.assign(buf.GetString(), buf.GetSize());
  }

  void charge(const FilterCallbacks& x) {
    if (!policy_ || charged_) return;
    const TokenUsage& usage = x.info().usage;
    if (!usage.known || usage.total <= 0) return;
    charged_ = true;
    meter_->charge_tokens(policy_->id, usage.total, now_unix_ms());
  }

  std::shared_ptr<TokenMeter> meter_;
  std::shared_ptr<const TokenPolicy> policy_;
  bool listing_ = false;
  bool charged_ = false;
};

}  // namespace

Result<void> register_token_policy_filter(Registry& registry) {
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "token_policy",
      .summary = "enforces the client token's models, token rate and quotas; charges its usage",
      .build = [](const FilterBuild<NoConfig>& b) -> std::optional<FilterFactory> {
        auto meter =
            b.require<TokenMeter>("the token_policy filter needs the token meter (wiring error)");
        if (!meter) return std::nullopt;
        return FilterFactory([meter] { return std::make_unique<TokenPolicyFilter>(meter); });
      },
  });
}

}  // namespace gemgate::token_policy
