// Small text helpers shared across gemgate (header-only, standard library only).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gemgate::text {

// ASCII lower case of `c`; other bytes unchanged. Not std::tolower: that one depends on the locale,
// and the words compared here (URL schemes, auth schemes) are ASCII by definition.
constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// True when `s` starts with `prefix`, ASCII letters compared case-insensitively ("Bearer x" starts
// with "bearer "). For exact prefixes use std::string_view::starts_with.
constexpr bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_lower(s[i]) != ascii_lower(prefix[i])) return false;
  }
  return true;
}

// Splits a list written with commas, semicolons, spaces, tabs or newlines; drops empty items.
inline std::vector<std::string> split_list(std::string_view input) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : input) {
    if (c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// The parts of a secret that may be shown: its first and last four characters when it is at
// least 12 long ("AIza…x7Qc"), nothing when shorter (four and four of a 9-character secret would
// show almost all of it). This is the one masking rule of gemgate: admin views, log lines and
// stored log rows all show a secret this way.
struct MaskParts {
  std::string prefix;
  std::string suffix;
};
inline MaskParts mask_parts(std::string_view secret) {
  if (secret.size() >= 12) {
    return {std::string(secret.substr(0, 4)), std::string(secret.substr(secret.size() - 4))};
  }
  return {};
}

// Returns the masked form of `secret` under mask_parts(): "AIza…x7Qc", or "…" alone.
inline std::string mask(std::string_view secret) {
  MaskParts parts = mask_parts(secret);
  return parts.prefix + "…" + parts.suffix;
}

// The password part of a URL's user info ("http://user:pw@host" -> "pw"), "" when it has none.
// Only the authority is looked at (an '@' in the path or query is not user info).
inline std::string_view url_password(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  size_t at = url.rfind('@', authority_end);
  if (at == std::string_view::npos || at < start) return {};
  size_t colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return {};
  return url.substr(colon + 1, at - colon - 1);  // non-null, maybe empty ("user:@host")
}

// `url` with the password of its user info replaced by "***" ("http://user:***@host:3128");
// unchanged when it has none. For showing proxy URLs, which may carry a password.
inline std::string mask_url_password(std::string_view url) {
  std::string_view pw = url_password(url);
  if (pw.data() == nullptr) return std::string(url);  // no password (a null view)
  size_t from = static_cast<size_t>(pw.data() - url.data());
  return std::string(url.substr(0, from)) + "***" + std::string(url.substr(from + pw.size()));
}

// True when `text` matches `pattern`, where '*' stands for any run of characters (model
// names like "claude-*" or "*haiku*"). Iterative with one backtrack point: linear in practice,
// no recursion, so a hostile pattern cannot blow the stack.
inline bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace gemgate::text
