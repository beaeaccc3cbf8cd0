// Gemini models.list / models.get → Anthropic's `GET /v1/models` and `GET /v1/models/{id}`:
// {"data":[{"type":"model","id","display_name","created_at"}],"has_more":false,"first_id",
// "last_id"}. Ids lose Gemini's "models/" prefix; Gemini publishes no dates, so created_at is
// the Unix epoch. One Gemini page of up to 1000 models is the whole list (has_more is false).
#pragma once

#include <string>
#include <string_view>

#include "filters/anthropic/translate/errors.h"

namespace gemgate::anthropic {

// The Gemini call behind `GET /models`.
inline constexpr std::string_view kModelsListPath = "/v1beta/models?pageSize=1000";

// "/v1beta/models/<id>" for a model id ([A-Za-z0-9._-]); 404 not_found_error otherwise.
Expected<std::string> model_get_path(std::string_view id);

// A Gemini list page → the Anthropic list; 502 api_error when malformed.
Expected<std::string> translate_models_list(std::string_view gemini_body);
// A Gemini model object → one Anthropic model object.
Expected<std::string> translate_model(std::string_view gemini_body);

}  // namespace gemgate::anthropic
