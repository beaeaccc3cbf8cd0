// Small text helpers shared by the composition root and admin.
#pragma once

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

}  // namespace gemgate::text
