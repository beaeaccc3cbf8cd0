#include "filters/upstream/usage_scanner.h"

#include <rapidjson/document.h>

#include "core/json.h"

namespace gemgate::upstream {

namespace {

constexpr std::string_view kKey = "\"usageMetadata\"";
constexpr size_t kMaxCarry = 64 * 1024;  // a usage object is tiny; anything bigger is not one

int64_t int_member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return (it != obj.MemberEnd() && it->value.IsInt64()) ? it->value.GetInt64() : 0;
}

}  // namespace

void UsageScanner::feed(std::string_view data) {
  window_.append(data);
  scan();
}

void UsageScanner::scan() {
  size_t pos = 0;
  while (true) {
    size_t key = window_.find(kKey, pos);
    if (key == std::string::npos) {
      // Keep just enough to catch a key split across pieces — never bytes already scanned,
      // or a split could make a key out of the end of one match and the next piece.
      size_t keep = std::min(window_.size() - std::min(pos, window_.size()), kKey.size() - 1);
      window_.erase(0, window_.size() - keep);
      return;
    }
    size_t brace = window_.find_first_not_of(" \t\r\n:", key + kKey.size());
    if (brace == std::string::npos) {  // incomplete: wait for more, but not for ever
      if (window_.size() - key > kMaxCarry)
        window_.clear();
      else
        window_.erase(0, key);
      return;
    }
    if (window_[brace] != '{') {
      pos = key + kKey.size();
      continue;
    }
    size_t len = json::balanced_length(std::string_view(window_).substr(brace));
    if (len == 0) {
      if (window_.size() - key > kMaxCarry) {
        window_.clear();
        return;
      }
      window_.erase(0, key);
      return;
    }
    rapidjson::Document doc;
    if (json::parse(doc, std::string_view(window_).substr(brace, len)) && doc.IsObject()) {
      usage_.prompt = int_member(doc, "promptTokenCount");
      usage_.completion = int_member(doc, "candidatesTokenCount");
      usage_.thoughts = int_member(doc, "thoughtsTokenCount");
      usage_.cached = int_member(doc, "cachedContentTokenCount");
      usage_.total = int_member(doc, "totalTokenCount");
      usage_.known = true;
    }
    pos = brace + len;
  }
}

}  // namespace gemgate::upstream
