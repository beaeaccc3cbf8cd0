#include "filters/upstream/usage_scanner.h"

#include <cstring>
#include <rapidjson/allocators.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "core/json.h"

namespace gemgate::upstream {

namespace {

constexpr std::string_view kKey = "\"usageMetadata\"";
constexpr size_t kMaxCarry = 64 * 1024;  // a usage object is tiny; anything bigger is not one

constexpr int kMaxDepth = 64;  // nesting inside a usage object (its details are arrays)

// SAX reader of one usage object: keeps the integer members at its top level (the first of a
// repeated name, as a DOM lookup would) and ignores everything nested. A read with no DOM and,
// for an object of this size, no heap allocation (its stack lives in a buffer on the stack).
struct UsageReader : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, UsageReader> {
  TokenUsage usage;
  int64_t* pending = nullptr;  // the member whose value comes next, when it is one we keep
  bool seen[5] = {};
  int depth = 0;

  bool Key(const char* name, rapidjson::SizeType length, bool) {
    pending = nullptr;
    if (depth != 1) return true;
    static constexpr std::string_view kNames[] = {"promptTokenCount", "candidatesTokenCount",
                                                  "thoughtsTokenCount", "cachedContentTokenCount",
                                                  "totalTokenCount"};
    int64_t* fields[] = {&usage.prompt, &usage.completion, &usage.thoughts, &usage.cached,
                         &usage.total};
    std::string_view key(name, length);
    for (size_t i = 0; i < 5; ++i) {
      if (key == kNames[i] && !seen[i]) {
        seen[i] = true;
        pending = fields[i];
      }
    }
    return true;
  }
  bool Default() {  // any other value: not an integer we keep
    pending = nullptr;
    return true;
  }
  bool Int(int v) { return keep(v); }
  bool Uint(unsigned v) { return keep(v); }
  bool Int64(int64_t v) { return keep(v); }
  bool Uint64(uint64_t v) {
    return v <= static_cast<uint64_t>(INT64_MAX) ? keep(static_cast<int64_t>(v)) : Default();
  }
  bool StartObject() {
    pending = nullptr;
    return ++depth <= kMaxDepth;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() { return StartObject(); }
  bool EndArray(rapidjson::SizeType n) { return EndObject(n); }

 private:
  bool keep(int64_t v) {
    if (pending) *pending = v;
    pending = nullptr;
    return true;
  }
};

// Reads the usage object `text` (balanced braces); false when it is not valid JSON.
bool read_usage(std::string_view text, TokenUsage* out) {
  char buffer[1024];
  rapidjson::MemoryPoolAllocator<> pool(buffer, sizeof buffer);
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>>
      reader(&pool, 256);
  rapidjson::MemoryStream stream(text.data(), text.size());
  UsageReader handler;
  if (!reader.Parse<rapidjson::kParseStopWhenDoneFlag>(stream, handler)) return false;
  if (stream.Tell() != text.size()) return false;
  *out = handler.usage;
  return true;
}

// Where the next "usageMetadata" key starts in `text` at or after `from`, or npos. glibc's
// memmem skips ahead by the key's length; string_view::find stops at every quote of the JSON.
size_t find_key(std::string_view text, size_t from) {
  if (from >= text.size()) return std::string_view::npos;
  const void* at = memmem(text.data() + from, text.size() - from, kKey.data(), kKey.size());
  return at ? static_cast<size_t>(static_cast<const char*>(at) - text.data())
            : std::string_view::npos;
}

}  // namespace

void UsageScanner::feed(std::string_view data) {
  // The usual piece is scanned where it lies; only its unscanned tail (a few bytes, or an
  // unfinished usage object) is copied. A tail from before is joined to the piece first.
  if (window_.empty()) {
    window_.assign(data.substr(scan(data)));
    return;
  }
  window_.append(data);
  window_.erase(0, scan(window_));
}

size_t UsageScanner::scan(std::string_view text) {
  size_t pos = 0;
  while (true) {
    size_t key = find_key(text, pos);
    if (key == std::string_view::npos) {
      // Keep just enough to catch a key split across pieces — never bytes already scanned,
      // or a split could make a key out of the end of one match and the next piece.
      size_t keep = std::min(text.size() - std::min(pos, text.size()), kKey.size() - 1);
      return text.size() - keep;
    }
    size_t brace = text.find_first_not_of(" \t\r\n:", key + kKey.size());
    if (brace == std::string_view::npos) {  // incomplete: wait for more, but not for ever
      return text.size() - key > kMaxCarry ? text.size() : key;
    }
    if (text[brace] != '{') {
      pos = key + kKey.size();
      continue;
    }
    size_t len = json::balanced_length(text.substr(brace));
    if (len == 0) return text.size() - key > kMaxCarry ? text.size() : key;
    TokenUsage found;
    if (read_usage(text.substr(brace, len), &found)) {
      usage_ = found;
      usage_.known = true;
    }
    pos = brace + len;
  }
}

}  // namespace gemgate::upstream
