#include "filters/openai/translate/detail/scratch.h"

#include <memory>

namespace gemgate::openai::detail {

namespace {

// The base allocator of every scratch pool (stateless; shared so no pool news one of its own).
rapidjson::CrtAllocator g_base;

// Overflow chunks of a pool whose arena is full, and the chunk size of private pools.
constexpr size_t kChunkBytes = 16u << 10;
// The parse stack's first size (it grows by half inside the pool).
constexpr size_t kStackBytes = 1u << 10;

}  // namespace

struct Scratch::Arena {
  std::unique_ptr<char[]> buf;
  size_t size = 0;
  bool busy = false;
};

Scratch::Scratch() {
  static thread_local Arena arena;
  if (!arena.busy) {
    arena.busy = true;
    arena_ = &arena;
    if (!arena.buf) {
      arena.size = kInitialBytes;
      arena.buf = std::make_unique<char[]>(arena.size);
    }
    pool_.emplace(arena.buf.get(), arena.size, kChunkBytes, &g_base);
  } else {
    pool_.emplace(kChunkBytes, &g_base);
  }
  doc_.emplace(&*pool_, kStackBytes, &*pool_);
}

Scratch::~Scratch() {
  doc_.reset();
  if (!arena_) return;
  // Next time, fit in one piece what this call needed (within the cap).
  size_t used = pool_->Size() + 256;  // + the chunk headers
  pool_.reset();
  if (used > arena_->size && arena_->size < kMaxKeptBytes) {
    size_t grown = arena_->size;
    while (grown < used && grown < kMaxKeptBytes) grown *= 2;
    arena_->buf = std::make_unique<char[]>(grown);
    arena_->size = grown;
  }
  arena_->busy = false;
}

struct ScratchWriter::Slot {
  Slot() : writer(buf) {}
  rapidjson::StringBuffer buf;
  Writer writer;
  bool busy = false;
};

ScratchWriter::ScratchWriter() {
  static thread_local Slot slot;
  if (!slot.busy) {
    slot.busy = true;
    slot_ = &slot;
    buf_ = &slot.buf;
    writer_ = &slot.writer;
    buf_->Clear();
  } else {
    own_buf_.emplace();
    own_writer_.emplace(*own_buf_);
    buf_ = &*own_buf_;
    writer_ = &*own_writer_;
  }
}

ScratchWriter::~ScratchWriter() {
  if (!slot_) return;
  // A huge answer (inline images) does not stay resident: drop the buffer past the cap.
  bool huge = buf_->GetSize() > Scratch::kMaxKeptBytes;
  buf_->Clear();
  if (huge) buf_->ShrinkToFit();
  slot_->busy = false;
}

ScratchWriter::Writer& ScratchWriter::writer() {
  writer_->Reset(*buf_);
  return *writer_;
}

}  // namespace gemgate::openai::detail
