// The OpenAI chat translator alone (filters/openai/translate), no I/O: nanoseconds and malloc
// calls per translated request, per translated answer and per streamed event, on the bytes of the
// benchmarks' canned upstream (tests/bench/canned-upstream.sh) and compare.sh's client request.
// Times are the thread's CPU time. Not a CTest test (timings are not tests). Run:
//   build/tests/bench/bench_translate [iterations=200000]
// Mallocs are counted by interposing malloc/calloc/realloc in this program (glibc's __libc_*).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <time.h>

#include "filters/openai/translate/translate.h"

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
}

namespace {
unsigned long g_mallocs = 0;
}

extern "C" void* malloc(size_t n) {
  ++g_mallocs;
  return __libc_malloc(n);
}
extern "C" void* calloc(size_t n, size_t size) {
  ++g_mallocs;
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, size_t n) {
  ++g_mallocs;
  return __libc_realloc(p, n);
}

namespace oa = gemgate::openai;

namespace {

constexpr const char* kRequest =
    R"({"model":"gemini-2.5-flash","stream":false,"messages":[{"role":"user","content":"Hello"}]})";
constexpr const char* kStreamRequest =
    R"({"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"Hello"}]})";
constexpr const char* kAnswer =
    R"({"candidates":[{"content":{"parts":[{"text":"Hello! How can I help you today?"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"totalTokenCount":14},"modelVersion":"gemini-2.5-flash"})";
constexpr int kEvents = 20;

// The canned upstream's 20 SSE events: 19 words, then the end with finishReason and usage. With
// `filler` > 0 each word comes with at least that many bytes of prose (a model's usual chunk
// is 100-300), with escapes in it.
std::string canned_sse(size_t filler = 0) {
  std::string prose;
  while (prose.size() < filler)
    prose += "The quick brown fox jumps over the lazy dog, \\\"twice\\\".\\n";
  std::string sse;
  for (int i = 0; i < kEvents - 1; ++i) {
    sse += R"(data: {"candidates":[{"content":{"parts":[{"text":"word )" + std::to_string(i) +
           prose + R"( "}],"role":"model"},"index":0}],"modelVersion":"gemini-2.5-flash"})" +
           "\r\n\r\n";
  }
  sse +=
      R"(data: {"candidates":[{"content":{"parts":[{"text":"end"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":20,"totalTokenCount":25},"modelVersion":"gemini-2.5-flash"})"
      "\r\n\r\n";
  return sse;
}

struct Measure {
  double ns = 0;
  double mallocs = 0;
};

// This thread's CPU time: unlike the wall clock, it does not count the time the machine's other
// work kept the thread waiting.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Runs `body` `n` times; the time and malloc calls per run.
template <class Body>
Measure measure(long n, Body&& body) {
  for (long i = 0; i < n / 10 + 1; ++i) body();  // warm-up
  unsigned long m0 = g_mallocs;
  double t0 = thread_cpu_ns();
  for (long i = 0; i < n; ++i) body();
  double t1 = thread_cpu_ns();
  Measure out;
  out.ns = (t1 - t0) / static_cast<double>(n);
  out.mallocs = static_cast<double>(g_mallocs - m0) / static_cast<double>(n);
  return out;
}

void print(const char* what, const Measure& m, double per = 1) {
  std::printf("%-44s %9.0f ns %7.1f mallocs", what, m.ns, m.mallocs);
  if (per > 1) std::printf("   (%6.0f ns %5.2f mallocs per event)", m.ns / per, m.mallocs / per);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  auto req = oa::translate_chat_request(kRequest, {});
  auto sreq = oa::translate_chat_request(kStreamRequest, {});
  if (!req || !sreq) {
    std::fprintf(stderr, "the benchmark request does not translate\n");
    return 1;
  }
  oa::ResponseMeta meta{"chatcmpl-0123456789abcdefghijklmn", 1700000000};
  const std::string sse = canned_sse();
  size_t sink = 0;  // keeps the optimiser from dropping the work

  print("chat request -> Gemini request", measure(n, [&] {
          auto r = oa::translate_chat_request(kRequest, {});
          sink += r->body.size();
        }));
  print("Gemini answer -> chat.completion", measure(n, [&] {
          auto r = oa::translate_chat_response(kAnswer, req->context, meta);
          sink += r->body.size();
        }));
  print("stream of 20 events, one feed",
        measure(n / kEvents,
                [&] {
                  oa::ChatStreamTranslator t(sreq->context, meta);
                  std::string out;
                  t.feed(sse, out);
                  t.finish(out);
                  sink += out.size();
                }),
        kEvents);
  print("stream of 20 events, one feed per event",
        measure(n / kEvents,
                [&] {
                  oa::ChatStreamTranslator t(sreq->context, meta);
                  std::string out;
                  size_t at = 0;
                  while (at < sse.size()) {
                    size_t end = sse.find("\r\n\r\n", at) + 4;
                    out.clear();
                    t.feed(std::string_view(sse).substr(at, end - at), out);
                    sink += out.size();
                    at = end;
                  }
                  out.clear();
                  t.finish(out);
                  sink += out.size();
                }),
        kEvents);
  const std::string prose_sse = canned_sse(200);
  print("stream of 20 events of 200-byte text",
        measure(n / kEvents,
                [&] {
                  oa::ChatStreamTranslator t(sreq->context, meta);
                  std::string out;
                  t.feed(prose_sse, out);
                  t.finish(out);
                  sink += out.size();
                }),
        kEvents);
  std::printf("(%zu bytes out)\n", sink);
  return 0;
}
