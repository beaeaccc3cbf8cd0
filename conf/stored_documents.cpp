// StorageDocumentStore: DocumentStore calls become storage-thread jobs. See stored_documents.h.
#include "conf/stored_documents.h"

#include <chrono>

#include "core/crypto.h"
#include "core/log.h"
#include "storage/database_url.h"

namespace gemgate::conf {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string document_mac_secret(const storage::MasterKeyOptions& master_key,
                                std::string_view database_url) {
  auto url = storage::parse_database_url(database_url);
  if (url.ok()) {
    auto key = storage::load_master_key(master_key, url->path, false);
    if (key.ok()) {
      const auto& bytes = key->key.bytes();
      std::string material = "gemgate/v1/document-mac\n";
      material.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      auto digest = crypto::sha256(material);
      return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
    }
  }
  return crypto::random_token("", 32);
}

bool StorageDocumentStore::save(StoredDocument doc) {
  return thread_.submit([doc = std::move(doc)](storage::Store& store) {
    storage::StoredResponse row{doc.id, doc.token_id, doc.created_at_ms, doc.expires_at_ms,
                                doc.data};
    if (auto r = store.put_response(row); !r.ok()) {
      log::warn("stored response " + doc.id + " not saved: " + r.error().message);
    }
  });
}

bool StorageDocumentStore::load(std::string id, int64_t token_id, OnLoad done) {
  return thread_.submit(
      [id = std::move(id), token_id, done = std::move(done)](storage::Store& store) {
        auto r = store.find_response(id, token_id, now_ms());
        if (!r.ok()) {
          log::warn("stored response " + id + " not read: " + r.error().message);
          done(Outcome::kFailed, "");
        } else if (!r->has_value()) {
          done(Outcome::kNotFound, "");
        } else {
          done(Outcome::kDone, std::move((*r)->data));
        }
      });
}

bool StorageDocumentStore::remove(std::string id, int64_t token_id, OnRemove done) {
  return thread_.submit(
      [id = std::move(id), token_id, done = std::move(done)](storage::Store& store) {
        auto r = store.delete_response(id, token_id);
        if (!r.ok()) {
          log::warn("stored response " + id + " not deleted: " + r.error().message);
          done(Outcome::kFailed);
        } else {
          done(*r ? Outcome::kDone : Outcome::kNotFound);
        }
      });
}

}  // namespace gemgate::conf
