// Test support: a doctest listener that teaches the log redactor Gemini's key shapes before the
// first test runs, as Gateway::start does, for test executables whose code under test redacts
// (storage redacts every stored text) and whose tests expect Gemini keys masked. Compile it into
// such an executable and link gemgate_filters_common.
#include <doctest/doctest.h>

#include "filters/common/gemini_dialect.h"

namespace {

struct GeminiRedaction final : doctest::IReporter {
  explicit GeminiRedaction(const doctest::ContextOptions&) {}
  void test_run_start() override { gemgate::gemini::register_gemini_redaction(); }
  // Nothing else to report: the real reporter does that.
  void report_query(const doctest::QueryData&) override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

REGISTER_LISTENER("gemini_redaction", 1, GeminiRedaction);

}  // namespace
