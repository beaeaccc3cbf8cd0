// Gemini models.list / models.get ⇄ OpenAI `GET /v1/models`, `GET /v1/models/{id}`.
//
//   std::vector<ModelEntry> all;
//   std::string token;
//   do {                                              // follow nextPageToken
//     auto page = parse_models_page(get(models_list_path(token)));
//     if (!page) return reply(page.error());
//     all.insert(all.end(), page->models.begin(), page->models.end());
//     token = page->next_page_token;
//   } while (!token.empty());
//   reply(200, render_models_list(all));
//
// Ids lose Gemini's "models/" prefix; `created` is 0 (Gemini publishes no date) and `owned_by`
// is "google".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filters/openai/translate/errors.h"

namespace gemgate::openai {

struct ModelEntry {
  std::string id;  // "gemini-2.5-flash"
  int64_t created = 0;
  std::string owned_by = "google";
};

struct ModelsPage {
  std::vector<ModelEntry> models;
  std::string next_page_token;  // empty on the last page
};

// "/v1beta/models?pageSize=1000[&pageToken=…]" (the token is percent-encoded).
std::string models_list_path(std::string_view page_token = {}, int page_size = 1000);
// "/v1beta/models/{id}" for an OpenAI model id ("models/" prefix accepted); 400 on a bad id.
Expected<std::string> model_get_path(std::string_view openai_model_id);

// One Gemini list page ({"models":[{"name":"models/x",...}],"nextPageToken"?}); 502 if malformed.
Expected<ModelsPage> parse_models_page(std::string_view gemini_body);
// {"object":"list","data":[{"id","object":"model","created","owned_by"}...]}
std::string render_models_list(const std::vector<ModelEntry>& models);
// One Gemini page straight to the OpenAI list (when paging is not needed).
Expected<std::string> translate_models_list(std::string_view gemini_body);
// A Gemini model object → one OpenAI model object.
Expected<std::string> translate_model(std::string_view gemini_body);

}  // namespace gemgate::openai
