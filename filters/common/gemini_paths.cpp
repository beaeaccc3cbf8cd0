#include "filters/common/gemini_paths.h"

namespace gemgate::gemini {

namespace {

// Finds the model segment: returns its [begin, end) in `path`, or begin == npos.
std::pair<size_t, size_t> model_span(std::string_view path) {
  size_t pos = path.find("/models/");
  size_t skip = 8;
  if (pos == std::string_view::npos) {
    pos = path.find("/tunedModels/");
    skip = 13;
  }
  if (pos == std::string_view::npos) return {std::string_view::npos, 0};
  size_t begin = pos + skip;
  size_t end = path.find_first_of(":/", begin);
  if (end == std::string_view::npos) end = path.size();
  return {begin, end};
}

}  // namespace

std::string_view model_in_path(std::string_view path) {
  auto [begin, end] = model_span(path);
  if (begin == std::string_view::npos) return {};
  return path.substr(begin, end - begin);
}

std::string model_from_path(std::string_view path) {
  return std::string(model_in_path(path));
}

std::string replace_model_in_path(std::string_view path, std::string_view model) {
  auto [begin, end] = model_span(path);
  if (begin == std::string_view::npos) return std::string(path);
  std::string out(path.substr(0, begin));
  out += model;
  out += path.substr(end);
  return out;
}

bool is_models_list(std::string_view path) {
  return path.size() >= 7 && path.substr(path.size() - 7) == "/models";
}

}  // namespace gemgate::gemini
