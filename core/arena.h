// Arena: the memory of one exchange's short-lived objects (its filters and typed slots), taken
// by bumping a pointer and given back all at once when the arena dies. A request then pays no
// malloc/free per filter or slot: the first block sits inside the owner (the Exchange), further
// blocks come from the heap only when a long chain or many replays outgrow it. Objects placed in
// an arena are destroyed by their owner (the arena runs no destructors) and must die before it.
// Not thread-safe: one exchange, one loop thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gemgate {

class Arena {
 public:
  Arena() = default;
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `size` bytes aligned to `align` (a power of two, at most alignof(max_align_t)),
  // valid until the arena is destroyed. Never fails but as operator new does (std::bad_alloc).
  void* allocate(size_t size, size_t align = alignof(std::max_align_t));

  // Bytes the inline block holds: a full gateway chain's filters, their list and its slots
  // (the default gemini chain takes ~1400 bytes, the openai chain ~1450); a replay's fresh
  // filters take one heap block more.
  static constexpr size_t kInlineBytes = 1536;

 private:
  struct Block {
    Block* next;
  };
  // Takes a new heap block that holds at least `size` bytes at `align`.
  void grow(size_t size, size_t align);

  alignas(std::max_align_t) unsigned char inline_[kInlineBytes];
  unsigned char* next_ = inline_;
  unsigned char* end_ = inline_ + kInlineBytes;
  Block* blocks_ = nullptr;  // heap blocks, newest first
};

// A standard allocator over an Arena, for the containers of the objects that live in it (the
// exchange's filter list): deallocate gives nothing back, the arena frees all at once.
template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  explicit ArenaAllocator(Arena* arena) : arena_(arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) : arena_(other.arena()) {}
  T* allocate(size_t n) { return static_cast<T*>(arena_->allocate(n * sizeof(T), alignof(T))); }
  void deallocate(T*, size_t) noexcept {}
  Arena* arena() const { return arena_; }
  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const {
    return arena_ == other.arena();
  }

 private:
  Arena* arena_;
};

// While alive, the filters this thread creates with `new` are placed in `arena` (see
// Filter::operator new in filter.h); the previous scope is restored when it ends. Exchange opens
// one around its filter factories. Nests; thread-local.
class ArenaScope {
 public:
  explicit ArenaScope(Arena* arena);
  ~ArenaScope();
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

  // The arena of the innermost scope open on this thread, or nullptr.
  static Arena* current();

 private:
  Arena* outer_;
};

}  // namespace gemgate
