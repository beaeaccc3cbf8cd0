// A token's own list of resources across keys. See own_list.h.
#include "filters/affinity/own_list.h"

#include <charconv>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/exchange.h"
#include "core/json.h"
#include "filters/common/key_pin.h"

namespace gemgate::affinity {

namespace {

constexpr size_t kDefaultPageSize = 10;
constexpr size_t kMaxPageSize = 100;

size_t parse_count(const std::optional<std::string>& text, size_t fallback) {
  if (!text || text->empty()) return fallback;
  size_t v = 0;
  auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || p != text->data() + text->size()) return fallback;
  return v;
}

}  // namespace

std::optional<OwnListKind> own_list_kind(std::string_view method, std::string_view path) {
  if (method != "GET") return std::nullopt;
  for (std::string_view version : {"/v1beta/", "/v1/", "/v1alpha/"}) {
    if (!path.starts_with(version)) continue;
    std::string_view rest = path.substr(version.size());
    if (rest.ends_with('/')) rest.remove_suffix(1);
    if (rest == "files" || rest == "cachedContents" || rest == "tunedModels") {
      return OwnListKind{std::string(rest), std::string(rest)};
    }
    if (rest == "batches") return OwnListKind{"batches", "operations"};  // ListOperationsResponse
  }
  return std::nullopt;
}

OwnList::OwnList(OwnListKind list, std::vector<ResourceEntry> items)
    : list_(std::move(list)), items_(std::move(items)) {}

Status OwnList::start(FilterCallbacks& x) {
  const http::Request& req = x.request();
  version_ = req.path.substr(0, req.path.find('/', 1));
  size_t size = parse_count(req.query_param("pageSize"), kDefaultPageSize);
  if (size == 0) size = kDefaultPageSize;
  size = std::min(size, kMaxPageSize);
  begin_ = std::min(parse_count(req.query_param("pageToken"), 0), items_.size());
  end_ = std::min(begin_ + size, items_.size());
  at_ = begin_;
  if (begin_ == end_) {
    http::Response r;
    r.status = 200;
    r.headers.set("content-type", "application/json; charset=UTF-8");
    r.body = "{}\n";  // Google's answer for an empty list
    x.respond(std::move(r));
    return Status::Stop;
  }
  aim(x);
  return Status::Continue;
}

void OwnList::aim(FilterCallbacks& x) const {
  http::Request& req = x.request();
  req.method = "GET";
  req.path = version_ + "/" + items_[at_].name;
  req.query.clear();
  req.body.clear();
  x.slot<common::KeyPin>() = {items_[at_].key_id, items_[at_].name};
}

Status OwnList::on_answer(FilterCallbacks& x, ResourceMap& map) {
  http::Response& r = x.response();
  if (!r.local_error && r.status == 200) {
    answers_.push_back(std::move(r.body));
  } else if (!r.local_error && (r.status == 404 || r.status == 403)) {
    map.forget(items_[at_].name);  // its key no longer has it
  }
  if (++at_ < end_) {
    aim(x);
    x.rerun_below();
    return Status::Stop;
  }
  rapidjson::Document out(rapidjson::kObjectType);
  auto& alloc = out.GetAllocator();
  rapidjson::Value list(rapidjson::kArrayType);
  for (const std::string& text : answers_) {
    rapidjson::Document one;
    if (!json::parse(one, text) || !one.IsObject()) continue;
    list.PushBack(rapidjson::Value(one, alloc), alloc);
  }
  if (!list.Empty()) out.AddMember(rapidjson::Value(list_.field.c_str(), alloc), list, alloc);
  if (end_ < items_.size()) {
    out.AddMember("nextPageToken", rapidjson::Value(std::to_string(end_).c_str(), alloc), alloc);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  out.Accept(w);
  http::Response page;
  page.status = 200;
  page.headers.set("content-type", "application/json; charset=UTF-8");
  page.body.assign(buf.GetString(), buf.GetSize());
  r = std::move(page);
  return Status::Continue;
}

}  // namespace gemgate::affinity
