// Model names in Gemini request paths (gemini::model_from_path), which keys, models and upstream
// use to know the requested model.
#include "filters/common/gemini_paths.h"

#include <doctest/doctest.h>

namespace gemini = gemgate::gemini;

TEST_CASE("model_from_path") {
  CHECK(gemini::model_from_path("/v1beta/models/gemini-2.5-flash:generateContent") ==
        "gemini-2.5-flash");
  CHECK(gemini::model_from_path("/v1beta/models/gemini-2.5-pro:streamGenerateContent") ==
        "gemini-2.5-pro");
  CHECK(gemini::model_from_path("/v1/models/text-embedding-004:batchEmbedContents") ==
        "text-embedding-004");
  CHECK(gemini::model_from_path("/v1beta/models/gemini-2.0-flash") == "gemini-2.0-flash");
  CHECK(gemini::model_from_path("/v1beta/tunedModels/my-tune:generateContent") == "my-tune");
  CHECK(gemini::model_from_path("/v1beta/models") == "");
  CHECK(gemini::model_from_path("/v1beta/models/") == "");
  CHECK(gemini::model_from_path("/v1beta/files/abc") == "");
}
