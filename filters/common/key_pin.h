// KeyPin: the pool key an upstream call must use, because the server-side resource it names (an
// uploaded file, a cached content, a batch, an interaction, a tuned model, an operation, an upload
// session) was created with that key and exists under no other (resource affinity).
//
// Lives in the exchange slot (x.slot<KeyPin>()): a filter above `keys` sets it on the request
// path (the affinity filter from its resource map, the files filter from an upload session);
// `keys` then uses only that key, for every attempt, and never fails over to another:
//   - the key is gone from the pool    -> 409 FAILED_PRECONDITION, saying so;
//   - the key is disabled               -> 409 FAILED_PRECONDITION, saying so;
//   - the key is cooling for the model  -> 503 UNAVAILABLE with Retry-After, saying so;
//   - the key is at its own rpm/tpm     -> 503 UNAVAILABLE with Retry-After, saying so (a pinned
//     call counts in the key's rpm window as a picked one does);
//   - a failed attempt on it (quota, transient) ends the call with that answer (no other key).
// Google's 403/404 for the resource on its own key is the client's answer (classify.cpp), never a
// key fault. The token's key group does not apply: the resource already chose the key.
#pragma once

#include <cstdint>
#include <string>

namespace gemgate::common {

struct KeyPin {
  int64_t key_id = -1;   // the owning pool key, -1 = no pin
  std::string resource;  // what pinned it ("files/abc123"), for the error messages and logs
  bool pinned() const { return key_id >= 0; }
};

}  // namespace gemgate::common
