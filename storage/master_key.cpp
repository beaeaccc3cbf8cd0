#include "storage/master_key.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

namespace gemgate::storage {

namespace fs = std::filesystem;

std::string master_key_file(const MasterKeyOptions& options, const std::string& db_path) {
  if (!options.file.empty()) return options.file;
  if (db_path.empty() || db_path == ":memory:") return "";
  return (fs::path(db_path).parent_path() / "master.key").string();
}

namespace {

Result<std::string> read_small_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return Error::unavailable("cannot read master key file '" + path +
                              "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    log::warn("storage: master key file '" + path + "' is accessible by other users; chmod 600 it");
  }
  std::string text(256, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  return text;
}

Result<void> create_key_file(const std::string& path, const MasterKey& key) {
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec)
      return Error::unavailable("cannot create directory for the master key file '" + path +
                                "': " + ec.message());
    fs::permissions(parent, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  // O_EXCL: never overwrite a key another process just wrote (two gateways on one directory).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Error::unavailable("cannot create master key file '" + path +
                              "': " + std::strerror(errno));
  }
  const std::string text = key.to_hex() + "\n";
  std::size_t put = 0;
  bool ok = true;
  while (put < text.size()) {
    const ssize_t n = ::write(fd, text.data() + put, text.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    put += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;  // the key must be on disk before anything is sealed with it
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Error::unavailable("cannot write master key file '" + path + "'");
  }
  return {};
}

}  // namespace

Result<LoadedMasterKey> load_master_key(const MasterKeyOptions& options, const std::string& db_path,
                                        bool may_create) {
  if (options.env_value && !options.env_value->empty()) {
    auto key = MasterKey::from_hex(*options.env_value);
    if (!key.ok())
      return Error::invalid("GEMGATE_MASTER_KEY is not usable: " + key.error().message);
    return LoadedMasterKey{std::move(key).value(), "GEMGATE_MASTER_KEY", false};
  }
  const std::string path = master_key_file(options, db_path);
  if (path.empty()) return LoadedMasterKey{MasterKey::generate(), "an in-memory key", true};
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto text = read_small_file(path);
    if (!text.ok()) return text.error();
    auto key = MasterKey::from_hex(*text);
    if (!key.ok()) {
      return Error::invalid("master key file '" + path + "' is not usable: " + key.error().message);
    }
    return LoadedMasterKey{std::move(key).value(), "key file '" + path + "'", false};
  }
  if (!may_create) {
    return Error::invalid("the database holds encrypted pool keys but master key file '" + path +
                          "' does not exist; restore it or set GEMGATE_MASTER_KEY");
  }
  MasterKey key = MasterKey::generate();
  if (auto made = create_key_file(path, key); !made.ok()) return made.error();
  log::info("storage: created master key file '" + path +
            "' (mode 0600); back it up apart from the database");
  return LoadedMasterKey{std::move(key), "key file '" + path + "'", true};
}

}  // namespace gemgate::storage
