// GET /models → Gemini's models list, every page (at most kMaxPages calls in sequence), as one
// OpenAI list.
#include <vector>

#include "filters/openai/ops/openai_op.h"
#include "filters/openai/translate/translate.h"

namespace gemgate::openai {

namespace {

class ModelsListOp final : public OpenAIOp {
 public:
  Status on_request(FilterCallbacks& x) override {
    aim(x.request(), "GET", models_list_path(), "");
    return Status::Continue;
  }

  Status on_response_head(FilterCallbacks& x) override {
    http::Response& r = x.response();
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

 private:
  // A bound on calls per request, should Gemini keep handing out page tokens.
  static constexpr int kMaxPages = 20;

  std::vector<ModelEntry> models_;  // every page so far
  int pages_ = 0;
};

}  // namespace

std::unique_ptr<OpenAIOp> make_models_list_op() {
  return std::make_unique<ModelsListOp>();
}

}  // namespace gemgate::openai
