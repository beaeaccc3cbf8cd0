// The `affinity` filter: every call that names a server-side Gemini resource (a file, a cached
// content, a batch, an interaction, a tuned model, a long-running operation) goes to the pool
// key that created it, and only a token that created a resource may use it.
//
// Request path (placed above `retry` and `keys`, below the translating fronts so it reads the
// Gemini body they made):
//   - finds the resources the call names, in the path (/v1beta/files/{id}, …/cachedContents/{id},
//     …/batches/{id}[:cancel], …/operations/…, /v1beta/interactions/{id}, tunedModels) and in the
//     body (fileData.fileUri in full-URL and short form, cachedContent, previous_interaction_id,
//     a batch's input file) — see resource_names.h;
//   - looks each up in the ResourceMap (on a gateway of a group, a miss is asked of the shared
//     store before it counts as unknown); unknown resources pass unpinned (they may predate the
//     gateway, or belong to the client's own key);
//   - a resource of another client token (affinity_token_isolation on) → 404 NOT_FOUND, as if
//     it did not exist; two resources of different keys in one call → 409 FAILED_PRECONDITION;
//   - otherwise pins the call to the owning key (common::KeyPin), which `keys` then honours.
//   - GET …/files and …/cachedContents with isolation on: the calling token's own resources,
//     fetched one by one from their owning keys (any number of keys) and merged into one page;
//     `pageToken` is the position in the token's list, newest first.
// Response path: records what a successful answer created (any chain: uploads' answers too)
// with the key that served it and the calling token (a streamed interaction from its first
// events); a DELETE that succeeded forgets the name;
// 404 from the owning key forgets it too. Entries expire with the resource: files 48 h after
// creation (or at the answer's expirationTime), caches at their expireTime (PATCH moves it),
// the rest after affinity_default_ttl_s.
//
// Config: none.   - affinity: {}
#pragma once

#include "core/registry.h"

namespace gemgate::affinity {

// Only the token that created a resource may use, list or delete it (off: any token may).
inline constexpr Setting<bool> kTokenIsolation{"affinity_token_isolation"};
// How long a batch, interaction, tuned model or operation stays bound to its key, in seconds.
inline constexpr Setting<int64_t> kDefaultTtlS{"affinity_default_ttl_s"};

// How long Google keeps an uploaded file, and a cached content without an expireTime.
inline constexpr int64_t kFileTtlMs = 48LL * 3600 * 1000;
inline constexpr int64_t kCacheDefaultTtlMs = 3600LL * 1000;

// Registers the `affinity` filter and declares its settings. Needs the ResourceMap service
// (resource_map.h).
Result<void> register_affinity_filter(Registry& registry);

}  // namespace gemgate::affinity
