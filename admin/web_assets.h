// The admin web page's files (admin/web/), compiled into the binary at build time.
#pragma once

#include <string_view>

namespace gemgate::admin {

struct WebAsset {
  std::string_view path;  // relative to admin/web, e.g. "app.js"
  std::string_view content;
};

// Returns the asset at `path`, or nullptr.
const WebAsset* find_web_asset(std::string_view path);

// The Content-Type for a file name by its extension.
std::string_view content_type_for(std::string_view path);

}  // namespace gemgate::admin
