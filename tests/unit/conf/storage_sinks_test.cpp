// StorageLogSink: a finished request becomes the stored row the admin log lists — every field
// carried over, a client that went away stored as 499, the answering key not repeated among the
// failed ones, the error redacted — and the row names its gateway only when an operator named
// it (GEMGATE_INSTANCE_ID: a group); an unnamed gateway's rows carry "".
#include "conf/storage_sinks.h"

#include <doctest/doctest.h>

#include "conf/group_sync.h"
#include "core/log.h"
#include "storage/open_store.h"

using namespace gemgate;
using namespace gemgate::conf;

namespace {

StreamInfo finished_request() {
  StreamInfo info;
  info.request_id = "req-0123456789abcdef";
  info.route = "gemini";
  info.method = "POST";
  info.path = "/v1beta/models/gemini-2.5-flash:generateContent";
  info.model = "gemini-2.5-flash";
  info.key_id = 3;
  info.failed_key_ids = {2, 3};
  info.token_id = 9;
  info.attempts = 2;
  info.status = 200;
  info.stream = true;
  info.usage = {5, 7, 2, 1, 14, true};
  info.start_unix_ms = 1'000'000;
  info.start = StreamInfo::Clock::now();
  info.end = info.start + std::chrono::milliseconds(42);
  return info;
}

// The rows a sink named `instance` stores for `infos`, read back through the store. With
// `flush_each`, every request is written before the next one is recorded, so each later row is
// filled into the row written before it (the sink reuses written rows).
std::vector<storage::RequestLogRow> stored_rows(const std::string& instance,
                                                const std::vector<StreamInfo>& infos,
                                                bool flush_each = false) {
  auto store = storage::open_store(":memory:");
  REQUIRE(store.ok());
  storage::StorageThread thread(std::move(store).value());
  StorageLogSink sink(thread, instance);
  for (const StreamInfo& info : infos) {
    sink.record_request(info);
    if (flush_each) REQUIRE(thread.flush().ok());
  }
  REQUIRE(thread.flush().ok());
  std::vector<storage::RequestLogRow> rows;
  REQUIRE(thread.submit([&](storage::Store& s) {
    rows = s.query_request_logs({}, {1, storage::kMaxPerPage}).value().items;
  }));
  REQUIRE(thread.flush().ok());  // jobs run in order: the query above ran before this returns
  return rows;
}

}  // namespace

TEST_CASE("named_instance_id: the operator's name, clipped; '' when none was given") {
  CHECK(named_instance_id(std::nullopt).empty());
  CHECK(named_instance_id(std::string("")).empty());
  CHECK(named_instance_id(std::string(" \t\n")).empty());
  CHECK(named_instance_id(std::string("gw a")) == "gwa");
  CHECK(named_instance_id(std::string(100, 'x')).size() == 64);
  // The gateway's own name (lines, metrics) is never empty.
  CHECK(!instance_id_from(std::nullopt).empty());
  CHECK(instance_id_from(std::string("gw-1")) == "gw-1");
}

TEST_CASE("StorageLogSink: every field of the finished request reaches the stored row") {
  StreamInfo aborted = finished_request();
  aborted.status = 0;
  aborted.client_aborted = true;
  aborted.key_id = -1;
  aborted.token_id = -1;
  aborted.failed_key_ids = {4};
  aborted.start_unix_ms = 2'000'000;
  aborted.error = "upstream said key=AIzaSyDUMMYDUMMYDUMMYDUMMYDUMMYDUMMY12 is bad";
  const auto rows = stored_rows("gw-a", {finished_request(), aborted});
  REQUIRE(rows.size() == 2);
  const storage::RequestLogRow& gone = rows[0];  // newest first
  const storage::RequestLogRow& ok = rows[1];
  CHECK(ok.time_ms == 1'000'000);
  CHECK(ok.route == "gemini");
  CHECK(ok.method == "POST");
  CHECK(ok.path == "/v1beta/models/gemini-2.5-flash:generateContent");
  CHECK(ok.model == "gemini-2.5-flash");
  CHECK(ok.key_id == 3);
  CHECK(ok.failed_key_ids == std::vector<int64_t>{2});  // the answering key is not a failed one
  CHECK(ok.token_id == 9);
  CHECK(ok.status == 200);
  CHECK(ok.latency_ms == 42);
  CHECK(ok.attempts == 2);
  CHECK(ok.stream);
  CHECK(ok.prompt_tokens == 5);
  CHECK(ok.completion_tokens == 7);
  CHECK(ok.thoughts_tokens == 2);
  CHECK(ok.cached_tokens == 1);
  CHECK(ok.total_tokens == 14);
  CHECK(ok.request_id == "req-0123456789abcdef");
  CHECK(ok.instance_id == "gw-a");
  CHECK(ok.error.empty());
  CHECK(gone.status == 499);
  CHECK_FALSE(gone.key_id.has_value());
  CHECK_FALSE(gone.token_id.has_value());
  CHECK(gone.failed_key_ids == std::vector<int64_t>{4});
  CHECK(gone.error.find("AIzaSyDUMMY") == std::string::npos);  // redacted on the way in
  CHECK(gone.error.find("is bad") != std::string::npos);
}

TEST_CASE("StorageLogSink: an unnamed gateway's rows carry no instance id") {
  const auto rows = stored_rows(named_instance_id(std::nullopt), {finished_request()});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].instance_id.empty());
}

TEST_CASE("StorageLogSink: a row filled into a written one keeps nothing of it") {
  StreamInfo full = finished_request();
  full.error = "upstream said no";
  full.client_addr = "127.0.0.1";
  StreamInfo bare;  // no key, token, model, failed keys, usage or error; shorter text
  bare.request_id = "r2";
  bare.route = "x";
  bare.method = "GET";
  bare.path = "/a";
  bare.status = 404;
  bare.start_unix_ms = 3'000'000;
  bare.start = StreamInfo::Clock::now();
  bare.end = bare.start;
  StreamInfo full_again = full;
  full_again.start_unix_ms = 4'000'000;
  const auto rows = stored_rows("", {full, bare, full_again}, true);  // newest first
  REQUIRE(rows.size() == 3);
  const storage::RequestLogRow& got = rows[1];  // the bare one, filled into the full one's row
  CHECK(got.time_ms == 3'000'000);
  CHECK(got.request_id == "r2");
  CHECK(got.route == "x");
  CHECK(got.method == "GET");
  CHECK(got.path == "/a");
  CHECK(got.model.empty());
  CHECK_FALSE(got.key_id.has_value());
  CHECK_FALSE(got.token_id.has_value());
  CHECK(got.failed_key_ids.empty());
  CHECK(got.status == 404);
  CHECK(got.attempts == bare.attempts);
  CHECK_FALSE(got.stream);
  CHECK(got.prompt_tokens == 0);
  CHECK(got.completion_tokens == 0);
  CHECK(got.thoughts_tokens == 0);
  CHECK(got.cached_tokens == 0);
  CHECK(got.total_tokens == 0);
  CHECK(got.error.empty());
  CHECK(got.latency_ms == 0);
  const storage::RequestLogRow& again = rows[0];  // the full one again, into the bare one's row
  CHECK(again.path == full.path);
  CHECK(again.model == full.model);
  CHECK(again.key_id == 3);
  CHECK(again.token_id == 9);
  CHECK(again.failed_key_ids == std::vector<int64_t>{2});
  CHECK(again.error == "upstream said no");
  CHECK(again.total_tokens == 14);
  CHECK(again.id != got.id);
}
