// The per-thread buffer pool the stream path recycles chunk memory through: a buffer given back
// is handed out again (same memory, emptied), only worthwhile sizes are kept, and each thread has
// its own pool.
#include "core/http/buffer_pool.h"

#include <doctest/doctest.h>
#include <string>
#include <thread>

using namespace gemgate;

namespace {

// Takes every buffer this thread's pool holds (an empty pool hands out inline strings).
void empty_pool() {
  while (http::take_buffer().capacity() > std::string().capacity()) {
  }
}

}  // namespace

TEST_CASE("a buffer given back is taken again: same memory, empty") {
  empty_pool();
  std::string b(1000, 'x');
  const char* memory = b.data();
  http::give_back_buffer(std::move(b));
  std::string again = http::take_buffer();
  CHECK(again.empty());
  CHECK(again.data() == memory);
  CHECK(again.capacity() >= 1000);
  http::give_back_buffer(std::move(again));
  std::string filled = http::take_buffer("hello");
  CHECK(filled == "hello");
  CHECK(filled.data() == memory);
  CHECK(http::take_buffer().capacity() < 1000);  // the pool is empty again
}

TEST_CASE("short (inline) and huge buffers are not kept") {
  empty_pool();
  http::give_back_buffer(std::string("tiny"));
  http::give_back_buffer(std::string(1 << 20, 'h'));
  CHECK(http::take_buffer().capacity() < 1000);
}

TEST_CASE("the pool is bounded and per thread") {
  empty_pool();
  for (int i = 0; i < 1000; ++i) http::give_back_buffer(std::string(500, 'p'));
  int kept = 0;
  while (http::take_buffer().capacity() >= 500) ++kept;
  CHECK(kept > 0);
  CHECK(kept <= 256);
  http::give_back_buffer(std::string(700, 'q'));
  size_t other_thread_capacity = 1;
  std::thread([&] { other_thread_capacity = http::take_buffer().capacity(); }).join();
  CHECK(other_thread_capacity < 700);  // the other thread's pool is its own (empty)
}
