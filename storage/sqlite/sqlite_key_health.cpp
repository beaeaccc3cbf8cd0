// SqliteStore: key health written behind by one or several gateways sharing the database, and
// read back by the others (load_key_health). The merge rules are in store.h (save_key_health).
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>

#include "core/clock.h"
#include "storage/sqlite/sql_util.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/validate.h"

namespace gemgate::storage {

using sqlite::guarded;
using sqlite::ReadTx;
using sqlite::WriteTx;

Result<void> SqliteStore::save_key_health(const std::vector<KeyHealthRow>& health) {
  if (health.empty()) return {};
  return guarded("save_key_health", [&]() -> Result<void> {
    const Millis now = now_unix_ms();
    WriteTx tx(*db_);  // BEGIN IMMEDIATE: the read below and the writes see one state
    SQLite::Statement stored(*db_, "SELECT health_changed_at FROM keys WHERE id = ?");
    // A view as recent as the stored decision (or newer) sets the state; an older one (a gateway
    // that has not yet re-read a decision made elsewhere) only adds its usage figures.
    SQLite::Statement set_state(*db_,
                                "UPDATE keys SET disabled = ?, disabled_reason = ?, "
                                "health_changed_at = ?, consecutive_failures = ?, "
                                "last_used_at = MAX(last_used_at, ?), last_error = ?, "
                                "last_checked_at = MAX(last_checked_at, ?) WHERE id = ?");
    SQLite::Statement add_usage(*db_,
                                "UPDATE keys SET consecutive_failures = ?, "
                                "last_used_at = MAX(last_used_at, ?), last_error = ?, "
                                "last_checked_at = MAX(last_checked_at, ?) WHERE id = ?");
    SQLite::Statement clear_all(*db_, "DELETE FROM key_cooldowns WHERE key_id = ?");
    SQLite::Statement clear_ended(*db_,
                                  "DELETE FROM key_cooldowns WHERE key_id = ? AND until_ms > 0 "
                                  "AND until_ms <= ?");
    // The later end wins, with the strikes that came with it.
    SQLite::Statement upsert(*db_,
                             "INSERT INTO key_cooldowns (key_id, model, until_ms, strikes) "
                             "VALUES (?, ?, ?, ?) ON CONFLICT (key_id, model) DO UPDATE SET "
                             "strikes = CASE WHEN excluded.until_ms >= until_ms THEN "
                             "excluded.strikes ELSE strikes END, "
                             "until_ms = MAX(until_ms, excluded.until_ms)");
    for (const KeyHealthRow& h : health) {
      stored.bind(1, h.key_id);
      const bool exists = stored.executeStep();
      const Millis stored_at = exists ? stored.getColumn(0).getInt64() : 0;
      stored.reset();
      if (!exists) continue;  // deleted while its health was queued
      const std::string error = safe_text(h.last_error, kMaxErrorText);
      const int failures = std::max(h.consecutive_failures, 0);
      if (h.health_changed_at < stored_at) {
        add_usage.bind(1, failures);
        add_usage.bind(2, h.last_used_at);
        add_usage.bind(3, error);
        add_usage.bind(4, h.last_checked_at);
        add_usage.bind(5, h.key_id);
        add_usage.exec();
        add_usage.reset();
        continue;  // its cooldowns may predate the decision (a reset): the next view brings them
      }
      set_state.bind(1, h.disabled ? 1 : 0);
      set_state.bind(2, h.disabled ? safe_text(h.disabled_reason, kMaxShortText) : std::string());
      set_state.bind(3, h.health_changed_at);
      set_state.bind(4, failures);
      set_state.bind(5, h.last_used_at);
      set_state.bind(6, error);
      set_state.bind(7, h.last_checked_at);
      set_state.bind(8, h.key_id);
      set_state.exec();
      set_state.reset();
      // A newer decision replaces the list; the same one merges it with what others learned.
      SQLite::Statement& clear = h.health_changed_at > stored_at ? clear_all : clear_ended;
      clear.bind(1, h.key_id);
      if (&clear == &clear_ended) clear.bind(2, now);
      clear.exec();
      clear.reset();
      for (const ModelCooldown& c : h.cooldowns) {
        if (c.model.empty()) continue;
        upsert.bind(1, h.key_id);
        upsert.bind(2, clip_utf8(c.model, kMaxShortText));
        upsert.bind(3, c.until_ms);
        upsert.bind(4, std::max(c.strikes, 0));
        upsert.exec();
        upsert.reset();
      }
    }
    tx.commit();
    return {};
  });
}

Result<std::vector<KeyHealthRow>> SqliteStore::load_key_health() {
  return guarded("load_key_health", [&]() -> Result<std::vector<KeyHealthRow>> {
    ReadTx snapshot(*db_);
    std::vector<KeyHealthRow> rows;
    SQLite::Statement st(*db_,
                         "SELECT id, disabled, disabled_reason, consecutive_failures, "
                         "last_used_at, last_error, last_checked_at, health_changed_at "
                         "FROM keys ORDER BY id");
    while (st.executeStep()) {
      KeyHealthRow h;
      h.key_id = st.getColumn(0).getInt64();
      h.disabled = st.getColumn(1).getInt() != 0;
      h.disabled_reason = st.getColumn(2).getString();
      h.consecutive_failures = st.getColumn(3).getInt();
      h.last_used_at = st.getColumn(4).getInt64();
      h.last_error = st.getColumn(5).getString();
      h.last_checked_at = st.getColumn(6).getInt64();
      h.health_changed_at = st.getColumn(7).getInt64();
      rows.push_back(std::move(h));
    }
    SQLite::Statement cd(*db_,
                         "SELECT key_id, model, until_ms, strikes FROM key_cooldowns "
                         "ORDER BY key_id, model");
    std::size_t i = 0;
    while (cd.executeStep()) {  // both ordered by key id: one pass
      const std::int64_t id = cd.getColumn(0).getInt64();
      while (i < rows.size() && rows[i].key_id < id) ++i;
      if (i == rows.size()) break;
      if (rows[i].key_id != id) continue;
      rows[i].cooldowns.push_back(
          {cd.getColumn(1).getString(), cd.getColumn(2).getInt64(), cd.getColumn(3).getInt()});
    }
    return rows;
  });
}

}  // namespace gemgate::storage
