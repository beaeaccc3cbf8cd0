// GET /responses/{id}, DELETE /responses/{id} and GET /responses/{id}/input_items: answered from
// the DocumentStore (off the worker loop), scoped to the calling client token: another token's
// response, an expired one and an unknown id all get the same 404.
#include <cstdlib>
#include <memory>
#include <string_view>

#include "filters/responses/ops/responses_op.h"
#include "filters/responses/translate/stored_conversation.h"

namespace gemgate::responses {

namespace {

// The value of `name` in a query string ("" when absent); no decoding needed for its values.
std::string query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

class StoredResponseOp final : public ResponsesOp {
 public:
  StoredResponseOp(std::shared_ptr<DocumentStore> store, StoredAction what, std::string id)
      : store_(std::move(store)), what_(what), id_(std::move(id)) {}

  Status on_request(FilterCallbacks& x) override {
    if (!store_) return reply_error(x, response_not_found(id_, ""));
    const std::string query = x.request().query;
    auto ref = x.ref();
    bool queued = false;
    if (what_ == StoredAction::kDelete) {
      queued = store_->remove(id_, x.info().token_id, [this, ref](DocumentStore::Outcome o) {
        ref.post([this, o](FilterCallbacks& x) { answer(x, o, "", ""); });
      });
    } else {
      queued = store_->load(id_, x.info().token_id,
                            [this, ref, query](DocumentStore::Outcome o, std::string data) {
                              ref.post([this, o, data = std::move(data),
                                        query](FilterCallbacks& x) { answer(x, o, data, query); });
                            });
    }
    if (!queued) return reply_error(x, storage_unavailable());
    return Status::Stop;
  }

 private:
  void answer(FilterCallbacks& x, DocumentStore::Outcome outcome, const std::string& data,
              const std::string& query) {
    if (outcome == DocumentStore::Outcome::kFailed) {
      reply_error(x, storage_unavailable());
      return;
    }
    if (outcome == DocumentStore::Outcome::kNotFound) {
      reply_error(x, response_not_found(id_, ""));
      return;
    }
    http::Response r;
    r.status = 200;
    r.headers.set("content-type", "application/json");
    if (what_ == StoredAction::kDelete) {
      r.body = "{\"id\":\"" + id_ + "\",\"object\":\"response\",\"deleted\":true}";
      x.respond(std::move(r));
      return;
    }
    auto record = read_record(data);
    if (!record) {
      reply_error(x, record.error());
      return;
    }
    if (what_ == StoredAction::kGet) {
      r.body = std::move(record->response_json);
    } else {
      std::string limit_text = query_value(query, "limit");
      long limit = limit_text.empty() ? 20 : std::strtol(limit_text.c_str(), nullptr, 10);
      if (limit < 1 || limit > 100) {
        reply_error(x, request_error(400, "limit must be between 1 and 100", "", "limit"));
        return;
      }
      const bool descending = query_value(query, "order") != "asc";
      r.body = input_items_page(record->input_items_json, descending, static_cast<size_t>(limit));
    }
    x.respond(std::move(r));
  }

  std::shared_ptr<DocumentStore> store_;
  StoredAction what_;
  std::string id_;
};

}  // namespace

std::unique_ptr<ResponsesOp> make_stored_response_op(std::shared_ptr<DocumentStore> store,
                                                     StoredAction what, std::string id) {
  return std::make_unique<StoredResponseOp>(std::move(store), what, std::move(id));
}

}  // namespace gemgate::responses
