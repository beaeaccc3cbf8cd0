// OwnList: a token's own list of files, cached contents, batches or tuned models, assembled from
// the keys that hold them. Google lists what one key holds; the pool spreads a token's resources
// over many keys and holds other tokens' resources under the same keys. So the list is the token's
// entries of the ResourceMap (newest first), each read from its owning key (GET …/files/{id},
// pinned) in a sequence of sub-requests below the filter (rerun_below), merged into one page in
// Google's shape. A resource its key no longer has (404) is forgotten and left out; one whose key
// cannot serve it now (disabled, cooling) is left out of this page.
//
// Paging: pageSize (default 10, at most 100) and pageToken, which is the count of the token's
// resources already listed (decimal); resources created or deleted meanwhile shift the pages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/filter.h"
#include "core/resource_map.h"

namespace gemgate::affinity {

// What a token's own list holds and how Google's list answer names its array.
struct OwnListKind {
  std::string kind;   // the ResourceMap kind: "files", "cachedContents", "batches", "tunedModels"
  std::string field;  // the answer's array: "files", "cachedContents", "operations" (batches),
                      // "tunedModels"
};

// The list a GET of /v1beta/files, /v1/cachedContents, /v1beta/batches, /v1beta/tunedModels, …
// is; nullopt for any other call.
std::optional<OwnListKind> own_list_kind(std::string_view method, std::string_view path);

class OwnList {
 public:
  // `items`: the token's live entries of `list.kind`, newest first.
  OwnList(OwnListKind list, std::vector<ResourceEntry> items);

  // From on_request: answers an empty page at once (Stop), or aims the request at the first
  // resource of the page on its owning key (Continue).
  Status start(FilterCallbacks& x);
  // From on_response_head: keeps the answer for the current resource and goes on to the next
  // (Stop, rerun_below), or replaces the response with the merged page (Continue).
  Status on_answer(FilterCallbacks& x, ResourceMap& map);

 private:
  void aim(FilterCallbacks& x) const;

  OwnListKind list_;
  std::vector<ResourceEntry> items_;
  std::string version_;  // "/v1beta" or "/v1", as the client called
  size_t begin_ = 0;     // the page is items_[begin_, end_)
  size_t end_ = 0;
  size_t at_ = 0;                     // the resource being read
  std::vector<std::string> answers_;  // the JSON of each resource read so far
};

}  // namespace gemgate::affinity
