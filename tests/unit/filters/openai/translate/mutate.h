// The translator tests' byte-level mutator: hostile variations of a valid request or answer
// (bytes flipped to JSON punctuation, runs deleted, bytes inserted), for the "fails cleanly"
// cases of hostile_test.cpp and media_test.cpp.
#pragma once

#include <random>
#include <string>

namespace gemgate::openai::test {

// Returns `s` with 1–4 random edits drawn from `rng`.
inline std::string mutate(std::string s, std::mt19937& rng) {
  static const char kBytes[] = "{}[]\":,\\0a-x \x80\xff";
  int edits = 1 + int(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    size_t at = rng() % s.size();
    switch (rng() % 3) {
      case 0:
        s[at] = kBytes[rng() % (sizeof(kBytes) - 1)];
        break;
      case 1:
        s.erase(at, 1 + rng() % 8);
        break;
      default:
        s.insert(at, 1, kBytes[rng() % (sizeof(kBytes) - 1)]);
        break;
    }
  }
  return s;
}

}  // namespace gemgate::openai::test
