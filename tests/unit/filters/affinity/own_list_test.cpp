// Which calls are a token's own list, and the array Google's answer names (own_list.h).
#include "filters/affinity/own_list.h"

#include <doctest/doctest.h>

using namespace gemgate::affinity;

TEST_CASE("own lists: files, caches, batches (as operations) and tuned models; nothing else") {
  auto files = own_list_kind("GET", "/v1beta/files");
  REQUIRE(files);
  CHECK(files->kind == "files");
  CHECK(files->field == "files");
  auto batches = own_list_kind("GET", "/v1/batches/");
  REQUIRE(batches);
  CHECK(batches->kind == "batches");
  CHECK(batches->field == "operations");
  auto tuned = own_list_kind("GET", "/v1beta/tunedModels");
  REQUIRE(tuned);
  CHECK(tuned->field == "tunedModels");
  CHECK(own_list_kind("GET", "/v1beta/cachedContents")->kind == "cachedContents");
  CHECK_FALSE(own_list_kind("POST", "/v1beta/tunedModels"));
  CHECK_FALSE(own_list_kind("GET", "/v1beta/batches/b1"));
  CHECK_FALSE(own_list_kind("GET", "/v1beta/models"));
}
