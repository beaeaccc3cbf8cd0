// Where the master key for pool-key encryption comes from: GEMGATE_MASTER_KEY (64 hex
// characters) when set, else a key file (default: master.key beside the database), which the
// first start creates with mode 0600. See storage/README.md "Secrets at rest".
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "storage/secret_box.h"

namespace gemgate::storage {

struct MasterKeyOptions {
  std::optional<std::string> env_value;  // GEMGATE_MASTER_KEY, when set and not empty
  std::string file;                      // the key file; "" = master.key beside the database
};

struct LoadedMasterKey {
  MasterKey key;
  std::string source;  // "GEMGATE_MASTER_KEY" or "key file '<path>'", for messages
  bool created = false;
};

// The key file path `options` name for the database at `db_path` ("" for ":memory:").
std::string master_key_file(const MasterKeyOptions& options, const std::string& db_path);

// Loads the master key. With no env value and no key file, creates the file (O_EXCL, 0600,
// fsynced) holding a fresh key when `may_create`, else fails saying the key is missing. A
// ":memory:" database without GEMGATE_MASTER_KEY gets a random key that lives as long as it.
// Errors name the source and the problem, never key material.
Result<LoadedMasterKey> load_master_key(const MasterKeyOptions& options, const std::string& db_path,
                                        bool may_create);

}  // namespace gemgate::storage
