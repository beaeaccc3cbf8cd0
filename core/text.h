// Small text helpers shared by the composition root and admin.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace gemgate::text {

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

}  // namespace gemgate::text
