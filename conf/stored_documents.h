// The DocumentStore (core/document_store.h) over the storage thread: documents are the
// stored_responses rows of storage/, read and written by jobs in the thread's FIFO queue.
#pragma once

#include <string>

#include "core/document_store.h"
#include "storage/master_key.h"
#include "storage/storage_thread.h"

namespace gemgate::conf {

class StorageDocumentStore final : public DocumentStore {
 public:
  // `mac_secret`: see DocumentStore::mac_secret.
  StorageDocumentStore(storage::StorageThread& thread, std::string mac_secret)
      : thread_(thread), mac_secret_(std::move(mac_secret)) {}

  bool save(StoredDocument doc) override;
  bool load(std::string id, int64_t token_id, OnLoad done) override;
  bool remove(std::string id, int64_t token_id, OnRemove done) override;
  std::string mac_secret() const override { return mac_secret_; }

 private:
  storage::StorageThread& thread_;
  std::string mac_secret_;
};

// The DocumentStore's MAC secret: derived from the pool keys' master key (so sealed state that
// clients carry survives restarts and is the same on every gateway sharing the master key),
// under its own label so it equals no other key; a random per-process secret when the master key
// cannot be read (then sealed state of earlier runs is simply not accepted).
std::string document_mac_secret(const storage::MasterKeyOptions& master_key,
                                std::string_view database_url);

}  // namespace gemgate::conf
