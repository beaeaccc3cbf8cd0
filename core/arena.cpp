#include "core/arena.h"

#include <cstdlib>
#include <new>

namespace gemgate {

namespace {

thread_local Arena* current_arena = nullptr;

// The first address at or after `p` aligned to `align`.
unsigned char* align_up(unsigned char* p, size_t align) {
  auto at = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<unsigned char*>((at + align - 1) & ~(uintptr_t(align) - 1));
}

}  // namespace

Arena::~Arena() {
  while (blocks_) {
    Block* next = blocks_->next;
    std::free(blocks_);
    blocks_ = next;
  }
}

void* Arena::allocate(size_t size, size_t align) {
  unsigned char* at = align_up(next_, align);
  if (at > end_ || size > static_cast<size_t>(end_ - at)) {
    grow(size, align);
    at = align_up(next_, align);
  }
  next_ = at + size;
  return at;
}

void Arena::grow(size_t size, size_t align) {
  // 1 KiB blocks, or as large as the request: a replay adds a few filters at most.
  constexpr size_t kBlockBytes = 1024;
  size_t want = sizeof(Block) + align + (size > kBlockBytes ? size : kBlockBytes);
  auto* block = static_cast<Block*>(std::malloc(want));
  if (!block) throw std::bad_alloc();
  block->next = blocks_;
  blocks_ = block;
  next_ = reinterpret_cast<unsigned char*>(block) + sizeof(Block);
  end_ = reinterpret_cast<unsigned char*>(block) + want;
}

ArenaScope::ArenaScope(Arena* arena) : outer_(current_arena) {
  current_arena = arena;
}

ArenaScope::~ArenaScope() {
  current_arena = outer_;
}

Arena* ArenaScope::current() {
  return current_arena;
}

}  // namespace gemgate
