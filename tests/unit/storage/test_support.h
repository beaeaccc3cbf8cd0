// Shared helpers for the storage tests: a temporary directory removed afterwards, and opening a
// SqliteStore in it with the test failing loudly if that does not work.
#pragma once

#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <memory>
#include <string>

#include "core/log.h"
#include "storage/sqlite/sqlite_store.h"

namespace gemgate::storage::testing {

// Keeps the per-open INFO lines out of the test output; warnings and errors still show.
inline const bool kQuietLogs = (log::set_level(log::Level::kWarn), true);

// A fresh directory under $TMPDIR (or /tmp), deleted with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base ? base : "/tmp") + "/gemgate-storage-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Opens (creating) a SqliteStore; fails the test with the error message otherwise.
inline std::unique_ptr<SqliteStore> open_sqlite(const std::string& path) {
  auto store = SqliteStore::open(path);
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// A 39-character key shaped like a real Gemini key, distinct per n.
inline std::string fake_key(int n) {
  std::string digits = std::to_string(n);
  return "AIzaSy" + std::string(33 - digits.size(), 'x') + digits;
}

// A 64-character lowercase hex string, distinct per n (stands in for a SHA-256).
inline std::string fake_sha256(int n) {
  static const char* kHex = "0123456789abcdef";
  std::string s(64, '0');
  unsigned v = static_cast<unsigned>(n) * 2654435761u + 1;
  for (int i = 63; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kHex[(v >> ((i % 8) * 4)) & 0xf];
    if (i % 8 == 0) v = v * 1103515245u + 12345u;
  }
  return s;
}

}  // namespace gemgate::storage::testing
