// Fuzz target usage_scanner: upstream response bytes → upstream::UsageScanner, which looks for
// Gemini's usageMetadata in JSON, JSON-array streams and SSE without parsing the whole body.
//
// Input: a FragmentPlan (fuzz_util.h) then the body. The body is scanned in the planned pieces
// and in one piece; the usage found must be the same (the scanner promises that pieces "may
// split anywhere"), and usage stays zero until one is known.
#include <cstdint>
#include <string_view>
#include <vector>

#include "filters/upstream/usage_scanner.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

gemgate::TokenUsage scan(const std::vector<std::string_view>& pieces) {
  gemgate::upstream::UsageScanner s;
  for (std::string_view p : pieces) s.feed(p);
  const gemgate::TokenUsage& u = s.usage();
  if (!u.known) {
    FUZZ_CHECK(u.prompt == 0 && u.completion == 0 && u.thoughts == 0 && u.cached == 0 &&
               u.total == 0);
  }
  return u;
}

bool same(const gemgate::TokenUsage& a, const gemgate::TokenUsage& b) {
  return a.known == b.known && a.prompt == b.prompt && a.completion == b.completion &&
         a.thoughts == b.thoughts && a.cached == b.cached && a.total == b.total;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gemgate::fuzz::FragmentPlan plan(data, size);
  gemgate::TokenUsage split = scan(plan.fragments());
  std::vector<std::string_view> whole;
  if (!plan.payload().empty()) whole.push_back(plan.payload());
  FUZZ_CHECK(same(split, scan(whole)));
  return 0;
}
