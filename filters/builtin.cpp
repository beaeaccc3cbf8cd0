#include "filters/builtin.h"

#include <utility>

// Deleting a filter is deleting its folder under filters/ and its one GEMGATE_BUILTIN_FILTER line
// below, nothing else (tests/build/deletable_filter.sh checks that the rest still builds). So the
// line itself declares the filter's registration function (no #include of the filter's header)
// and enters it in the list, without a static initialiser: the list is a variable template
// indexed by source line, constant-initialised, and register_builtin_filters() walks the lines
// between two markers in order.

namespace gemgate::builtin {
namespace {

using RegisterFn = Result<void> (*)(Registry&);

// kFilterAt<N>: the registration function entered on line N of this file, nullptr elsewhere.
template <int Line>
constexpr RegisterFn kFilterAt = nullptr;

}  // namespace
}  // namespace gemgate::builtin

// Declares `Result<void> gemgate::ns::fn(Registry&)` and enters it at this line.
#define GEMGATE_BUILTIN_FILTER(ns, fn)                           \
  namespace gemgate::ns {                                        \
  Result<void> fn(Registry& registry);                           \
  }                                                              \
  namespace gemgate::builtin {                                   \
  namespace {                                                    \
  template <>                                                    \
  constexpr RegisterFn kFilterAt<__LINE__> = &::gemgate::ns::fn; \
  }                                                              \
  }

// clang-format off
namespace gemgate::builtin { namespace { constexpr int kFirstLine = __LINE__; } }
// Registration order is the order of these lines.
GEMGATE_BUILTIN_FILTER(logging, register_log_filter)
GEMGATE_BUILTIN_FILTER(auth, register_auth_filter)
GEMGATE_BUILTIN_FILTER(retry, register_retry_filter)
GEMGATE_BUILTIN_FILTER(affinity, register_affinity_filter)
GEMGATE_BUILTIN_FILTER(keys, register_keys_filter)
GEMGATE_BUILTIN_FILTER(upstream, register_upstream_filter)
GEMGATE_BUILTIN_FILTER(healthz, register_healthz_filter)
GEMGATE_BUILTIN_FILTER(models, register_models_filter)
GEMGATE_BUILTIN_FILTER(token_policy, register_token_policy_filter)
GEMGATE_BUILTIN_FILTER(openai, register_openai_filter)
GEMGATE_BUILTIN_FILTER(anthropic, register_anthropic_filter)
GEMGATE_BUILTIN_FILTER(responses, register_responses_filter)
GEMGATE_BUILTIN_FILTER(metrics_endpoint, register_metrics_filter)
GEMGATE_BUILTIN_FILTER(files, register_files_filter)
namespace gemgate::builtin { namespace { constexpr int kEndLine = __LINE__; } }
// clang-format on

namespace gemgate {
namespace {

// Calls the registration function of each line in (kFirstLine, kEndLine) that has one, in line
// order; stops at the first failure and returns it.
template <int... Offset>
Result<void> register_lines(Registry& registry, std::integer_sequence<int, Offset...>) {
  Result<void> result;
  (void)((builtin::kFilterAt<builtin::kFirstLine + Offset> == nullptr ||
          (result = builtin::kFilterAt<builtin::kFirstLine + Offset>(registry)).ok()) &&
         ...);
  return result;
}

}  // namespace

Result<void> register_builtin_filters(Registry& registry) {
  return register_lines(registry,
                        std::make_integer_sequence<int, builtin::kEndLine - builtin::kFirstLine>());
}

}  // namespace gemgate
