// PgChangeFeed (see pg_change_feed.h): connect, LISTEN, poll the socket with a timeout so stop()
// is noticed, hand each notification's topic to the listener, reconnect with backoff.
#include "storage/postgres/pg_change_feed.h"

#include <libpq-fe.h>
#include <poll.h>

#include "core/log.h"
#include "storage/postgres/pg_conn.h"

namespace gemgate::storage {
namespace {

constexpr std::chrono::milliseconds kPollInterval{200};
constexpr std::chrono::milliseconds kHeartbeat{10'000};
constexpr std::chrono::milliseconds kFirstBackoff{250};
constexpr std::chrono::milliseconds kMaxBackoff{5'000};

}  // namespace

PgChangeFeed::PgChangeFeed(std::string conninfo) : conninfo_(std::move(conninfo)) {}

PgChangeFeed::~PgChangeFeed() {
  stop();
  std::fill(conninfo_.begin(), conninfo_.end(), '\0');
}

Result<void> PgChangeFeed::start(Listener listener) {
  if (thread_.joinable()) return Error::invalid("change feed already started");
  char* err = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo_.c_str(), &err);
  if (parsed == nullptr) {
    if (err != nullptr) PQfreemem(err);
    return Error::invalid("DATABASE_URL is not a valid PostgreSQL connection string");
  }
  PQconninfoFree(parsed);
  listener_ = std::move(listener);
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return {};
}

void PgChangeFeed::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool PgChangeFeed::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !wake_.wait_for(lock, d, [this] { return stopping_.load(); });
}

void PgChangeFeed::run() {
  std::chrono::milliseconds backoff{0};
  bool warned = false;
  while (!stopping_) {
    pg::ConnectOptions options;
    options.application_name = "gemgate-feed";
    auto conn = pg::Connection::open(conninfo_, options);
    auto listening = conn.ok() ? (*conn)->exec_script(std::string("LISTEN ") + kChangeChannel)
                               : Result<void>(conn.error());
    if (!listening.ok()) {
      if (!warned) {
        log::warn("storage: change feed cannot listen (" + listening.error().message +
                  "); retrying in the background");
        warned = true;
      }
      backoff = std::min(kMaxBackoff, backoff.count() == 0 ? kFirstBackoff : backoff * 2);
      if (!sleep_for(backoff)) return;
      continue;
    }
    if (warned) log::info("storage: change feed listening again");
    warned = false;
    backoff = std::chrono::milliseconds{0};
    ++connects_;
    listener_(ChangeTopic::kAll);  // what changed while not listening is unknown
    pg::Connection& c = **conn;
    auto last_traffic = std::chrono::steady_clock::now();
    while (!stopping_) {
      pollfd pfd{c.socket(), POLLIN, 0};
      if (pfd.fd < 0) break;
      const int ready = ::poll(&pfd, 1, static_cast<int>(kPollInterval.count()));
      if (ready < 0 && errno != EINTR) break;
      if (ready > 0) {
        if (PQconsumeInput(c.raw()) == 0) break;  // the server went away
        last_traffic = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - last_traffic > kHeartbeat) {
        // An idle link can die silently (keepalives catch it too, later): ask something.
        if (!c.exec_script("SELECT 1").ok()) break;
        last_traffic = std::chrono::steady_clock::now();
      }
      while (PGnotify* n = PQnotifies(c.raw())) {
        const auto topic = change_topic_from_name(n->extra != nullptr ? n->extra : "");
        PQfreemem(n);
        if (topic) listener_(*topic);  // a topic of a newer instance is ignored
      }
      if (PQstatus(c.raw()) != CONNECTION_OK) break;
    }
    if (!stopping_) {
      log::warn("storage: change feed lost its database connection; reconnecting");
      warned = true;
    }
  }
}

}  // namespace gemgate::storage
