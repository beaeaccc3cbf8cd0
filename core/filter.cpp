#include "core/filter.h"

#include <cstdint>
#include <new>

#include "core/arena.h"

namespace gemgate {

namespace {

// Each filter's memory starts with a tag saying where it came from; the object follows at the
// next max_align_t boundary, so it is aligned as operator new's memory is.
constexpr std::size_t kTagBytes = alignof(std::max_align_t);
enum Origin : uintptr_t { kHeap = 0, kArena = 1 };

}  // namespace

void* Filter::operator new(std::size_t size) {
  Arena* arena = ArenaScope::current();
  void* memory = arena ? arena->allocate(size + kTagBytes) : ::operator new(size + kTagBytes);
  *static_cast<uintptr_t*>(memory) = arena ? kArena : kHeap;
  return static_cast<unsigned char*>(memory) + kTagBytes;
}

void Filter::operator delete(void* p) noexcept {
  if (!p) return;
  void* memory = static_cast<unsigned char*>(p) - kTagBytes;
  if (*static_cast<uintptr_t*>(memory) == kHeap) ::operator delete(memory);
  // Arena memory is given back with the arena (the exchange's), after every filter is gone.
}

}  // namespace gemgate
