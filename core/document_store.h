// DocumentStore: keeps JSON documents that belong to one client token, for a time — what a
// front needs for server-side conversation state (the OpenAI Responses front's stored responses,
// `previous_response_id`). An interface, so filters name no storage code: the composition root
// implements it over the storage thread and puts it in Services.
//
// Ordering is the contract that makes a follow-up request safe right after an answer ended:
// calls run in the order they were made (one FIFO queue), so a caller that saves a document
// before the last byte of its answer leaves knows that any later load or remove sees it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gemgate {

struct StoredDocument {
  std::string id;         // at most 128 characters, unique across owners
  int64_t token_id = -1;  // the client token it belongs to; only it may read or delete it
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // after it the document is gone (and pruned)
  std::string data;           // JSON text
};

class DocumentStore {
 public:
  enum class Outcome { kDone, kNotFound, kFailed };
  // Run on the storage thread, never on the caller's loop: post back to the exchange.
  using OnLoad = std::function<void(Outcome outcome, std::string data)>;
  using OnRemove = std::function<void(Outcome outcome)>;

  virtual ~DocumentStore() = default;
  // Queues `doc` for writing (insert or replace). Returns false when storage is shutting down.
  virtual bool save(StoredDocument doc) = 0;
  // Queues a read of document `id` owned by `token_id` that has not expired; `done` gets its
  // data (kDone), kNotFound (absent, expired or another token's: indistinguishable) or kFailed.
  // Returns false (done never runs) when storage is shutting down.
  virtual bool load(std::string id, int64_t token_id, OnLoad done) = 0;
  // Queues the deletion of document `id` owned by `token_id`; `done` as for load.
  virtual bool remove(std::string id, int64_t token_id, OnRemove done) = 0;
  // A gateway secret (32 bytes or more) for MACs over state handed to clients to carry, e.g.
  // sealed reasoning items of a stateless conversation. Stable for the life of the process.
  virtual std::string mac_secret() const = 0;
};

}  // namespace gemgate
