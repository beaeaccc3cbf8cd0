#include "core/http/buffer_pool.h"

#include <vector>

namespace gemgate::http {

namespace {

constexpr size_t kMaxPooled = 256;
constexpr size_t kMaxBufferBytes = 64 * 1024;

std::vector<std::string>& pool() {
  thread_local std::vector<std::string> buffers;
  return buffers;
}

}  // namespace

std::string take_buffer() {
  std::vector<std::string>& p = pool();
  if (p.empty()) return {};
  std::string out = std::move(p.back());
  p.pop_back();
  out.clear();
  return out;
}

std::string take_buffer(std::string_view bytes) {
  std::string out = take_buffer();
  out.assign(bytes.data(), bytes.size());
  return out;
}

void give_back_buffer(std::string&& buffer) {
  // A string no longer than an empty one's capacity lives inside the object: nothing to keep.
  static const size_t inline_capacity = std::string().capacity();
  if (buffer.capacity() <= inline_capacity || buffer.capacity() > kMaxBufferBytes) return;
  std::vector<std::string>& p = pool();
  if (p.size() >= kMaxPooled) return;
  if (p.capacity() == 0) p.reserve(kMaxPooled);
  p.push_back(std::move(buffer));
}

}  // namespace gemgate::http
