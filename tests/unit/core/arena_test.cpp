// The exchange's arena: bump allocation with the first block inline, filters placed in it while
// an ArenaScope is open (and on the heap otherwise), and slot maps that construct and destroy
// each value exactly once whether it lives in the arena or on the heap.
#include "core/arena.h"

#include <cstdint>
#include <doctest/doctest.h>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/filter_callbacks.h"

using namespace gemgate;

namespace {

bool aligned(const void* p, size_t align) {
  return reinterpret_cast<uintptr_t>(p) % align == 0;
}

// True when `p` lies inside `owner`'s own bytes (the arena's inline block is part of it).
template <class T>
bool inside(const void* p, const T& owner) {
  auto* begin = reinterpret_cast<const unsigned char*>(&owner);
  auto* at = static_cast<const unsigned char*>(p);
  return at >= begin && at < begin + sizeof(T);
}

struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  ~Counted() { --alive; }
  std::string text = std::string(100, 'x');  // a member with heap memory of its own
};

class CountedFilter : public Filter {
 public:
  explicit CountedFilter(int& alive) : alive_(alive) { ++alive_; }
  ~CountedFilter() override { --alive_; }
  std::string name = std::string(64, 'f');

 private:
  int& alive_;
};

template <int N>
struct Tag {
  int value = N;
};

}  // namespace

TEST_CASE("an arena hands out aligned, disjoint memory, first inline, then from the heap") {
  auto arena = std::make_unique<Arena>();
  std::vector<std::pair<unsigned char*, size_t>> got;
  size_t total = 0;
  for (size_t i = 0; total < 4 * Arena::kInlineBytes; ++i) {
    size_t size = 1 + (i * 37) % 200;
    size_t align = size_t(1) << (i % 5);  // 1 .. 16
    auto* p = static_cast<unsigned char*>(arena->allocate(size, align));
    CHECK(aligned(p, align));
    for (size_t b = 0; b < size; ++b) p[b] = static_cast<unsigned char>(i);
    got.emplace_back(p, size);
    total += size;
  }
  CHECK(inside(got.front().first, *arena));       // the first allocation fits the inline block
  CHECK_FALSE(inside(got.back().first, *arena));  // 4 blocks' worth spilled to the heap
  // Nothing overlaps: every byte still holds what its own allocation wrote.
  for (size_t i = 0; i < got.size(); ++i) {
    for (size_t b = 0; b < got[i].second; ++b) {
      REQUIRE(got[i].first[b] == static_cast<unsigned char>(i));
    }
  }
  // One request larger than a block gets a block of its own.
  auto* big = static_cast<unsigned char*>(arena->allocate(10 * Arena::kInlineBytes));
  big[10 * Arena::kInlineBytes - 1] = 1;
  CHECK(aligned(big, alignof(std::max_align_t)));
}

TEST_CASE("filters made inside an ArenaScope live in the arena; outside it, on the heap") {
  int alive = 0;
  auto arena = std::make_unique<Arena>();
  std::unique_ptr<Filter> in_arena;
  {
    ArenaScope scope(arena.get());
    CHECK(ArenaScope::current() == arena.get());
    in_arena = std::make_unique<CountedFilter>(alive);
    {
      ArenaScope none(nullptr);  // scopes nest and restore
      CHECK(ArenaScope::current() == nullptr);
    }
    CHECK(ArenaScope::current() == arena.get());
  }
  CHECK(ArenaScope::current() == nullptr);
  CHECK(inside(in_arena.get(), *arena));
  CHECK(aligned(in_arena.get(), alignof(std::max_align_t)));

  std::unique_ptr<Filter> on_heap = std::make_unique<CountedFilter>(alive);
  CHECK_FALSE(inside(on_heap.get(), *arena));
  CHECK(alive == 2);
  in_arena.reset();  // runs the destructor, leaves the memory to the arena
  on_heap.reset();   // runs the destructor and frees
  CHECK(alive == 0);
  arena.reset();
}

TEST_CASE("a slot map in an arena constructs and destroys each value once, past its inline room") {
  Counted::alive = 0;
  auto arena = std::make_unique<Arena>();
  {
    SlotMap slots(arena.get());
    Counted& c = slots.get<Counted>();
    CHECK(inside(&c, *arena));
    CHECK(&slots.get<Counted>() == &c);  // the same value on every get
    CHECK(slots.find<Counted>() == &c);
    CHECK(slots.find<Tag<1>>() == nullptr);
    // More kinds than the map keeps inline: each stays found and keeps its value.
    slots.get<Tag<1>>().value = 101;
    slots.get<Tag<2>>().value = 102;
    slots.get<Tag<3>>().value = 103;
    slots.get<Tag<4>>().value = 104;
    slots.get<Tag<5>>().value = 105;
    slots.get<Tag<6>>().value = 106;
    slots.get<Tag<7>>().value = 107;
    slots.get<Tag<8>>().value = 108;
    slots.get<Tag<9>>().value = 109;
    CHECK(slots.find<Tag<1>>()->value == 101);
    CHECK(slots.find<Tag<8>>()->value == 108);
    CHECK(slots.find<Tag<9>>()->value == 109);
    CHECK(Counted::alive == 1);

    slots.clear();
    CHECK(Counted::alive == 0);
    CHECK(slots.find<Counted>() == nullptr);
    CHECK(slots.find<Tag<9>>() == nullptr);
    // After a clear (a rerun's fresh run slots) values come from the heap, fresh.
    Counted& again = slots.get<Counted>();
    CHECK_FALSE(inside(&again, *arena));
    CHECK(slots.get<Tag<9>>().value == 9);
    CHECK(Counted::alive == 1);
  }
  CHECK(Counted::alive == 0);  // the map's destructor destroyed what was left
}

TEST_CASE("a slot map without an arena keeps its values on the heap") {
  Counted::alive = 0;
  {
    SlotMap slots;
    slots.get<Counted>();
    slots.get<Tag<1>>();
    CHECK(Counted::alive == 1);
  }
  CHECK(Counted::alive == 0);
}
