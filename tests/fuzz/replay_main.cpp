// Corpus replay without a fuzzing engine: feeds every regular file under the directories (or the
// single files) named on the command line to LLVMFuzzerTestOneInput, in sorted order. Linked with
// each harness into fuzz_replay_<target> and run by CTest, so the stored corpus (seeds and every
// past crasher) is a regression test of the normal g++ build. A crash or a broken invariant aborts
// the process, and the last "replaying" line names the input.
//
// Each input runs on a thread with a 1 MiB stack. Parsers that recurse once per nesting level
// then fail on a fuzzer-sized input (64 KiB of '[') in any build type, as they do under ASan,
// instead of only on the megabyte inputs that exhaust an 8 MiB stack. Bounded code needs far less.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <pthread.h>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

constexpr size_t kStackBytes = 1 << 20;

struct Job {
  const uint8_t* data;
  size_t size;
};

void* run_job(void* arg) {
  const Job* job = static_cast<const Job*>(arg);
  LLVMFuzzerTestOneInput(job->data, job->size);
  return nullptr;
}

// Runs one input on a fresh thread with a kStackBytes stack; returns false if it could not start.
bool run_on_small_stack(const uint8_t* data, size_t size) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kStackBytes);
  Job job{data, size};
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, &run_job, &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) return false;
  pthread_join(thread, nullptr);
  return true;
}

bool read_file(const fs::path& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    fs::path p(argv[i]);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        if (e.is_regular_file()) inputs.push_back(e.path());
      }
    } else if (fs::is_regular_file(p, ec)) {
      inputs.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    // An empty corpus would make the test pass while guarding nothing.
    std::fprintf(stderr, "no corpus files found\n");
    return 2;
  }
  std::vector<uint8_t> bytes;
  for (const fs::path& p : inputs) {
    if (!read_file(p, &bytes)) {
      std::fprintf(stderr, "cannot read %s\n", p.c_str());
      return 2;
    }
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", p.c_str(), bytes.size());
    // Copy into an exact-size buffer so ASan builds catch reads past the end, as libFuzzer does.
    std::vector<uint8_t> exact(bytes.begin(), bytes.end());
    if (!run_on_small_stack(exact.data(), exact.size())) {
      std::fprintf(stderr, "cannot start a thread\n");
      return 2;
    }
  }
  std::printf("%zu inputs replayed\n", inputs.size());
  return 0;
}
