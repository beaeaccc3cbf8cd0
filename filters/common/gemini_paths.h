// Reading and rewriting Gemini API paths ("/v1beta/models/gemini-2.5-flash:generateContent"),
// shared by the filters that care which model a request names.
#pragma once

#include <string>
#include <string_view>

namespace gemgate::gemini {

// Returns the model a Gemini request path names ("gemini-2.5-flash"), or "" when it names none
// (e.g. the models list).
std::string model_from_path(std::string_view path);
// The same as a view into `path` (no copy), valid while `path` is.
std::string_view model_in_path(std::string_view path);

// Returns `path` with its model replaced by `model`; unchanged when it names none.
std::string replace_model_in_path(std::string_view path, std::string_view model);

// True for the models list call ("/v1beta/models", "/v1/models").
bool is_models_list(std::string_view path);

}  // namespace gemgate::gemini
