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

namespace {

// RapidJSON's escapes (rapidjson/writer.h, WriteString): 'u' = \u00XX, other = \<that letter>.
constexpr char kEscape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f',  'r', 'u', 'u',  // 00
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',  'u', 'u', 'u',  // 10
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,    // 20
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,    // 30
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,    0,   0,   0,    // 40
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,   0,   0,    // 50
};
constexpr char kHex[] = "0123456789ABCDEF";

// True when one of the eight bytes of `w` needs an escape: below 0x20, '"' or '\\'.
bool any_escape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto has_zero = [&](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

}  // namespace

bool FastWriter::String(const Ch* str, rapidjson::SizeType length, bool) {
  Prefix(rapidjson::kStringType);
  size_t room = 2 + size_t{length} * 6;  // as RapidJSON reserves: every byte may become \u00XX
  char* begin = os_->Push(room);
  char* out = begin;
  *out++ = '"';
  size_t i = 0;
  while (i < length) {
    while (i + 8 <= length) {  // eight plain bytes at a time
      uint64_t w;
      std::memcpy(&w, str + i, sizeof w);
      if (any_escape(w)) break;
      std::memcpy(out, &w, sizeof w);
      out += 8;
      i += 8;
    }
    if (i == length) break;
    auto c = static_cast<unsigned char>(str[i++]);
    char e = kEscape[c];
    if (!e) {
      *out++ = static_cast<char>(c);
      continue;
    }
    *out++ = '\\';
    *out++ = e;
    if (e == 'u') {
      *out++ = '0';
      *out++ = '0';
      *out++ = kHex[c >> 4];
      *out++ = kHex[c & 0xF];
    }
  }
  *out++ = '"';
  os_->Pop(room - static_cast<size_t>(out - begin));
  return EndValue(true);
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
