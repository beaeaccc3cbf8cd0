#include "filters/openai/translate/detail/tool_ids.h"

#include <cstdint>

namespace gemgate::openai::detail {

std::string generated_call_id(std::string_view completion_id, size_t k) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : completion_id) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "call_";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(h >> shift) & 0xF];
  out += '_';
  out += std::to_string(k);
  return out;
}

std::string make_tool_call_id(std::string_view base, std::string_view signature) {
  std::string out(base);
  if (!signature.empty()) {
    out += kThoughtSeparator;
    out += signature;
  }
  return out;
}

ToolCallId split_tool_call_id(std::string_view id) {
  size_t p = id.find(kThoughtSeparator);
  if (p == std::string_view::npos) return {id, {}};
  return {id.substr(0, p), id.substr(p + kThoughtSeparator.size())};
}

}  // namespace gemgate::openai::detail
