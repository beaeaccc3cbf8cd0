// The `responses` filter: routes each request to its op (ops/) and turns Gemini's non-2xx
// answers into OpenAI errors; registers the filter and its settings.
#include "filters/responses/responses_filter.h"

#include <memory>
#include <optional>
#include <string_view>

#include "core/exchange.h"
#include "filters/responses/ops/responses_op.h"

namespace gemgate::responses {

namespace {

class ResponsesFilter final : public Filter {
 public:
  explicit ResponsesFilter(std::shared_ptr<DocumentStore> store) : store_(std::move(store)) {}

  Status on_request(FilterCallbacks& x) override {
    const http::Request& req = x.request();
    std::string_view path = req.path;
    if (path == "/responses") {
      if (req.method != "POST") return method_not_allowed(x, "POST");
      op_ = make_create_response_op(store_);
      return op_->on_request(x);
    }
    if (!path.starts_with("/responses/")) {
      return reply_error(x, request_error(404, "unknown endpoint " + req.path, "unknown_url"));
    }
    std::string_view rest = path.substr(11);
    StoredAction action = req.method == "DELETE" ? StoredAction::kDelete : StoredAction::kGet;
    constexpr std::string_view kItems = "/input_items";
    if (rest.ends_with(kItems)) {
      rest.remove_suffix(kItems.size());
      if (req.method != "GET") return method_not_allowed(x, "GET");
      action = StoredAction::kInputItems;
    } else if (req.method != "GET" && req.method != "DELETE") {
      return method_not_allowed(x, "GET or DELETE");
    }
    if (!valid_response_id(rest)) {
      return reply_error(x, request_error(404, "no response has that id", "not_found"));
    }
    op_ = make_stored_response_op(store_, action, std::string(rest));
    return op_->on_request(x);
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
    if (r.local_error) return Status::Continue;  // rendered in OpenAI's shape by the chain
    if (r.status < 200 || r.status >= 300) {
      r = error_response(openai::translate_gemini_error(r.status, r.body));
      return Status::Continue;
    }
    return op_ ? op_->on_response_head(x) : Status::Continue;
  }

  void on_response_data(FilterCallbacks& x, std::string& chunk, bool last) override {
    if (op_) op_->on_response_data(x, chunk, last);
  }

  void on_done(const FilterCallbacks&) override {
    if (op_) op_->on_done();
  }

 private:
  Status method_not_allowed(FilterCallbacks& x, std::string_view allowed) {
    return reply_error(
        x, request_error(405, "use " + std::string(allowed) + " for " + x.request().path,
                         "method_not_allowed"));
  }

  std::shared_ptr<DocumentStore> store_;
  std::unique_ptr<ResponsesOp> op_;
};

}  // namespace

Result<void> register_responses_filter(Registry& registry) {
  auto declared = registry.settings_schema().declare_all({
      kStoreTtlS.with({.description = "How long stored Responses API responses (store: true) "
                                      "are kept for previous_response_id and GET, in seconds.",
                       .default_json = "2592000",
                       .min = 60,
                       .max = 31'536'000}),
      kFetchPrivateUrls.with(
          {.description = "Allow media URLs on local/private addresses in Responses API calls "
                          "(off: the gateway never reads its own network).",
           .default_json = "false"}),
  });
  if (!declared.ok()) return declared;
  return registry.add_filter(FilterDef<NoConfig>{
      .name = "responses",
      .summary = "serves the OpenAI Responses API by translating to and from Gemini",
      .build = [](const FilterBuild<NoConfig>& b) -> std::optional<FilterFactory> {
        auto store = b.ctx.services.get<DocumentStore>();  // optional: nothing stored without
        return FilterFactory([store] { return std::make_unique<ResponsesFilter>(store); });
      },
  });
}

}  // namespace gemgate::responses
