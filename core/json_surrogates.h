// Lone UTF-16 surrogate escapes in JSON text (header-only, standard library only, so that the pure
// translation libraries can use it too).
//
// JSON's grammar allows a string such as "x\udc00y", but a lone surrogate has no UTF-8 form.
// RapidJSON decodes a lone low surrogate escape into the bytes ED B0 80, which no UTF-8 decoder
// accepts (PostgreSQL refuses such text, browsers show three U+FFFD), and refuses a lone high one
// as a parse error. Every parse whose decoded strings are written out again runs the text through
// here first, so a lone surrogate becomes U+FFFD, as a WHATWG decoder would make of it.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>

namespace gemgate::json_text {

namespace detail {

inline int hex4(const char* p) {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Walks the backslash escapes of [p, p + n). For each lone surrogate escape calls `on_lone` with
// its offset; stops early when `on_lone` returns false. Escapes other than \u are skipped whole, so
// "\\udc00" (an escaped backslash, then text) is not taken for an escape.
template <class OnLone>
void scan(const char* p, size_t n, OnLone on_lone) {
  size_t i = 0;
  while (i < n) {
    const void* b = std::memchr(p + i, '\\', n - i);
    if (!b) return;
    i = static_cast<size_t>(static_cast<const char*>(b) - p);
    if (i + 1 >= n) return;
    if (p[i + 1] != 'u' || i + 6 > n) {
      i += 2;
      continue;
    }
    int v = hex4(p + i + 2);
    if (v >= 0xD800 && v <= 0xDBFF) {
      bool paired = i + 12 <= n && p[i + 6] == '\\' && p[i + 7] == 'u';
      int low = paired ? hex4(p + i + 8) : -1;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        i += 12;
        continue;
      }
      if (!on_lone(i)) return;
    } else if (v >= 0xDC00 && v <= 0xDFFF) {
      if (!on_lone(i)) return;
    }
    i += 6;
  }
}

}  // namespace detail

// True when `text` holds a lone surrogate escape (\uD800-\uDBFF not followed by \uDC00-\uDFFF, or
// \uDC00-\uDFFF not preceded by one). Linear; costs a memchr when the text has no backslash.
inline bool has_lone_surrogate(std::string_view text) {
  bool found = false;
  detail::scan(text.data(), text.size(), [&](size_t) {
    found = true;
    return false;
  });
  return found;
}

// Rewrites every lone surrogate escape in [p, p + n) as \ufffd in place (the same six bytes) and
// returns how many it rewrote. Paired surrogates and every other byte stay as they are.
inline size_t mend_lone_surrogates(char* p, size_t n) {
  size_t count = 0;
  detail::scan(p, n, [&](size_t at) {
    std::memcpy(p + at + 2, "fffd", 4);
    ++count;
    return true;
  });
  return count;
}

}  // namespace gemgate::json_text
